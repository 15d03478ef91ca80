-- Issue 11: names found by every common reading. person.name_pinyin / name_initials hold
-- the usual reading; this table holds the search keys (full pinyin and initials) of a
-- name's other common readings (长 cháng as well as zhǎng …, bounded: core.names), so
-- 韩长根 is found by hzg, hcg and hanchanggen. Only names with a polyphonic character
-- have rows. Filled for existing persons by the Python step 0071_person_name_keys
-- (desktop/store/upgrades.py); kept by desktop/store/persons.py and the sync pull.
CREATE TABLE person_name_key (
    key       TEXT NOT NULL,
    person_id TEXT NOT NULL REFERENCES person(id),
    PRIMARY KEY (key, person_id)
) WITHOUT ROWID;
CREATE INDEX person_name_key_person ON person_name_key(person_id);
