BEGIN;
CREATE TABLE a (id int);
COMMIT;

BEGIN TRANSACTION;
INSERT INTO a VALUES (1);
COMMIT;

-- END closes a BEGIN block, so this transaction is one statement for Atlas.
begin isolation level serializable;
UPDATE a SET id = 2;
END;
