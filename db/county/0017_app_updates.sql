-- Application updates through the county (issue 17): the releases the county mirrors (the
-- files themselves are in the updates folder, signed by the project: the desks verify them),
-- which version each service point may install ('*' = every point not named; a NULL version
-- holds the points back on what they run), and what each desk last said of its update.
CREATE TABLE update_release (
    version     text PRIMARY KEY,
    archive     text NOT NULL,
    length      bigint NOT NULL,
    imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE update_offer (
    scope   text PRIMARY KEY,           -- '*' or a service_point id
    version text REFERENCES update_release(version),
    set_at  timestamptz NOT NULL DEFAULT now(),
    set_by  text NOT NULL DEFAULT ''
);

ALTER TABLE device ADD COLUMN reported_update text NOT NULL DEFAULT '';
