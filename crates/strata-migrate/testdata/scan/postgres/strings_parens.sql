CREATE TABLE "semi;colon" (
  "a;b" text DEFAULT 'x;y',
  c int CHECK (c IN (1, 2, (3))),
  d text DEFAULT ('(' || ')')
);
INSERT INTO "semi;colon" ("a;b") VALUES ('it''s;'), ($$;$$);
-- The last statement has no delimiter.
CREATE INDEX i ON "semi;colon" ((lower("a;b")))
