-- Issue 18: a resident ID number insured outside the county that issued it.
--
-- The first six digits of a resident ID number are the county that issued it (GB 11643),
-- and most residents are insured there: a lookup by number with no county given (a tax
-- import row without a service point) reads that county's partition first. About one
-- resident in fifty has moved since and is insured in another county; for them that read
-- missed, and the server went on through person_key (the province's key table, gigabytes
-- at twenty million) — three to four times one county's read.
--
-- resident_elsewhere holds only those: a resident ID number whose person's county is not
-- the one that issued it, and that county. It is small (a few percent of the residents), so
-- it stays in memory, and a trigger keeps it as persons are made and their numbers
-- corrected. A lookup asks it first (county.db.person_by_cert): held here, the row is
-- read in that county; not held, in the issuing county — one partition either way, and
-- never a miss.

CREATE TABLE resident_elsewhere (
    cert_no text PRIMARY KEY,
    region  text NOT NULL
);

INSERT INTO resident_elsewhere(cert_no, region)
SELECT cert_no, region FROM person
WHERE cert_type = 'resident_id' AND left(cert_no, 6) <> region;

CREATE FUNCTION resident_elsewhere_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.cert_type = 'resident_id' THEN
        DELETE FROM resident_elsewhere WHERE cert_no = OLD.cert_no;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.cert_type = 'resident_id'
            AND left(NEW.cert_no, 6) <> NEW.region THEN
        INSERT INTO resident_elsewhere(cert_no, region) VALUES (NEW.cert_no, NEW.region);
    END IF;
    RETURN NULL;
END $$;

-- a person's county never changes (0019); its certificate may be corrected
CREATE TRIGGER resident_elsewhere_insert AFTER INSERT ON person
    FOR EACH ROW WHEN (NEW.cert_type = 'resident_id' AND left(NEW.cert_no, 6) <> NEW.region)
    EXECUTE FUNCTION resident_elsewhere_keep();
CREATE TRIGGER resident_elsewhere_update AFTER UPDATE OF cert_type, cert_no ON person
    FOR EACH ROW WHEN (OLD.cert_type IS DISTINCT FROM NEW.cert_type
        OR OLD.cert_no IS DISTINCT FROM NEW.cert_no)
    EXECUTE FUNCTION resident_elsewhere_keep();
CREATE TRIGGER resident_elsewhere_delete AFTER DELETE ON person
    FOR EACH ROW WHEN (OLD.cert_type = 'resident_id' AND left(OLD.cert_no, 6) <> OLD.region)
    EXECUTE FUNCTION resident_elsewhere_keep();

-- The person holding a resident ID number, where the county is not known: the county this
-- table names, else the issuing one, read with that county as a value (one partition, as
-- 0020's functions). For a caller that guessed a county and missed (county.db).
CREATE FUNCTION person_with_resident_id(cno text, lock boolean DEFAULT false)
RETURNS SETOF person LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan AS $body$
DECLARE
    r text;
BEGIN
    SELECT region INTO r FROM resident_elsewhere WHERE cert_no = cno;
    r := coalesce(r, left(cno, 6));
    IF lock THEN
        RETURN QUERY SELECT * FROM person
            WHERE region = r AND cert_type = 'resident_id' AND cert_no = cno FOR UPDATE;
    ELSE
        RETURN QUERY SELECT * FROM person
            WHERE region = r AND cert_type = 'resident_id' AND cert_no = cno;
    END IF;
END $body$;
