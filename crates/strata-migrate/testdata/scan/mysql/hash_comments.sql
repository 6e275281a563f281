# Header comment, detached by the blank line.

# Attached hash comment.
-- Attached dash comment.
CREATE TABLE t (
  id INT # inside the statement: kept
);
SELECT 1; # attached to the next statement
SELECT 2;
#no space after the hash
--no space after the dashes either
SELECT 3;
