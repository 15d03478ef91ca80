-- The desk applies pulled rows at thousands a second (a first sync brings a whole service
-- point). Every campaign-tally trigger (0140) ran its lookups on each of those rows even
-- when nothing was tallied to take out. The same triggers, now only when some village is
-- tallied: a large pulled page (a first sync's) first forgets every tally
-- (syncstate.forget_tallies; the home page counts again at its next read), so its rows
-- skip the triggers' work.

DROP TRIGGER campaign_person_insert;
DROP TRIGGER campaign_person_update;
DROP TRIGGER campaign_person_delete;
DROP TRIGGER campaign_household_insert;
DROP TRIGGER campaign_household_update;
DROP TRIGGER campaign_household_delete;
DROP TRIGGER campaign_payment_insert;
DROP TRIGGER campaign_payment_update;
DROP TRIGGER campaign_payment_delete;
DROP TRIGGER campaign_enrollment_insert;
DROP TRIGGER campaign_enrollment_update;
DROP TRIGGER campaign_enrollment_delete;

CREATE TRIGGER campaign_person_insert AFTER INSERT ON person
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE village_key IN
        (SELECT coalesce(village_id, '') FROM household WHERE id = NEW.household_id);
END;

CREATE TRIGGER campaign_person_update
AFTER UPDATE OF household_id, status, insured_category ON person
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE village_key IN
        (SELECT coalesce(village_id, '') FROM household
         WHERE id IN (OLD.household_id, NEW.household_id));
END;

CREATE TRIGGER campaign_person_delete AFTER DELETE ON person
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE village_key IN
        (SELECT coalesce(village_id, '') FROM household WHERE id = OLD.household_id);
END;

CREATE TRIGGER campaign_household_insert AFTER INSERT ON household
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE village_key = coalesce(NEW.village_id, '');
END;

CREATE TRIGGER campaign_household_update AFTER UPDATE OF id, village_id ON household
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied
    WHERE village_key IN (coalesce(OLD.village_id, ''), coalesce(NEW.village_id, ''));
END;

CREATE TRIGGER campaign_household_delete AFTER DELETE ON household
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE village_key = coalesce(OLD.village_id, '');
END;

CREATE TRIGGER campaign_payment_insert AFTER INSERT ON payment
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE year = NEW.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = NEW.person_id);
END;

CREATE TRIGGER campaign_payment_update AFTER UPDATE OF person_id, year, status ON payment
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE year IN (OLD.year, NEW.year) AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id IN (OLD.person_id, NEW.person_id));
END;

CREATE TRIGGER campaign_payment_delete AFTER DELETE ON payment
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE year = OLD.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = OLD.person_id);
END;

CREATE TRIGGER campaign_enrollment_insert AFTER INSERT ON enrollment
WHEN NEW.county_confirmed_at IS NOT NULL AND EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE year = NEW.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = NEW.person_id);
END;

CREATE TRIGGER campaign_enrollment_update
AFTER UPDATE OF person_id, year, county_confirmed_at ON enrollment
WHEN EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE year IN (OLD.year, NEW.year) AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id IN (OLD.person_id, NEW.person_id));
END;

CREATE TRIGGER campaign_enrollment_delete AFTER DELETE ON enrollment
WHEN OLD.county_confirmed_at IS NOT NULL AND EXISTS (SELECT 1 FROM campaign_tallied) BEGIN
    DELETE FROM campaign_tallied WHERE year = OLD.year AND village_key IN
        (SELECT coalesce(h.village_id, '') FROM person p JOIN household h ON h.id = p.household_id
         WHERE p.id = OLD.person_id);
END;
