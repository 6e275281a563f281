INSERT INTO t VALUES ('It\'s; fine', "say \"hi;\"");
INSERT INTO t VALUES ('C:\\'), ('tab\there;');
SELECT `weird;name`, `a``b` FROM t;
SELECT 'x' 'y;';
