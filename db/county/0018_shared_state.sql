-- Issue 18: the server runs as several worker processes; nothing one worker needs may live
-- in another's memory. Rate limits move here from each process's memory: one row per
-- (kind, key) holding the times of its uses inside the window (a sliding log, exact as the
-- in-memory one was). UNLOGGED: no WAL and no fsync for a request's count (a limit is a
-- brake on guessing and runaway clients, not an accounting); after a crash or a failover
-- to the replica the counts start again from nothing.
CREATE UNLOGGED TABLE rate_limit (
    kind    text NOT NULL,
    key     text NOT NULL,
    hits    float8[] NOT NULL DEFAULT '{}',
    win     float8 NOT NULL,
    last_at float8 NOT NULL,
    PRIMARY KEY (kind, key)
);

-- Seconds to wait when (kind, key) already used p_limit in p_window seconds, else NULL.
-- p_count: count this use (not counted when refused); p_check: refuse over the limit
-- (false: only count, as for a refused admin key).
CREATE FUNCTION rate_limit_take(
    p_kind text, p_key text, p_limit integer, p_window float8, p_now float8,
    p_count boolean, p_check boolean
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    h float8[];
BEGIN
    IF p_count THEN
        INSERT INTO rate_limit(kind, key, win, last_at) VALUES (p_kind, p_key, p_window, p_now)
        ON CONFLICT (kind, key) DO NOTHING;
        SELECT hits INTO h FROM rate_limit WHERE kind = p_kind AND key = p_key FOR UPDATE;
    ELSE
        SELECT hits INTO h FROM rate_limit WHERE kind = p_kind AND key = p_key;
        IF NOT FOUND THEN
            RETURN NULL;
        END IF;
    END IF;
    h := ARRAY(SELECT x FROM unnest(h) AS x WHERE x > p_now - p_window ORDER BY x);
    IF p_check AND coalesce(array_length(h, 1), 0) >= p_limit THEN
        RETURN floor(h[1] + p_window - p_now)::integer + 1;
    END IF;
    IF p_count THEN
        UPDATE rate_limit SET hits = h || p_now, win = p_window, last_at = p_now
        WHERE kind = p_kind AND key = p_key;
    END IF;
    RETURN NULL;
END $$;

-- A console import runs on a thread of one worker; the job's heartbeat tells the others
-- (and a worker started again) whether it is still alive.
ALTER TABLE import_job ADD COLUMN heartbeat_at timestamptz NOT NULL DEFAULT now();
