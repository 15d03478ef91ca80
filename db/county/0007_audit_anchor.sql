-- Audit-chain anchors (issue 14): each sync sends the head of the desk's hash-chained audit
-- log (seq, hash); the county keeps them, so a desk's log that was cut or rewritten no longer
-- matches what the county holds (``township-desk audit verify`` compares).
CREATE TABLE audit_anchor (
    device_id text NOT NULL REFERENCES device(id),
    seq       bigint NOT NULL CHECK (seq >= 0),
    hash      text NOT NULL,
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
);
