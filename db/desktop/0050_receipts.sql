-- Desktop store, migration 0050 (issue 5): receipt numbering, receipt snapshots, print log.
-- Receipt numbers: <service point code>-<device no, 2 digits>-<counter, 8 digits>, e.g.
-- SP01-01-00000042. The counter per scope (code + device) lives here AND in a high-water
-- mark file outside the database (see desktop/store/numbering.py), so a crash or the
-- restore of an older backup never hands out a number twice.

CREATE TABLE receipt_counter (
    scope      TEXT PRIMARY KEY,              -- service point code + device no, e.g. SP01-01
    last_seq   INTEGER NOT NULL CHECK (last_seq >= 0),
    updated_at TEXT NOT NULL
);

-- Every number handed out, with what it was handed out for (one row per number).
CREATE TABLE receipt_number (
    receipt_no  TEXT PRIMARY KEY,
    scope       TEXT NOT NULL,
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    issued_at   TEXT NOT NULL,
    operator_id TEXT,
    entity      TEXT NOT NULL,                -- e.g. payment
    entity_id   TEXT,
    UNIQUE (scope, seq)
);
CREATE INDEX receipt_number_entity ON receipt_number(entity, entity_id);
CREATE TRIGGER receipt_number_no_delete BEFORE DELETE ON receipt_number
BEGIN
    SELECT RAISE(ABORT, 'receipt numbers are never deleted');
END;
CREATE TRIGGER receipt_number_no_update BEFORE UPDATE OF receipt_no, scope, seq ON receipt_number
BEGIN
    SELECT RAISE(ABORT, 'receipt numbers are never changed');
END;

-- The content of a document as first issued (JSON from core.receipt), so that a
-- reprint (补打) shows exactly what the original showed.
CREATE TABLE document_snapshot (
    doc_kind    TEXT NOT NULL CHECK (doc_kind IN ('receipt', 'certificate', 'estimate', 'day_sheet')),
    doc_key     TEXT NOT NULL,                -- receipt_no / enrollment id / estimate id / operator:date
    content     TEXT NOT NULL,                -- canonical JSON
    created_at  TEXT NOT NULL,
    operator_id TEXT,
    PRIMARY KEY (doc_kind, doc_key)
);

-- Every attempt to print or save a document. Only status 'printed' counts as a copy
-- handed out; copy_no 1 is the original, 2.. are reprints marked 补打.
CREATE TABLE print_log (
    id          TEXT PRIMARY KEY,
    doc_kind    TEXT NOT NULL CHECK (doc_kind IN ('receipt', 'certificate', 'estimate', 'day_sheet')),
    doc_key     TEXT NOT NULL,
    copy_no     INTEGER NOT NULL CHECK (copy_no >= 1),
    status      TEXT NOT NULL CHECK (status IN ('printed', 'failed', 'saved')),
    printer     TEXT NOT NULL DEFAULT '',
    at          TEXT NOT NULL,
    operator_id TEXT,
    error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX print_log_doc ON print_log(doc_kind, doc_key, status);
