-- Issue 2 (registration): search keys for persons.
-- Name search (1-, 2- and longer names) is an exact/prefix range scan on person_name
-- (0001); pinyin initials on person_initials (0001); full pinyin needs its own index.
-- The clerk types the start of a name, an ID number or pinyin; a substring (trigram)
-- index would only add matches in the middle of 3+ character names and cost one more
-- write per registration, so it is deliberately not built.
CREATE INDEX person_pinyin ON person(name_pinyin);
-- Households listed by village.
CREATE INDEX household_village ON household(village_id);
