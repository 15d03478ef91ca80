-- Console imports run on a background thread (a 20 MB roster takes minutes): the page
-- shows rows done out of rows read until the report is ready. A job left 'running' by a
-- server that stopped is marked 'interrupted' at the next start (chunks already committed
-- stay; importing the same file again only shows them as unchanged).
CREATE TABLE import_job (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    filename    text NOT NULL DEFAULT '',
    upload      text NOT NULL,
    dry_run     boolean NOT NULL,
    staff_id    bigint REFERENCES staff(id),
    state       text NOT NULL DEFAULT 'reading'
                CHECK (state IN ('reading', 'running', 'done', 'failed', 'interrupted')),
    total       integer,
    done_rows   integer NOT NULL DEFAULT 0,
    report      jsonb,
    error       text,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX import_job_started ON import_job(started_at);
-- an upload is applied once (two clicks at once: the second is refused)
CREATE UNIQUE INDEX import_job_apply_once ON import_job(upload) WHERE NOT dry_run;
