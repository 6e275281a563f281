-- Atlas closes a BEGIN ATOMIC body at the first inner statement that starts
-- with END, even inside a longer word: endless_loop() closes it here.
CREATE PROCEDURE p() LANGUAGE SQL BEGIN ATOMIC
  UPDATE t SET x = 1;
  endless_loop();
END;
