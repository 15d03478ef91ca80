-- A province's server (issue 18): a county bureau's case workers see and change only their
-- county. staff.county is the six-digit 区划 of the county the account works for; NULL is an
-- account for every county (the province's, or the one county a county's own server has).
ALTER TABLE staff ADD COLUMN county text CHECK (county ~ '^[0-9]{6}$');
