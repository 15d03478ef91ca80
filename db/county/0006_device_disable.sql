-- Remote disable (issue 14): the county disables a device (lost, stolen, retired). At its next
-- contact the device pushes what it still holds, erases its personal data and says so; then
-- it is revoked. disabled_reason: 'lost' | 'retired'.
ALTER TABLE device ADD COLUMN disabled_at timestamptz;
ALTER TABLE device ADD COLUMN disabled_reason text;
ALTER TABLE device ADD COLUMN wiped_at timestamptz;
