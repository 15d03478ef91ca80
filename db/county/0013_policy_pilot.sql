-- A policy file published to chosen service points only (a pilot, or a rule for some
-- townships): the version those points hold, sent on their own streams. Versions share
-- one sequence per policy with the county-wide row in `policy`, so a desk keeps whichever
-- is newer; publishing to every point afterwards replaces the pilots.
CREATE TABLE policy_pilot (
    policy_id    text NOT NULL,
    sp_id        text NOT NULL REFERENCES service_point(id),
    version      integer NOT NULL,
    region       text NOT NULL,
    year         integer NOT NULL,
    title        text NOT NULL,
    source       text NOT NULL,
    toml         text NOT NULL,
    sha256       text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (policy_id, sp_id)
);

-- the service points a publication went to (NULL: every point)
ALTER TABLE policy_history ADD COLUMN sp_names text[];
