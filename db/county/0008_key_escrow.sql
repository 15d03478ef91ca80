-- A replacement PC (issue 14): each desk escrows its data folder's key with the county
-- (sealed, county/sealing.py); a one-time recovery code, issued by the county for that
-- device, hands it to the replacement PC together with a new device credential.
ALTER TABLE device ADD COLUMN escrow_folder text;
ALTER TABLE device ADD COLUMN escrow_key text;
ALTER TABLE device ADD COLUMN escrowed_at timestamptz;
CREATE TABLE recovery_code (
    code_sha256 text PRIMARY KEY,
    device_id   text NOT NULL REFERENCES device(id),
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
-- receipt keys are sealed at rest from now on (county/sealing.py): no longer plain hex
ALTER TABLE receipt_key DROP CONSTRAINT IF EXISTS receipt_key_key_hex_check;
