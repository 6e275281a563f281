DELIMITER ;;
CREATE TABLE a (id INT);;
DELIMITER '$'
CREATE TABLE b (id INT)$
DELIMITER ;
delimiterX is not a command;
