-- Issue 6 (sync, desktop side): device registration, per-stream cursors, the resumable
-- first-sync snapshot, the mirror of server rows (kept apart from local changes), the
-- conflict / notice inbox, person aliases and a log of sync runs.

-- This device as registered with the county (one row). The secret credential is NOT here:
-- it lives in the OS keyring under the device id.
CREATE TABLE sync_device (
    id                 INTEGER PRIMARY KEY CHECK (id = 1),
    server_url         TEXT NOT NULL,
    device_id          TEXT NOT NULL,
    service_point_id   TEXT,                    -- the county's id of our service point
    service_point_code TEXT,
    registered_at      TEXT NOT NULL,
    snapshot_done      INTEGER NOT NULL DEFAULT 0,   -- first-sync snapshot complete
    snapshot_state     TEXT                          -- JSON: where a broken snapshot resumes
);

-- Pull cursors, one per stream; stored in the same transaction as the page they end.
CREATE TABLE sync_cursor (
    stream     TEXT PRIMARY KEY,
    cursor     TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

-- Server state as it arrived: full rows with the server's version. A row is replaced only
-- by a newer version (delivery is at-least-once). Local tables are projected from here
-- when no local change is pending for the row.
CREATE TABLE server_row (
    entity     TEXT NOT NULL,                  -- person, household, enrollment, payment, policy …
    id         TEXT NOT NULL,
    stream     TEXT NOT NULL,
    version    INTEGER NOT NULL,
    removed    INTEGER NOT NULL DEFAULT 0,
    data       TEXT NOT NULL,                  -- canonical JSON
    seq        INTEGER,                        -- server sequence it arrived with
    received_at TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE INDEX server_row_stream ON server_row(stream, entity);

-- A person id this desktop created that the county merged into another person.
CREATE TABLE person_alias (
    alias_id     TEXT PRIMARY KEY,
    canonical_id TEXT NOT NULL,
    source       TEXT NOT NULL,                -- push-result | pull
    created_at   TEXT NOT NULL
);
CREATE INDEX person_alias_canonical ON person_alias(canonical_id);

-- What a person must see: rejected operations, conflicts, merges, county notices.
CREATE TABLE sync_inbox (
    id          TEXT PRIMARY KEY,              -- notice id from the county, or op id for local ones
    kind        TEXT NOT NULL,                 -- rejected | conflict | merged | notice | refused
    severity    TEXT NOT NULL DEFAULT 'warn' CHECK (severity IN ('info', 'warn', 'error')),
    op_id       TEXT,
    entity      TEXT,
    entity_id   TEXT,
    title       TEXT NOT NULL,                 -- what happened (Chinese)
    action      TEXT NOT NULL,                 -- what to do (Chinese)
    detail      TEXT NOT NULL DEFAULT '{}',    -- JSON from the county / the result
    created_at  TEXT NOT NULL,
    resolved_at TEXT,
    resolved_by TEXT
);
CREATE INDEX sync_inbox_open ON sync_inbox(resolved_at, created_at);

-- One line per sync attempt (for the page and for technicians).
CREATE TABLE sync_run (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    trigger     TEXT NOT NULL DEFAULT 'manual',   -- manual | timer | startup | cli
    pushed      INTEGER NOT NULL DEFAULT 0,
    pulled      INTEGER NOT NULL DEFAULT 0,
    round_trips INTEGER NOT NULL DEFAULT 0,
    bytes_sent  INTEGER NOT NULL DEFAULT 0,
    bytes_received INTEGER NOT NULL DEFAULT 0,
    outcome     TEXT,                            -- ok | failed | cancelled
    message     TEXT
);
