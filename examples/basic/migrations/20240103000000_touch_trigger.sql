-- Keep a per-user post count; the trigger body holds semicolons inside BEGIN ... END.
ALTER TABLE users ADD COLUMN post_count INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER posts_count AFTER INSERT ON posts
BEGIN
  UPDATE users SET post_count = post_count + 1 WHERE id = NEW.user_id;
END;
