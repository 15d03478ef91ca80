-- County year-to-date figures per person and year (import-ytd; entity "ytd" on the
-- service points' streams) and one receipt verification key per service point (handed to
-- a device at registration; `township-county receipt verify` checks codes with it).
CREATE TABLE person_ytd (
    person_id  text NOT NULL REFERENCES person(id),
    year       integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    version    integer NOT NULL DEFAULT 1,
    as_of      text NOT NULL,            -- ISO 8601 time the county's figures were taken
    figures    jsonb NOT NULL,           -- field → "0.00" (syncproto.YTD_FIELDS)
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, year)
);

CREATE TABLE receipt_key (
    sp_id      text PRIMARY KEY REFERENCES service_point(id),
    key_id     text NOT NULL UNIQUE CHECK (key_id !~ '[|]' AND length(key_id) BETWEEN 1 AND 32),
    key_hex    text NOT NULL CHECK (key_hex ~ '^[0-9a-f]{64}$'),
    created_at timestamptz NOT NULL DEFAULT now()
);

-- service points created before this migration get their key now (gen_random_uuid is a
-- strong random source: two of them give 244 random bits)
INSERT INTO receipt_key(sp_id, key_id, key_hex)
SELECT id, 'C-' || code,
       replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', '')
FROM service_point;
