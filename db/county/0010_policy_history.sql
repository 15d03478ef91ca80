-- What was published when, and by whom (the console's policy history; the CLI too).
CREATE TABLE policy_history (
    id           bigserial PRIMARY KEY,
    policy_id    text NOT NULL,
    version      integer NOT NULL,
    title        text NOT NULL,
    year         integer NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    published_by text NOT NULL DEFAULT ''
);
INSERT INTO policy_history(policy_id, version, title, year, published_at, published_by)
    SELECT id, version, title, year, published_at, 'township-county' FROM policy;
