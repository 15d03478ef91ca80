-- Issue 14 item 2: repeated wrong passwords first delay, then lock the account until a
-- supervisor unlocks it. A successful log-in clears the count.
ALTER TABLE operator ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE operator ADD COLUMN last_failed_at TEXT;
ALTER TABLE operator ADD COLUMN locked INTEGER NOT NULL DEFAULT 0;
