-- atlas:delimiter \n\n
SELECT 1

SELECT 2
