-- 因病返贫 warnings the desks raise (issue 16): a person in a watched category whose
-- personal burden this year reached the county's line. One per person and year (the first
-- desk's stands); the console lists them, and a case worker marks them handed to civil
-- affairs (推送民政).
CREATE TABLE poverty_alert (
    id           text PRIMARY KEY,
    person_id    text NOT NULL REFERENCES person(id),
    sp_id        text NOT NULL REFERENCES service_point(id),
    device_id    text NOT NULL REFERENCES device(id),
    year         integer NOT NULL,
    category     text NOT NULL,
    burden       numeric(14, 2) NOT NULL,
    threshold    numeric(14, 2) NOT NULL,
    basis        text NOT NULL DEFAULT '',
    raised_at    text NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    handed_at    timestamptz,
    handed_by    text,
    handed_note  text
);
CREATE UNIQUE INDEX poverty_alert_person_year ON poverty_alert(person_id, year);
