-- Inner statements that merely start with END do not close the block.
CREATE TRIGGER audit AFTER DELETE ON t
BEGIN
  INSERT INTO log VALUES ('deleted');
  END IF;
  END LOOP;
END;
SELECT 1;
