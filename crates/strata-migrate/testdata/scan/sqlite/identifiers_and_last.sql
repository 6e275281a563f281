CREATE TABLE begin_end (begin INT, "end" INT); -- trailing
/* block
   comment */
INSERT INTO begin_end VALUES (1, 2);
SELECT begin FROM begin_end
