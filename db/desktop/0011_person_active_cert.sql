-- Issue 2 (registration): the 查重 list (numbers carried by more than one record that is
-- not terminated, 重复参保) scans this partial index alone instead of visiting a million
-- table rows for their status.
CREATE INDEX person_active_cert ON person(cert_no) WHERE status != 3;
