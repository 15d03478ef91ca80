-- A province's reports by county (issue 18): the payments summary keeps each county's
-- (区划: the county of the payment's enrollment, where its resident is insured) rows, so
-- the console's 缴费日报 can show one county or add them all up. The summaries are counts
-- kept for speed: emptied here, every year is counted again the first time it is shown.
DELETE FROM report_payments;
DELETE FROM report_coverage;
DELETE FROM report_refresh;
ALTER TABLE report_payments ADD COLUMN region text NOT NULL DEFAULT '';
ALTER TABLE report_payments DROP CONSTRAINT report_payments_pkey;
ALTER TABLE report_payments ADD PRIMARY KEY (year, region, day, channel);
