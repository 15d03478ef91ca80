-- A payment voided or refunded at the window (payment.void / payment.refund) is kept but
-- no longer counts in the double-enrollment winner rule or for refund tasks.
ALTER TABLE payment ADD COLUMN cancelled boolean NOT NULL DEFAULT false;
ALTER TABLE task DROP CONSTRAINT task_status_check;
ALTER TABLE task ADD CONSTRAINT task_status_check CHECK (status IN ('open', 'done', 'cancelled'));
