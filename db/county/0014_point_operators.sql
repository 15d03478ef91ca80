-- The console's page of one service point: its villages (from the households it holds)
-- and the operators who have synced from its desks (recorded when a desk asks for a token
-- with a person logged in; the unattended scheduled sync is not a person).
CREATE INDEX household_home_sp ON household(home_sp_id);

CREATE TABLE sp_operator (
    sp_id        text NOT NULL REFERENCES service_point(id),
    operator_id  text NOT NULL,
    name         text NOT NULL,
    device_id    text NOT NULL REFERENCES device(id),
    first_seen   timestamptz NOT NULL DEFAULT now(),
    last_seen    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sp_id, operator_id)
);
