-- The home page's campaign figures kept counted (issue 16): per village, 参保年度 and
-- insured category, how many persons (not terminated) and how many of them paid. A village's
-- counts for a year are trusted only while it is in campaign_tallied; every write that can
-- change them (a person's household, status or category; a household's village; a payment;
-- an enrollment's county confirmation) takes the village out, in the same transaction, and
-- the next read counts that village again. Nothing personal is kept here: counts only.
-- A later migration that rebuilds one of these tables must create its triggers again.
CREATE TABLE campaign_tally (
    village_key TEXT NOT NULL,      -- village id; '' for households without a village
    year        INTEGER NOT NULL,
    category    TEXT NOT NULL,      -- person.insured_category
    persons     INTEGER NOT NULL,
    paid        INTEGER NOT NULL,
    PRIMARY KEY (village_key, year, category)
) WITHOUT ROWID;

CREATE TABLE campaign_tallied (
    village_key TEXT NOT NULL,
    year        INTEGER NOT NULL,
    PRIMARY KEY (village_key, year)
) WITHOUT ROWID;

CREATE TRIGGER campaign_person_insert AFTER INSERT ON person BEGIN
    DELETE FROM campaign_tallied WHERE village_key IN
        (SELECT coalesce(village_id, '') FROM household WHERE id = NEW.household_id);
END;

CREATE TRIGGER campaign_person_update
AFTER UPDATE OF household_id, status, insured_category ON person BEGIN
    DELETE FROM campaign_tallied WHERE village_key IN
        (SELECT coalesce(village_id, '') FROM household
         WHERE id IN (OLD.household_id, NEW.household_id));
END;

CREATE TRIGGER campaign_person_delete AFTER DELETE ON person BEGIN
    DELETE FROM campaign_tallied WHERE village_key IN
        (SELECT coalesce(village_id, '') FROM household WHERE id = OLD.household_id);
END;

CREATE TRIGGER campaign_household_insert AFTER INSERT ON household BEGIN
    DELETE FROM campaign_tallied WHERE village_key = coalesce(NEW.village_id, '');
END;

CREATE TRIGGER campaign_household_update AFTER UPDATE OF id, village_id ON household BEGIN
    DELETE FROM campaign_tallied
    WHERE village_key IN (coalesce(OLD.village_id, ''), coalesce(NEW.village_id, ''));
END;

CREATE TRIGGER campaign_household_delete AFTER DELETE ON household BEGIN
    DELETE FROM campaign_tallied WHERE village_key = coalesce(OLD.village_id, '');
END;

CREATE TRIGGER campaign_payment_insert AFTER INSERT ON payment BEGIN
    DELETE FROM campaign_tallied WHERE year = NEW.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = NEW.person_id);
END;

CREATE TRIGGER campaign_payment_update AFTER UPDATE OF person_id, year, status ON payment BEGIN
    DELETE FROM campaign_tallied WHERE year IN (OLD.year, NEW.year) AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id IN (OLD.person_id, NEW.person_id));
END;

CREATE TRIGGER campaign_payment_delete AFTER DELETE ON payment BEGIN
    DELETE FROM campaign_tallied WHERE year = OLD.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = OLD.person_id);
END;

CREATE TRIGGER campaign_enrollment_insert AFTER INSERT ON enrollment
WHEN NEW.county_confirmed_at IS NOT NULL BEGIN
    DELETE FROM campaign_tallied WHERE year = NEW.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = NEW.person_id);
END;

CREATE TRIGGER campaign_enrollment_update
AFTER UPDATE OF person_id, year, county_confirmed_at ON enrollment BEGIN
    DELETE FROM campaign_tallied WHERE year IN (OLD.year, NEW.year) AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id IN (OLD.person_id, NEW.person_id));
END;

CREATE TRIGGER campaign_enrollment_delete AFTER DELETE ON enrollment
WHEN OLD.county_confirmed_at IS NOT NULL BEGIN
    DELETE FROM campaign_tallied WHERE year = OLD.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = OLD.person_id);
END;
