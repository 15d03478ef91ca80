-- What each desk last reported with its pull (the console's device list): operations still
-- waiting on the PC and the code of its last failed sync ('' when it went well).
ALTER TABLE device ADD COLUMN reported_pending integer;
ALTER TABLE device ADD COLUMN reported_error text;
ALTER TABLE device ADD COLUMN reported_at timestamptz;
