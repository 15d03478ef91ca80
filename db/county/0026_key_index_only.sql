-- Issue 18: a row's county read from the key table's index alone.
--
-- The server finds which county holds an id in the key tables (person_key, enrollment_key,
-- payment_key; 0019): a row of another county, a row the console names, a payment's
-- enrollment. At twenty million residents the key tables are gigabytes, and each such
-- lookup read two pages that were rarely in memory together: the primary key's index
-- entry, then the table's row for its county. The primary keys now carry the county in
-- the index (INCLUDE), so PostgreSQL answers from the index alone (an index-only scan)
-- and a lookup never reads the table: the province's memory holds the indexes, not the
-- tables behind them.
--
-- The foreign keys that name the key tables rest on their primary keys; they are taken
-- down and put back as 0019 made them (an upgrade checks every reference once more:
-- a minute or so at twenty million).
--
-- An index-only scan skips the table for pages the visibility map marks all-visible, which
-- VACUUM sets. The key tables are only added to (person_key's certificate aside), and
-- autovacuum would visit such a table after 20% new rows; at 1% the rows not yet marked
-- stay a small share.

ALTER TABLE person_key DROP CONSTRAINT person_key_pkey CASCADE;
ALTER TABLE person_key ADD CONSTRAINT person_key_pkey PRIMARY KEY (id) INCLUDE (region);
ALTER TABLE enrollment_key DROP CONSTRAINT enrollment_key_pkey CASCADE;
ALTER TABLE enrollment_key ADD CONSTRAINT enrollment_key_pkey PRIMARY KEY (id) INCLUDE (region);
ALTER TABLE payment_key DROP CONSTRAINT payment_key_pkey CASCADE;
ALTER TABLE payment_key ADD CONSTRAINT payment_key_pkey PRIMARY KEY (id) INCLUDE (region);

ALTER TABLE enrollment ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE person_link ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE person_ytd ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE poverty_alert ADD FOREIGN KEY (person_id) REFERENCES person_key(id);
ALTER TABLE payment ADD FOREIGN KEY (enrollment_id) REFERENCES enrollment_key(id);
ALTER TABLE task ADD FOREIGN KEY (payment_id) REFERENCES payment_key(id);

ALTER TABLE person_key SET (autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE enrollment_key SET (autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE payment_key SET (autovacuum_vacuum_insert_scale_factor = 0.01);
