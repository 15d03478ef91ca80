-- Issue 12: a person moved between households by two service points. The version of the
-- person at which a service point last moved them: a later move from another point that
-- did not know of it is a conflict (the first to reach the county wins).
ALTER TABLE person_link ADD COLUMN moved_version integer;
