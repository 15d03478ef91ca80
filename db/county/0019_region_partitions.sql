-- Issue 18: a province's server holds tens of millions of residents. The four large tables
-- (person, enrollment, payment, applied_op) become LIST partitions by region (the six-digit
-- county code of a service point), one partition per county: a county's rows stay together,
-- its indexes stay the size of one county's, and a county can be detached and archived or
-- moved (ALTER TABLE … DETACH PARTITION) without touching the others.
--
-- Which county a row belongs to (set once, at insert; never changes):
--   person      the county of its home service point (its insured place, 参保地)
--   enrollment  the county of its person (a person's enrollments and payments live beside
--   payment     the county of its enrollment     the person, even when another point took them)
--   applied_op  the county of the device that pushed the op
--
-- PostgreSQL's unique constraints on a partitioned table must contain the partition key,
-- so the province-wide uniqueness the county relied on moves to three narrow key tables:
-- person_key (id; certificate type and number), enrollment_key (id), payment_key (id). A
-- row trigger claims the key when a row is inserted (and raises unique_violation, as the
-- old primary key did, when another row holds it); the foreign keys that named person(id),
-- enrollment(id) and payment(id) name the key tables. The key tables also say which county
-- holds an id: the server reads the county there first, then names it in the query, so
-- PostgreSQL plans and reads one partition (county.db.region_of / where_id).

-- 1. The key tables, filled from the rows there are.
CREATE TABLE person_key (
    id        text PRIMARY KEY,
    region    text NOT NULL,
    cert_type text NOT NULL,
    cert_no   text NOT NULL,
    UNIQUE (cert_type, cert_no)
);
CREATE TABLE enrollment_key (id text PRIMARY KEY, region text NOT NULL);
CREATE TABLE payment_key (id text PRIMARY KEY, region text NOT NULL);

INSERT INTO person_key(id, region, cert_type, cert_no)
SELECT p.id, s.region_code, p.cert_type, p.cert_no
FROM person p JOIN service_point s ON s.id = p.home_sp_id;
INSERT INTO enrollment_key(id, region)
SELECT e.id, k.region FROM enrollment e JOIN person_key k ON k.id = e.person_id;
INSERT INTO payment_key(id, region)
SELECT p.id, k.region FROM payment p JOIN enrollment_key k ON k.id = p.enrollment_id;

-- 2. The old tables step aside (their constraints and indexes renamed or dropped so the
-- partitioned tables can take the names).
ALTER TABLE person RENAME TO person_0018;
ALTER TABLE enrollment RENAME TO enrollment_0018;
ALTER TABLE payment RENAME TO payment_0018;
ALTER TABLE applied_op RENAME TO applied_op_0018;
ALTER TABLE person_0018 RENAME CONSTRAINT person_pkey TO person_0018_pkey;
ALTER TABLE person_0018 DROP CONSTRAINT person_cert_type_cert_no_key;
ALTER TABLE enrollment_0018 RENAME CONSTRAINT enrollment_pkey TO enrollment_0018_pkey;
ALTER TABLE payment_0018 RENAME CONSTRAINT payment_pkey TO payment_0018_pkey;
ALTER TABLE applied_op_0018 RENAME CONSTRAINT applied_op_pkey TO applied_op_0018_pkey;
DROP INDEX enrollment_person_year, enrollment_sp, payment_enrollment, payment_sp,
    applied_op_device;

-- 3. The partitioned tables: the same columns, defaults and checks, plus region.
CREATE TABLE person (LIKE person_0018 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    region text NOT NULL CHECK (region ~ '^[0-9]{6}$')) PARTITION BY LIST (region);
CREATE TABLE enrollment (LIKE enrollment_0018 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    region text NOT NULL CHECK (region ~ '^[0-9]{6}$')) PARTITION BY LIST (region);
CREATE TABLE payment (LIKE payment_0018 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    region text NOT NULL CHECK (region ~ '^[0-9]{6}$')) PARTITION BY LIST (region);
CREATE TABLE applied_op (LIKE applied_op_0018 INCLUDING DEFAULTS INCLUDING CONSTRAINTS,
    region text NOT NULL CHECK (region ~ '^[0-9]{6}$')) PARTITION BY LIST (region);

ALTER TABLE person ADD PRIMARY KEY (region, id);
ALTER TABLE enrollment ADD PRIMARY KEY (region, id);
ALTER TABLE payment ADD PRIMARY KEY (region, id);
ALTER TABLE applied_op ADD PRIMARY KEY (region, op_id);
CREATE INDEX enrollment_person_year ON enrollment(person_id, year);
-- a service point's first sync pages its enrollments and payments in id order, from every
-- county (a point may enroll another county's resident): (sp_id, id) merges the partitions
CREATE INDEX enrollment_sp ON enrollment(sp_id, id);
CREATE INDEX payment_enrollment ON payment(enrollment_id);
CREATE INDEX payment_sp ON payment(sp_id, id);
-- a tax import met again is found by its voucher number
CREATE INDEX payment_tax_voucher ON payment ((data->>'tax_voucher_no'))
    WHERE (data->>'tax_voucher_no') IS NOT NULL;
CREATE INDEX applied_op_device ON applied_op(device_id, device_seq);

ALTER TABLE person ADD FOREIGN KEY (home_sp_id) REFERENCES service_point(id);
ALTER TABLE enrollment ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE enrollment ADD FOREIGN KEY (sp_id) REFERENCES service_point(id);
ALTER TABLE payment ADD FOREIGN KEY (enrollment_id) REFERENCES enrollment_key(id);
ALTER TABLE payment ADD FOREIGN KEY (sp_id) REFERENCES service_point(id);
ALTER TABLE applied_op ADD FOREIGN KEY (device_id) REFERENCES device(id);

-- 4. One partition per county, made when a service point of a new county is created.
CREATE FUNCTION region_partitions(r text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    IF r !~ '^[0-9]{6}$' THEN
        RAISE EXCEPTION 'region code must be six digits: %', r;
    END IF;
    FOREACH t IN ARRAY ARRAY['person', 'enrollment', 'payment', 'applied_op'] LOOP
        -- looked up first: CREATE … IF NOT EXISTS would still lock the parent table
        IF to_regclass(t || '_' || r) IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)', t || '_' || r, t, r);
        END IF;
    END LOOP;
END $$;

CREATE FUNCTION service_point_partitions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM region_partitions(NEW.region_code);
    RETURN NULL;
END $$;
CREATE TRIGGER service_point_partitions AFTER INSERT OR UPDATE OF region_code ON service_point
    FOR EACH ROW EXECUTE FUNCTION service_point_partitions();

SELECT region_partitions(r) FROM (SELECT DISTINCT region_code AS r FROM service_point) s;

-- 5. The rows move across.
INSERT INTO person SELECT p.*, k.region FROM person_0018 p JOIN person_key k ON k.id = p.id;
INSERT INTO enrollment SELECT e.*, k.region FROM enrollment_0018 e
    JOIN enrollment_key k ON k.id = e.id;
INSERT INTO payment SELECT p.*, k.region FROM payment_0018 p JOIN payment_key k ON k.id = p.id;
INSERT INTO applied_op SELECT a.*, s.region_code FROM applied_op_0018 a
    JOIN device d ON d.id = a.device_id JOIN service_point s ON s.id = d.service_point_id;

-- the foreign keys that named the old tables go with them, and come back on the key tables
DROP TABLE applied_op_0018, payment_0018, enrollment_0018, person_0018 CASCADE;
ALTER TABLE person_link ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE person_ytd ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE poverty_alert ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE task ADD FOREIGN KEY (payment_id) REFERENCES payment_key(id);

-- 6. Claiming the keys. A key already held by this very row (claimed just before, as the
-- person push does to keep its ON CONFLICT on the certificate) is fine; held by another
-- row is a unique violation, as before.
CREATE FUNCTION person_key_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO person_key(id, region, cert_type, cert_no)
    VALUES (NEW.id, NEW.region, NEW.cert_type, NEW.cert_no) ON CONFLICT DO NOTHING;
    IF NOT FOUND AND NOT EXISTS (
        SELECT 1 FROM person_key WHERE id = NEW.id AND region = NEW.region
        AND cert_type = NEW.cert_type AND cert_no = NEW.cert_no
    ) THEN
        RAISE unique_violation USING MESSAGE = 'person id or certificate already held',
            CONSTRAINT = 'person_key_pkey';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER person_key_claim BEFORE INSERT ON person
    FOR EACH ROW EXECUTE FUNCTION person_key_claim();

-- a corrected certificate number moves with the person (its uniqueness is checked here)
CREATE FUNCTION person_key_cert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE person_key SET cert_type = NEW.cert_type, cert_no = NEW.cert_no WHERE id = NEW.id;
    RETURN NULL;
END $$;
CREATE TRIGGER person_key_cert AFTER UPDATE OF cert_type, cert_no ON person
    FOR EACH ROW WHEN (OLD.cert_type IS DISTINCT FROM NEW.cert_type
        OR OLD.cert_no IS DISTINCT FROM NEW.cert_no)
    EXECUTE FUNCTION person_key_cert();

CREATE FUNCTION enrollment_key_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO enrollment_key(id, region) VALUES (NEW.id, NEW.region);
    RETURN NEW;
END $$;
CREATE TRIGGER enrollment_key_claim BEFORE INSERT ON enrollment
    FOR EACH ROW EXECUTE FUNCTION enrollment_key_claim();

CREATE FUNCTION payment_key_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO payment_key(id, region) VALUES (NEW.id, NEW.region);
    RETURN NEW;
END $$;
CREATE TRIGGER payment_key_claim BEFORE INSERT ON payment
    FOR EACH ROW EXECUTE FUNCTION payment_key_claim();
