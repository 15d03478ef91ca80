-- A county's own recount (issue 18): on a province's server a county's case worker who asks
-- for "现在重新统计" counts that county again — its residents' partitions only, a second or
-- two — not the whole province (minutes at 20 million). The coverage summary keeps each
-- county's (区划: the county of the resident) rows apart, so one county's rows can be
-- replaced alone, and when each county was last counted on its own is kept beside the
-- province's count of the year. The summaries are counts kept for speed: emptied here,
-- every year is counted again the first time it is shown.
DELETE FROM report_payments;
DELETE FROM report_coverage;
DELETE FROM report_refresh;
ALTER TABLE report_coverage ADD COLUMN region text NOT NULL DEFAULT '';
ALTER TABLE report_coverage DROP CONSTRAINT report_coverage_pkey;
ALTER TABLE report_coverage ADD PRIMARY KEY (year, region, sp_id, village);

CREATE TABLE report_refresh_county (
    year smallint NOT NULL,
    region text NOT NULL,
    refreshed_at timestamptz NOT NULL,
    took_ms integer NOT NULL,
    PRIMARY KEY (year, region)
);
