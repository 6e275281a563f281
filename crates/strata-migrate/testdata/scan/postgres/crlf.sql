-- Comments keep their carriage return.
CREATE TABLE t (
  id int
);

-- Still attached: Atlas detaches on a newline right after the comment,
-- and here a carriage return comes first.

SELECT 1;
