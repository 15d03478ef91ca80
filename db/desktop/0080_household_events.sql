-- Issue 12: household life events at the window (户主变更, 迁入其他户, 分户, 合户, 终止参保,
-- 恢复参保, 补登身份证号, 更正身份证号). Each event is one transaction: the changed rows (with
-- their audit entries and outbox ops) and one row here, never changed or deleted — a
-- mistake is undone by another event.
CREATE TABLE person_event (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,          -- change_head | move | split | merge | terminate | restore | assign_id | correct_id
    household_id TEXT,                   -- the household the event is about (the target of a move or merge)
    from_household_id TEXT,              -- the household a person left (move, split, merge)
    person_ids   TEXT NOT NULL,          -- JSON list of the persons it changed
    happened_on  TEXT,                   -- YYYY-MM-DD: date of death, exit, return
    reason       TEXT NOT NULL DEFAULT '',
    effect       TEXT NOT NULL,          -- JSON list of the lines the clerk confirmed
    operator_id  TEXT REFERENCES operator(id),
    created_at   TEXT NOT NULL
);
CREATE INDEX person_event_household ON person_event(household_id, created_at);
CREATE TRIGGER person_event_no_update BEFORE UPDATE ON person_event
BEGIN
    SELECT RAISE(ABORT, 'household events are never changed (record another event)');
END;
CREATE TRIGGER person_event_no_delete BEFORE DELETE ON person_event
BEGIN
    SELECT RAISE(ABORT, 'household events are never deleted (record another event)');
END;

-- A person who left the scheme: why and since when (status 3 = 终止参保).
ALTER TABLE person ADD COLUMN exit_reason TEXT;
ALTER TABLE person ADD COLUMN exit_date TEXT;
-- A household merged into another (合户) keeps its row and points to where its members went.
ALTER TABLE household ADD COLUMN merged_into TEXT;

-- Certificate numbers a person carried before (出生医学证明 before the ID card, a wrongly
-- entered number): the person is found by them and they are never given to anyone else.
CREATE TABLE person_cert_history (
    person_id  TEXT NOT NULL REFERENCES person(id),
    cert_type  TEXT NOT NULL,
    cert_no    TEXT NOT NULL,
    replaced_at TEXT NOT NULL,
    event_id   TEXT NOT NULL REFERENCES person_event(id),
    PRIMARY KEY (cert_type, cert_no, person_id)
);
CREATE INDEX person_cert_history_no ON person_cert_history(cert_no);

-- A payment for a year after the person left (paid in advance before a death, an exit):
-- a supervisor refunds it with the usual refund (退费), which closes the task.
CREATE TABLE refund_task (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES person(id),
    payment_id  TEXT NOT NULL REFERENCES payment(id),
    year        INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    event_id    TEXT NOT NULL REFERENCES person_event(id),
    created_at  TEXT NOT NULL,
    UNIQUE (payment_id)
);
