-- Dollar-quoted bodies: semicolons inside them do not end the statement.
CREATE FUNCTION add(a integer, b integer) RETURNS integer AS $$
  SELECT a + b;
$$ LANGUAGE sql;

CREATE OR REPLACE FUNCTION touch() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF NEW.updated_at IS NULL THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END;
$fn$;

-- A $$ inside a $body$ quote does not close it.
CREATE FUNCTION quoted() RETURNS text AS $body$
  SELECT $$;$$ || 'x;';
$body$ LANGUAGE sql;

-- $1 is a parameter, not a dollar quote.
PREPARE q(int) AS SELECT * FROM t WHERE id = $1;
EXECUTE q(1);
SELECT $été$ ; $été$;
