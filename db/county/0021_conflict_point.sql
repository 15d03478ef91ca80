-- The console's conflicts list filtered by service point (a province holds tens of
-- thousands of conflicts, resolved ones included): sp_ids @> ARRAY[point] reads this index
-- instead of every conflict.
CREATE INDEX conflict_sp_ids ON conflict USING gin (sp_ids);
