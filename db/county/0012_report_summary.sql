-- Report summaries (issue 15): the console's coverage and payment reports read these
-- instead of counting 500,000 residents on every request. county.console.summary fills
-- them per 参保年度 (in the background every few minutes, after an import, and on a
-- case worker's "现在重新统计"); a refresh replaces a year's rows in one transaction.
CREATE TABLE report_coverage (
    year smallint NOT NULL,
    sp_id text NOT NULL,
    village text NOT NULL,
    registered integer NOT NULL,
    paid integer NOT NULL,
    subsidized integer NOT NULL,
    PRIMARY KEY (year, sp_id, village)
);

CREATE TABLE report_payments (
    year smallint NOT NULL,
    day text NOT NULL,
    channel text NOT NULL,
    n integer NOT NULL,
    total numeric(16, 2) NOT NULL,
    PRIMARY KEY (year, day, channel)
);

CREATE TABLE report_refresh (
    year smallint PRIMARY KEY,
    refreshed_at timestamptz NOT NULL,
    took_ms integer NOT NULL
);
