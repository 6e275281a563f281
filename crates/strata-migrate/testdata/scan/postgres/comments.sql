-- File header, detached by the blank line below.

-- Attached to the first statement.
/* Also attached. */
CREATE TABLE t1 (
  id int, -- a comment inside a statement stays in its text
  /* so does this one; with a semicolon */
  name text
);
SELECT 1; -- after a statement: attached to the next one
SELECT 2;

/*
 * A multi-line block comment,
 * attached: no blank line follows it.
 */
SELECT 3;
/* detached block */

SELECT 4;
-- A group is dropped as a whole
-- when a blank line follows its last comment.

SELECT 5 # not a comment in PostgreSQL
;
SELECT c #>> '{a}' FROM t;
-- atlas:nolint DS102
DROP TABLE t1;
