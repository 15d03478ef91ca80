-- County server, migration 0001: service points, devices, the change log (per-stream
-- sequences in commit order), the resident rows, applied ops, conflicts, tasks, policies
-- and the security log. Rows keep their fields in `data` (jsonb, the wire shape) with the
-- key columns extracted for constraints and lookups.

CREATE TABLE service_point (
    id          text PRIMARY KEY,
    code        text NOT NULL UNIQUE,
    name        text NOT NULL,
    region_code text NOT NULL CHECK (region_code ~ '^[0-9]{6}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE registration_code (
    code_sha256      text PRIMARY KEY,
    service_point_id text NOT NULL REFERENCES service_point(id),
    issued_at        timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    used_at          timestamptz,
    used_by_device   text,
    note             text NOT NULL DEFAULT ''
);

CREATE TABLE device (
    id               text PRIMARY KEY,
    service_point_id text NOT NULL REFERENCES service_point(id),
    name             text NOT NULL DEFAULT '',
    app_version      text NOT NULL DEFAULT '',
    secret_sha256    text NOT NULL,
    registered_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at       timestamptz,
    last_seen_at     timestamptz
);

-- One row per stream: 'county', 'sp:<id>', 'notices:<id>'. Taking the row lock to bump
-- last_seq holds it to commit, so seq order equals commit order within a stream.
CREATE TABLE stream_head (
    stream   text PRIMARY KEY,
    last_seq bigint NOT NULL DEFAULT 0
);

CREATE TABLE change_log (
    stream    text NOT NULL,
    seq       bigint NOT NULL,
    entity    text NOT NULL,
    entity_id text NOT NULL,
    op        text NOT NULL CHECK (op IN ('upsert', 'remove')),
    version   integer NOT NULL,
    data      jsonb,
    at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream, seq)
);

CREATE TABLE household (
    id          text PRIMARY KEY,
    home_sp_id  text NOT NULL REFERENCES service_point(id),
    version     integer NOT NULL DEFAULT 1,
    data        jsonb NOT NULL,
    field_src   jsonb NOT NULL DEFAULT '{}',   -- field → [version, writer] (writer: sp id or 'county')
    origin      text NOT NULL DEFAULT 'desktop',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX household_no ON household ((data->>'household_no'));

CREATE TABLE person (
    id          text PRIMARY KEY,
    cert_type   text NOT NULL,
    cert_no     text NOT NULL,
    home_sp_id  text NOT NULL REFERENCES service_point(id),
    version     integer NOT NULL DEFAULT 1,
    data        jsonb NOT NULL,
    field_src   jsonb NOT NULL DEFAULT '{}',
    origin      text NOT NULL DEFAULT 'desktop',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (cert_type, cert_no)
);

-- Which service points hold a person, with that service point's household and relation.
CREATE TABLE person_link (
    person_id    text NOT NULL REFERENCES person(id),
    sp_id        text NOT NULL REFERENCES service_point(id),
    household_id text,
    relation     text,
    PRIMARY KEY (person_id, sp_id)
);
CREATE INDEX person_link_sp ON person_link(sp_id, person_id);

-- A desktop id merged into the county's canonical id.
CREATE TABLE alias (
    entity       text NOT NULL,
    alias_id     text NOT NULL,
    canonical_id text NOT NULL,
    sp_id        text NOT NULL REFERENCES service_point(id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (entity, alias_id)
);
CREATE INDEX alias_sp ON alias(sp_id);

CREATE SEQUENCE arrival_seq;

CREATE TABLE enrollment (
    id              text PRIMARY KEY,
    person_id       text NOT NULL REFERENCES person(id),
    year            integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    sp_id           text NOT NULL REFERENCES service_point(id),
    arrival         bigint NOT NULL DEFAULT nextval('arrival_seq'),
    conflict_status text NOT NULL DEFAULT 'none' CHECK (conflict_status IN ('none', 'won', 'lost')),
    version         integer NOT NULL DEFAULT 1,
    data            jsonb NOT NULL,
    field_src       jsonb NOT NULL DEFAULT '{}',
    origin          text NOT NULL DEFAULT 'desktop',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX enrollment_person_year ON enrollment(person_id, year);
CREATE INDEX enrollment_sp ON enrollment(sp_id);

CREATE TABLE payment (
    id               text PRIMARY KEY,
    enrollment_id    text NOT NULL REFERENCES enrollment(id),
    sp_id            text NOT NULL REFERENCES service_point(id),
    amount           numeric(12, 2) NOT NULL CHECK (amount >= 0),
    receipt_no       text NOT NULL DEFAULT '',
    tax_confirmed    boolean NOT NULL DEFAULT false,
    version          integer NOT NULL DEFAULT 1,
    data             jsonb NOT NULL,
    field_src        jsonb NOT NULL DEFAULT '{}',
    origin           text NOT NULL DEFAULT 'desktop',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_enrollment ON payment(enrollment_id);
CREATE INDEX payment_sp ON payment(sp_id);

-- Every op a device pushed, with its payload hash and the result returned (idempotency).
CREATE TABLE applied_op (
    op_id          text PRIMARY KEY,
    device_id      text NOT NULL REFERENCES device(id),
    device_seq     bigint NOT NULL,
    op_type        text NOT NULL,
    entity_id      text NOT NULL,
    payload_sha256 text NOT NULL,
    batch_id       text NOT NULL,
    result         jsonb NOT NULL,
    at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX applied_op_device ON applied_op(device_id, device_seq);

-- Conflicts for a person to decide: identity_review, double_enrollment,
-- correction_request, stale_update.
CREATE TABLE conflict (
    id          text PRIMARY KEY,
    kind        text NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    person_id   text,
    year        integer,
    entity      text,
    entity_id   text,
    sp_ids      text[] NOT NULL DEFAULT '{}',
    summary     text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    resolution  jsonb
);
CREATE UNIQUE INDEX conflict_double_enrollment ON conflict(person_id, year)
    WHERE kind = 'double_enrollment';
CREATE INDEX conflict_status ON conflict(status, created_at);

-- Money collected twice: refund or transfer.
CREATE TABLE task (
    id          text PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('refund_or_transfer')),
    conflict_id text NOT NULL REFERENCES conflict(id),
    payment_id  text NOT NULL UNIQUE REFERENCES payment(id),
    sp_id       text NOT NULL REFERENCES service_point(id),
    amount      numeric(12, 2) NOT NULL,
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notice (
    id         text PRIMARY KEY,
    sp_id      text NOT NULL REFERENCES service_point(id),
    version    integer NOT NULL DEFAULT 1,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notice_sp ON notice(sp_id);

CREATE TABLE policy (
    id           text PRIMARY KEY,
    version      integer NOT NULL DEFAULT 1,
    region       text NOT NULL,
    year         integer NOT NULL,
    title        text NOT NULL,
    source       text NOT NULL DEFAULT '',
    toml         text NOT NULL,
    sha256       text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE security_event (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    kind      text NOT NULL,
    device_id text,
    sp_id     text,
    remote    text,
    path      text,
    detail    jsonb NOT NULL DEFAULT '{}'
);

INSERT INTO stream_head(stream, last_seq) VALUES ('county', 0);
