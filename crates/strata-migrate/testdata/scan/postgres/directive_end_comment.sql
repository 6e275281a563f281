-- atlas:delimiter -- end
CREATE FUNCTION g() RETURNS trigger AS $$
BEGIN
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;
-- end
-- Attached to the trigger.
CREATE TRIGGER g BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION g();
-- end
