-- The home page and the reports count a whole township per 参保年度 (issue 16): the indexes
-- they read become covering, so the count never visits the (wide, encrypted) table rows.
-- Each replaces an index of the same leading columns: no extra index to keep on a write.
DROP INDEX IF EXISTS person_household;
CREATE INDEX person_household ON person(household_id, status, insured_category, id, created_at);
DROP INDEX IF EXISTS payment_year_status;
CREATE INDEX payment_year_status ON payment(year, status, person_id, paid_on, channel, amount);
DROP INDEX IF EXISTS enrollment_year;
CREATE INDEX enrollment_year ON enrollment(year, person_id, county_confirmed_at);
