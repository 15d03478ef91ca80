-- Issue 4: 断保补缴 collected together with a year's contribution. The back-years repair the
-- variable waiting period (national 2025 rule); their cost follows the policy's
-- [contribution.back_payment] table. amount = the year's amount_due + back_amount.
ALTER TABLE payment ADD COLUMN back_years INTEGER NOT NULL DEFAULT 0 CHECK (back_years >= 0);
ALTER TABLE payment ADD COLUMN back_amount TEXT NOT NULL DEFAULT '0.00';
