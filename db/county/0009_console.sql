-- The county console (issue 15): staff accounts (argon2 hashes), sessions (only a hash of the
-- cookie's token is kept), and the staff audit log (who did what, when).
CREATE TABLE staff (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9_.-]{2,32}$'),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 40),
    role          text NOT NULL CHECK (role IN ('admin', 'clerk', 'viewer')),
    password_hash text NOT NULL,
    active        boolean NOT NULL DEFAULT true,
    failed        integer NOT NULL DEFAULT 0,
    locked_until  timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE staff_session (
    token_sha256 text PRIMARY KEY,
    staff_id     bigint NOT NULL REFERENCES staff(id),
    csrf         text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE TABLE staff_audit (
    id       bigserial PRIMARY KEY,
    at       timestamptz NOT NULL DEFAULT now(),
    staff_id bigint REFERENCES staff(id),
    action   text NOT NULL,
    target   text,
    detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX staff_audit_at ON staff_audit(at);
