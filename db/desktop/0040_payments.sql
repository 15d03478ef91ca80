-- Issue 4 (contributions): payments collected at the window (代收), the terms computed for
-- each enrollment year, and the county's confirmation (tax bureau) arriving by sync.
-- Money is TEXT holding a Decimal with two places ("400.00"); never REAL.

CREATE TABLE payment (
    id              TEXT PRIMARY KEY,
    person_id       TEXT NOT NULL REFERENCES person(id),
    enrollment_id   TEXT REFERENCES enrollment(id),
    year            INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),   -- 参保年度
    policy_id       TEXT NOT NULL,
    amount          TEXT NOT NULL,                 -- paid by the person, yuan "400.00"
    amount_due      TEXT NOT NULL,                 -- what the policy asked for (equal at recording)
    channel         TEXT NOT NULL CHECK (channel IN ('cash', 'qr', 'bank')),
    paid_on         TEXT NOT NULL,                 -- YYYY-MM-DD
    operator_id     TEXT REFERENCES operator(id),
    receipt_no      TEXT UNIQUE,
    status          TEXT NOT NULL DEFAULT 'local'
                    CHECK (status IN ('local', 'confirmed', 'voided', 'refunded')),
    void_reason     TEXT,                          -- voided / refunded: why
    supervisor_id   TEXT REFERENCES operator(id),  -- voided / refunded: who allowed it
    voided_at       TEXT,
    confirmed_at    TEXT,                          -- county (tax bureau) confirmation
    confirmed_ref   TEXT,                          -- the county's reference for it
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1,
    server_version  INTEGER,
    origin          TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'county'))
);
-- at most one live (not voided/refunded) payment per person and year: no double payment
CREATE UNIQUE INDEX payment_live ON payment(person_id, year) WHERE status IN ('local', 'confirmed');
CREATE INDEX payment_person ON payment(person_id, year);
CREATE INDEX payment_year_status ON payment(year, status);
CREATE TRIGGER payment_no_delete BEFORE DELETE ON payment
BEGIN
    SELECT RAISE(ABORT, 'payments are never deleted (void or refund them)');
END;

-- The terms computed when the year was paid (or subsidized), for status, receipt and sync.
ALTER TABLE enrollment ADD COLUMN policy_id TEXT;
ALTER TABLE enrollment ADD COLUMN amount_due TEXT;
ALTER TABLE enrollment ADD COLUMN subsidized_amount TEXT;
ALTER TABLE enrollment ADD COLUMN subsidized_by TEXT;
ALTER TABLE enrollment ADD COLUMN benefits_from TEXT;
ALTER TABLE enrollment ADD COLUMN benefits_to TEXT;
ALTER TABLE enrollment ADD COLUMN waiting_unit TEXT;           -- days | months
ALTER TABLE enrollment ADD COLUMN waiting INTEGER;
ALTER TABLE enrollment ADD COLUMN continuous_years INTEGER;
ALTER TABLE enrollment ADD COLUMN incentive_raise TEXT;
ALTER TABLE enrollment ADD COLUMN terms_json TEXT;             -- Result.as_dict() with reasons
ALTER TABLE enrollment ADD COLUMN county_confirmed_at TEXT;    -- county confirmation of the year
