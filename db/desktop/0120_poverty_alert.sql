-- 因病返贫 early warning (issue 16): a person in a watched category whose personal burden
-- this year reached the line the county's policy file sets. One per person and year; sent
-- to the county (outbox op poverty_alert.raise), which lists it for the civil-affairs office.
CREATE TABLE poverty_alert (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES person(id),
    year        INTEGER NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    category    TEXT NOT NULL,
    burden      TEXT NOT NULL,       -- yuan "12345.60": this year's personal burden
    threshold   TEXT NOT NULL,       -- the line it reached
    basis       TEXT NOT NULL,       -- where the burden comes from (settled estimates / county)
    policy_id   TEXT NOT NULL,
    operator_id TEXT REFERENCES operator(id),
    created_at  TEXT NOT NULL,
    UNIQUE (person_id, year)
);
