-- Desktop store, migration 0001: service point, operators, households, persons,
-- enrollments, the append-only audit log and the outbox of operations for the county.
-- Keys are client-generated UUIDs (text). Times are ISO 8601 with offset.
-- Migration numbers by area: 00xx foundation, 003x estimates, 004x contributions,
-- 005x receipts, 006x sync, 007x operations (backups, settings).

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE service_point (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,                 -- county-issued code, used in receipt numbers
    name        TEXT NOT NULL,
    region_code TEXT NOT NULL CHECK (length(region_code) = 6 AND region_code GLOB '[0-9][0-9][0-9][0-9][0-9][0-9]'),
    device_no   INTEGER NOT NULL DEFAULT 1 CHECK (device_no BETWEEN 1 AND 99),
    created_at  TEXT NOT NULL
);

CREATE TABLE village (
    id               TEXT PRIMARY KEY,
    service_point_id TEXT NOT NULL REFERENCES service_point(id),
    code             TEXT,
    name             TEXT NOT NULL,
    UNIQUE (service_point_id, name)
);

CREATE TABLE operator (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('clerk', 'supervisor')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE household (
    id             TEXT PRIMARY KEY,
    household_no   TEXT,                       -- 户号 from the household register, if known
    village_id     TEXT REFERENCES village(id),
    address        TEXT NOT NULL DEFAULT '',
    hukou_type     TEXT NOT NULL DEFAULT 'rural',   -- rural | urban
    head_person_id TEXT,                       -- person.id of the head (户主)
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    version        INTEGER NOT NULL DEFAULT 1, -- local edit counter
    server_version INTEGER,                    -- version last seen from the county, NULL = never synced
    origin         TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'county'))
);

CREATE TABLE person (
    id               TEXT PRIMARY KEY,
    household_id     TEXT REFERENCES household(id),
    relation         TEXT NOT NULL DEFAULT 'head', -- see core.categories.RELATIONS
    name             TEXT NOT NULL,
    name_pinyin      TEXT NOT NULL DEFAULT '',     -- full pinyin, lower case, no spaces
    name_initials    TEXT NOT NULL DEFAULT '',     -- pinyin initials, lower case (zs for 张三)
    cert_type        TEXT NOT NULL DEFAULT 'resident_id',
    cert_no          TEXT NOT NULL,
    sex              TEXT NOT NULL CHECK (sex IN ('male', 'female')),
    birth_date       TEXT NOT NULL,
    ethnicity        TEXT NOT NULL DEFAULT '01',   -- GB 3304 code
    phone            TEXT NOT NULL DEFAULT '',
    address          TEXT NOT NULL DEFAULT '',
    insured_category TEXT NOT NULL DEFAULT 'ordinary',
    subsidy_category TEXT NOT NULL DEFAULT 'none',
    region_code      TEXT NOT NULL,                -- 医保区划
    status           INTEGER NOT NULL DEFAULT 1 CHECK (status IN (0, 1, 2, 3)),
    ecert_activated  INTEGER NOT NULL DEFAULT 0,   -- 医保电子凭证 activated
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    created_by       TEXT REFERENCES operator(id),
    version          INTEGER NOT NULL DEFAULT 1,
    server_version   INTEGER,
    origin           TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'county'))
);
CREATE INDEX person_cert_no ON person(cert_no);
CREATE INDEX person_name ON person(name);
CREATE INDEX person_initials ON person(name_initials);
CREATE INDEX person_household ON person(household_id);

CREATE TABLE enrollment (
    id               TEXT PRIMARY KEY,
    person_id        TEXT NOT NULL REFERENCES person(id),
    year             INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),  -- 参保年度
    insurance_type   TEXT NOT NULL DEFAULT '390',
    insured_category TEXT NOT NULL,
    subsidy_category TEXT NOT NULL DEFAULT 'none',
    status           TEXT NOT NULL DEFAULT 'registered',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1,
    server_version   INTEGER,
    origin           TEXT NOT NULL DEFAULT 'local' CHECK (origin IN ('local', 'county')),
    UNIQUE (person_id, year)
);
CREATE INDEX enrollment_year ON enrollment(year, person_id);

-- Append-only, hash-chained: hash = sha256(prev_hash || canonical JSON of the row).
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    operator_id TEXT,
    action      TEXT NOT NULL,        -- e.g. person.create, person.update, payment.record, print
    entity      TEXT NOT NULL,
    entity_id   TEXT,
    detail      TEXT NOT NULL,        -- JSON: before/after or other facts
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL UNIQUE
);
CREATE INDEX audit_entity ON audit_log(entity, entity_id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

-- Operations for the county, written in the same transaction as the change (sync design).
CREATE TABLE outbox (
    device_seq     INTEGER PRIMARY KEY,          -- gapless per device (max + 1 inside the write tx)
    op_id          TEXT NOT NULL UNIQUE,         -- UUID
    op_type        TEXT NOT NULL,                -- e.g. person.create, enrollment.create, payment.record
    entity_id      TEXT NOT NULL,
    base_version   INTEGER,                      -- server version the op edits, if any
    payload        TEXT NOT NULL,                -- canonical JSON
    payload_sha256 TEXT NOT NULL,
    operator_id    TEXT,
    created_at     TEXT NOT NULL,
    first_sent_at  TEXT,                         -- set when the first send starts; the op is then immutable
    status         TEXT NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'applied', 'duplicate', 'merged', 'rejected', 'conflict')),
    result         TEXT,                         -- JSON result from the server
    acked_at       TEXT
);
CREATE INDEX outbox_status ON outbox(status, device_seq);
CREATE TRIGGER outbox_immutable BEFORE UPDATE OF op_id, op_type, entity_id, base_version, payload, payload_sha256, operator_id, created_at, device_seq ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox operations are immutable');
END;
CREATE TRIGGER outbox_no_delete BEFORE DELETE ON outbox
BEGIN
    SELECT RAISE(ABORT, 'outbox operations are never deleted');
END;
