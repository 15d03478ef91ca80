-- Issue 3 (estimates): saved reimbursement estimates and year-to-date figures.
-- An estimate is for a registered person or anonymous (person_id NULL, a free label).
-- input_json / result_json are the engine's canonical JSON (money as strings);
-- the money columns repeat the result for listing. The clerk marks an estimate settled
-- once the hospital settled the bill the same way; settled estimates feed the person's
-- year-to-date figures (本年已报销) for the next estimate.
CREATE TABLE estimate (
    id              TEXT PRIMARY KEY,
    person_id       TEXT REFERENCES person(id),    -- NULL = anonymous estimate
    anon_label      TEXT NOT NULL DEFAULT '',      -- what the clerk noted for an anonymous one
    policy_id       TEXT NOT NULL,
    year            INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),  -- year of the bill
    setting         TEXT NOT NULL,                 -- inpatient | outpatient | pharmacy | chronic | dabing | assistance
    input_json      TEXT NOT NULL,
    result_json     TEXT NOT NULL,
    medfee_sumamt   TEXT,
    fund_pay_sumamt TEXT,
    psn_part_amt    TEXT,
    settled         INTEGER NOT NULL DEFAULT 0 CHECK (settled IN (0, 1)),
    settled_at      TEXT,
    settled_by      TEXT REFERENCES operator(id),
    operator_id     TEXT NOT NULL REFERENCES operator(id),
    created_at      TEXT NOT NULL
);
CREATE INDEX estimate_person_year ON estimate(person_id, year, settled);
CREATE INDEX estimate_created ON estimate(created_at);

-- Year-to-date figures as the county knows them (filled by sync, or by a supervisor from a
-- county statement). ``as_of`` is when the county's figure was taken: settled local
-- estimates after it are added on top.
CREATE TABLE person_ytd (
    person_id  TEXT NOT NULL REFERENCES person(id),
    year       INTEGER NOT NULL,
    field      TEXT NOT NULL,     -- a year-to-date field of the estimator (basic_paid_ytd …)
    amount     TEXT NOT NULL,     -- Decimal yuan as text
    as_of      TEXT NOT NULL,
    source     TEXT NOT NULL DEFAULT 'county',
    PRIMARY KEY (person_id, year, field)
);
