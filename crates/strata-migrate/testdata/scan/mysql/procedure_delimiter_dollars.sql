-- Comments before DELIMITER are dropped with the command.
DELIMITER $$
CREATE PROCEDURE fill(IN n INT)
BEGIN
  DECLARE i INT DEFAULT 0;
  WHILE i < n DO
    INSERT INTO t VALUES (i);
    SET i = i + 1;
  END WHILE;
END$$
-- Attached to the function.
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC
RETURN x * 2$$
DELIMITER ;
CALL fill(3);
