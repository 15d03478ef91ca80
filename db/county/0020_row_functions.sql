-- One row of a partitioned table by its id (or a person by certificate) in one statement
-- from the server (issue 18).
--
-- PostgreSQL plans a single partition only when the county is a value in the statement.
-- Taking the county from the key table in a join or subquery plans every partition
-- (milliseconds at 100 counties), so the server used to send two statements: the county
-- from the key table, then the row with that county named. These functions take both
-- steps inside the server: the second statement gets the county as a value, so PL/pgSQL
-- plans it on one partition, and the client pays one round trip instead of two — the
-- cost of a lookup by id comes back to about that of one county's table.
-- ``lock``: the row is also locked (FOR UPDATE) in the caller's transaction.
--
-- plan_cache_mode = force_custom_plan: PL/pgSQL would switch to a cached generic plan after
-- five calls, and in PostgreSQL 15 running a generic plan locks every county's partition
-- (and its indexes) before pruning — hundreds of locks per lookup, and an archive's DETACH
-- waiting on every one. A custom plan opens and locks the one county's partition only.

DO $do$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['person', 'enrollment', 'payment'] LOOP
        EXECUTE format($f$
            CREATE FUNCTION %1$I(row_id text, lock boolean DEFAULT false)
            RETURNS SETOF %2$I LANGUAGE plpgsql
            SET plan_cache_mode = force_custom_plan AS $body$
            DECLARE
                r text;
            BEGIN
                SELECT region INTO r FROM %3$I WHERE id = row_id;
                IF lock THEN
                    RETURN QUERY SELECT * FROM %2$I WHERE region = r AND id = row_id FOR UPDATE;
                ELSE
                    RETURN QUERY SELECT * FROM %2$I WHERE region = r AND id = row_id;
                END IF;
            END $body$ $f$, t || '_row', t, t || '_key');
    END LOOP;
END $do$;

CREATE FUNCTION person_with_cert(ctype text, cno text, lock boolean DEFAULT false)
RETURNS SETOF person LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $body$
DECLARE
    k record;
BEGIN
    SELECT id, region INTO k FROM person_key WHERE cert_type = ctype AND cert_no = cno;
    IF lock THEN
        RETURN QUERY SELECT * FROM person WHERE region = k.region AND id = k.id FOR UPDATE;
    ELSE
        RETURN QUERY SELECT * FROM person WHERE region = k.region AND id = k.id;
    END IF;
END $body$;

-- A person by certificate where the county is known (a desk's merge, a roster's service
-- point): read in that county's partition through this index, one statement planned like
-- one county's table (county.db.person_by_cert with ``county``). Uniqueness across the
-- province stays person_key's.
CREATE INDEX person_cert ON person (cert_type, cert_no);
