-- Issue 14 item 7: a service point that registered a person another point holds (the same ID
-- number, merged into one person) sees only what it sent until the county confirms the
-- identity. ``sent`` keeps what it sent; NULL = confirmed (the point sees the county record).
ALTER TABLE person_link ADD COLUMN sent jsonb;
