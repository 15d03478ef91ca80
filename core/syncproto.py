"""The sync wire protocol between a service-point desktop and the county server.

Pure: dataclasses, constants and JSON shapes only — no I/O. The desktop sync client
(``desktop/sync``) and the county server (``county/``) both import this module, so the two
halves cannot drift apart. The prose version is ``docs/sync-protocol.md``.

Conventions
- Every request to ``/api/v1/...`` carries the header ``X-Township-Protocol: 1``.
- Bodies are JSON (UTF-8). Requests may be gzip-compressed (``Content-Encoding: gzip``);
  responses are gzip-compressed when the client sends ``Accept-Encoding: gzip``.
- Errors: HTTP 4xx/5xx with body ``{"code": "...", "message": "中文说明", "details": ...}``.
- Money is a decimal *string* in yuan ("400.00"), never a float. Dates are ISO 8601.
- Times on the wire are informational only; no ordering decision uses a PC's clock.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from core.estimate import YTD_FIELDS as YTD_FIELDS  # re-exported for the county
from core.records.contributions import ENROLLMENT_WIRE_FIELDS, PAYMENT_WIRE_FIELDS
from core.records.persons import HOUSEHOLD_WIRE_FIELDS, PERSON_WIRE_FIELDS
from core.syncnotices import Notice as Notice  # re-exported: part of the protocol
from core.syncnotices import winner_key as winner_key

# ---------------------------------------------------------------------------- versioning
# 2 (issue 12): persons carry exit_reason / exit_date, households merged_into; notice kind
# move_conflict. A version-1 desk still syncs: the op kinds are unchanged, new fields are
# extra keys it ignores, an unknown notice kind shows with a general action.
PROTOCOL_VERSION = 2
MIN_PROTOCOL_VERSION = 1
SUPPORTED_PROTOCOL_VERSIONS = tuple(range(MIN_PROTOCOL_VERSION, PROTOCOL_VERSION + 1))
PROTOCOL_HEADER = "X-Township-Protocol"
API_PREFIX = "/api/v1"

# ---------------------------------------------------------------------------- endpoints
EP_REGISTER = f"{API_PREFIX}/devices/register"  # POST RegisterRequest → RegisterResponse
EP_TOKEN = f"{API_PREFIX}/auth/token"  # POST TokenRequest → TokenResponse
EP_PUSH = f"{API_PREFIX}/sync/push"  # POST PushRequest → PushResponse (Bearer token)
EP_PULL = f"{API_PREFIX}/sync/pull"  # POST PullRequest → PullResponse (Bearer token)
EP_SNAPSHOT = f"{API_PREFIX}/sync/snapshot"  # POST SnapshotRequest → SnapshotResponse
EP_WIPED = f"{API_PREFIX}/devices/wiped"  # POST {} (Bearer) → {"ok": true}: a disabled
# device has pushed what it held and erased its personal data
EP_AUDIT_ANCHORS = f"{API_PREFIX}/audit/anchors"  # POST {} (Bearer) → {"anchors": [{seq,
# hash, at}]}: the audit-chain heads this device sent, newest first (at most 1000)
EP_ESCROW = f"{API_PREFIX}/devices/escrow"  # POST EscrowRequest (Bearer) → {"ok": true}
EP_RECOVER = f"{API_PREFIX}/devices/recover"  # POST RecoverRequest → RecoverResponse
# The application's signed updates (a TUF repository the county mirrors; the desk verifies
# every file against the project's keys): GET {EP_UPDATES}/metadata/<n>.json, /targets/<file>
EP_UPDATES = f"{API_PREFIX}/updates"
EP_HEALTH = "/health"  # GET → {"status": "ok", "protocol": 1}

# ---------------------------------------------------------------------------- limits
MAX_BATCH_OPS = 500  # ops per push; more → 413 (send smaller batches)
MAX_BODY_BYTES = 4 * 1024 * 1024  # request body after gunzip; more → 413
MAX_PAYLOAD_BYTES = 16 * 1024  # one op's canonical payload; more → that op rejected
DEFAULT_PULL_LIMIT = 500
MAX_PULL_LIMIT = 2000
DEFAULT_SNAPSHOT_LIMIT = 2000
MAX_SNAPSHOT_LIMIT = 5000
TOKEN_TTL_SECONDS = 15 * 60
RECOMMENDED_BATCH_OPS = 200

# ---------------------------------------------------------------------------- streams
# The client names streams abstractly; the server maps them to the device's own service
# point, which it derives from the credential (never from request parameters).
STREAM_COUNTY = "county"  # policies, service-point code table (every device)
STREAM_SERVICE_POINT = "service_point"  # own residents, households, enrollments, payments
STREAM_NOTICES = "notices"  # conflict notices and tasks for this service point
STREAMS = (STREAM_COUNTY, STREAM_SERVICE_POINT, STREAM_NOTICES)

# ---------------------------------------------------------------------------- entities
E_PERSON = "person"
E_HOUSEHOLD = "household"
E_ENROLLMENT = "enrollment"
E_PAYMENT = "payment"
E_ALIAS = "alias"  # data {"entity", "canonical_id"}: this id was merged into canonical_id
E_POLICY = "policy"  # data {"id", "region", "year", "title", "source", "toml", "published_at"}
E_SERVICE_POINT = "service_point"  # data {"id", "code", "name", "region_code"}
E_NOTICE = "notice"  # data: Notice.as_dict()
# County year-to-date figures of one person and year (stream service_point; id
# "<person_id>:<year>"): data {"person_id", "year", "as_of", "figures": {field: "0.00"}},
# fields from YTD_FIELDS. The desktop hands them to the estimator with their as-of time.
E_YTD = "ytd"
# 因病返贫 early warning raised by a desk (push only): payload ALERT_FIELDS.
E_ALERT = "poverty_alert"
ALERT_FIELDS = ("id", "person_id", "year", "category", "burden", "threshold", "basis", "created_at")
ENTITIES = (
    E_PERSON,
    E_HOUSEHOLD,
    E_ENROLLMENT,
    E_PAYMENT,
    E_ALIAS,
    E_POLICY,
    E_SERVICE_POINT,
    E_NOTICE,
    E_YTD,
)

# The year-to-date fields the county may send are the estimator's ``YTD_FIELDS`` (imported
# above); their Chinese labels double as the column headers of ``township-county import-ytd``.


def ytd_id(person_id: str, year: int) -> str:
    return f"{person_id}:{int(year)}"


# Op types a desktop may push: "<entity>.<verb>". For *.create the payload is the full
# row (the desktop table's columns; at least ``id``). For *.update the payload is either
# {"changes": {field: new}, "before": {field: old}} (preferred: a three-way merge that
# never silently overwrites) or a full/partial row of new values.
OP_TYPES: dict[str, str] = {
    "household.create": E_HOUSEHOLD,
    "household.update": E_HOUSEHOLD,
    "person.create": E_PERSON,
    "person.update": E_PERSON,
    "enrollment.create": E_ENROLLMENT,
    "enrollment.update": E_ENROLLMENT,
    "payment.record": E_PAYMENT,
    "payment.void": E_PAYMENT,  # payload {id, status: "voided", reason, supervisor_id, at}
    "payment.refund": E_PAYMENT,  # payload {id, status: "refunded", reason, supervisor_id, at}
    "poverty_alert.raise": E_ALERT,  # payload ALERT_FIELDS; the county lists it for 民政
}

# Fields the county owns. A desktop never overwrites them: on *.create they are ignored
# when the county already holds the row (otherwise taken as the initial proposal); on
# *.update a change to them becomes a correction request for the county to decide.
COUNTY_OWNED_FIELDS: dict[str, frozenset[str]] = {
    E_PERSON: frozenset({"status", "subsidy_category", "home_service_point_id"}),
    E_HOUSEHOLD: frozenset({"household_no"}),
    E_ENROLLMENT: frozenset(
        {"conflict_status", "tax_confirmed", "service_point_id", "county_confirmed_at"}
    ),
    E_PAYMENT: frozenset(
        {
            "tax_confirmed",
            "tax_confirmed_at",
            "tax_voucher_no",
            "service_point_id",
            "confirmed_at",
            "confirmed_ref",
        }
    ),
}

# Fields the desktop may send per entity (others in a payload are ignored, not an error;
# local bookkeeping columns such as version/server_version/origin/created_by are dropped).
ENTITY_FIELDS: dict[str, tuple[str, ...]] = {
    E_HOUSEHOLD: HOUSEHOLD_WIRE_FIELDS,
    E_PERSON: PERSON_WIRE_FIELDS,
    E_ENROLLMENT: ENROLLMENT_WIRE_FIELDS,
    E_PAYMENT: PAYMENT_WIRE_FIELDS,
}
REQUIRED_ON_CREATE: dict[str, tuple[str, ...]] = {
    E_HOUSEHOLD: ("id",),
    E_PERSON: ("id", "name", "cert_type", "cert_no", "sex", "birth_date"),
    E_ENROLLMENT: ("id", "person_id", "year"),
    E_PAYMENT: ("id", "amount"),
}

# ---------------------------------------------------------------------------- op results
ST_APPLIED = "applied"  # applied as sent (county-owned fields may have become a correction)
ST_DUPLICATE = "duplicate"  # the same row already exists unchanged (e.g. re-queued create)
ST_MERGED = "merged"  # merged into an existing row: see canonical_id (alias kept)
ST_REJECTED = "rejected"  # final for this op: see code/message; the batch goes on
ST_CONFLICT = "conflict"  # kept, but lost a conflict: a notice explains what to do
OP_STATUSES = (ST_APPLIED, ST_DUPLICATE, ST_MERGED, ST_REJECTED, ST_CONFLICT)

# Codes of a rejected op (OpResult.code)
R_HASH_MISMATCH = "hash_mismatch"  # op_id known with another payload, or sha256 wrong
R_INVALID = "invalid_payload"
R_UNKNOWN_OP = "unknown_op_type"
R_NOT_FOUND = "not_found"  # a referenced row is unknown to the county
R_SCOPE = "forbidden_scope"  # the row belongs to another service point (logged)
R_TOO_LARGE = "payload_too_large"

# Error codes of whole requests (ErrorBody.code)
ERR_PROTOCOL = "protocol_version"  # header missing/unsupported (426 when too old)
ERR_UNAUTHORIZED = "unauthorized"  # 401: missing/wrong/expired token → refresh once
ERR_TOKEN_EXPIRED = "token_expired"  # 401
ERR_FORBIDDEN = "forbidden"  # 403 (logged)
ERR_CODE_INVALID = "registration_code_invalid"  # 400: unknown, used or expired code
ERR_CREDENTIAL = "credential_invalid"  # 401: device credential unknown or revoked
ERR_INVALID = "invalid_request"  # 400/422: malformed body
ERR_TOO_LARGE = "too_large"  # 413: body or batch too big
ERR_INTERNAL = "internal"  # 5xx: retry with backoff
ERR_RATE_LIMITED = "rate_limited"  # 429: wait Retry-After seconds
ERR_DEVICE_DISABLED = "device_disabled"  # 403: push what you hold, erase, report EP_WIPED

# Notice kinds (stream "notices")
N_IDENTITY_MERGED = "identity_merged"
N_IDENTITY_REVIEW = "identity_review"
N_DOUBLE_ENROLLMENT = "double_enrollment"
N_REFUND_TASK = "refund_task"
N_CORRECTION = "correction_request"
N_STALE_UPDATE = "stale_update"
N_MOVE_CONFLICT = "move_conflict"  # two service points moved the same person
N_RESOLVED = "resolved"


# ---------------------------------------------------------------------------- helpers
def canonical_json(value: Any) -> str:
    """Identical to ``desktop.store.journal.canonical_json``: sorted keys, no spaces,
    UTF-8 kept. The payload hash is sha256 of this text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def payload_sha256(payload: Any) -> str:
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def entity_of(op_type: str) -> str | None:
    return OP_TYPES.get(op_type)


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


# ---------------------------------------------------------------------------- messages
@dataclass(frozen=True)
class ErrorBody:
    code: str
    message: str  # Chinese, tells the clerk/technician what to do
    details: Any = None

    def as_dict(self) -> dict:
        return _drop_none(asdict(self))


@dataclass(frozen=True)
class HealthResponse:
    """``GET /health``: ``status`` ok | degraded (503 when the database is unreachable)."""

    status: str
    protocol: int
    database: str  # ok | unavailable


@dataclass(frozen=True)
class RegisterRequest:
    code: str  # one-time registration code issued by the county admin
    device_name: str = ""
    app_version: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ServicePointInfo:
    id: str
    code: str
    name: str
    region_code: str

    @classmethod
    def from_dict(cls, d: dict) -> ServicePointInfo:
        return cls(d["id"], d["code"], d["name"], d["region_code"])


@dataclass(frozen=True)
class ReceiptKey:
    """The service point's receipt verification key (HMAC-SHA256), held by the county so it
    can check the codes printed on this point's receipts. ``key`` is hex (32 bytes)."""

    key_id: str  # e.g. "C-SP01"; printed in every verification code
    key: str

    @classmethod
    def from_dict(cls, d: dict | None) -> ReceiptKey | None:
        if not isinstance(d, dict) or not d.get("key_id") or not d.get("key"):
            return None
        return cls(str(d["key_id"]), str(d["key"]))


@dataclass(frozen=True)
class RegisterResponse:
    device_id: str
    credential: str  # keep in the OS keyring; < 200 bytes
    service_point: ServicePointInfo
    receipt_key: ReceiptKey | None = None  # install with the receipts service

    @classmethod
    def from_dict(cls, d: dict) -> RegisterResponse:
        return cls(
            d["device_id"],
            d["credential"],
            ServicePointInfo.from_dict(d["service_point"]),
            ReceiptKey.from_dict(d.get("receipt_key")),
        )

    def as_dict(self) -> dict:
        return asdict(self)


SCHEDULED_OPERATOR = "scheduled-task"  # operator_id of the unattended sync (not a person)


@dataclass(frozen=True)
class TokenRequest:
    credential: str
    operator_id: str
    operator_name: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class TokenResponse:
    token: str  # send as "Authorization: Bearer <token>"
    expires_in: int  # seconds
    device_id: str
    service_point_id: str
    disabled: bool = False  # the county disabled this device: push, erase, report EP_WIPED

    @classmethod
    def from_dict(cls, d: dict) -> TokenResponse:
        return cls(
            d["token"],
            int(d["expires_in"]),
            d["device_id"],
            d["service_point_id"],
            bool(d.get("disabled", False)),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Op:
    op_id: str
    device_seq: int
    op_type: str
    entity_id: str
    payload: dict
    payload_sha256: str
    base_version: int | None = None

    @classmethod
    def from_outbox_row(cls, row: dict) -> Op:
        """From a desktop outbox row (payload stored as canonical JSON text)."""
        return cls(
            op_id=row["op_id"],
            device_seq=int(row["device_seq"]),
            op_type=row["op_type"],
            entity_id=row["entity_id"],
            payload=json.loads(row["payload"]),
            payload_sha256=row["payload_sha256"],
            base_version=row.get("base_version"),
        )

    @classmethod
    def from_dict(cls, d: dict) -> Op:
        return cls(
            d["op_id"],
            int(d["device_seq"]),
            d["op_type"],
            d["entity_id"],
            d["payload"],
            d["payload_sha256"],
            d.get("base_version"),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PushRequest:
    batch_id: str
    ops: list[Op]

    def as_dict(self) -> dict:
        return {"batch_id": self.batch_id, "ops": [o.as_dict() for o in self.ops]}


@dataclass(frozen=True)
class OpResult:
    op_id: str
    status: str  # one of OP_STATUSES
    canonical_id: str | None = None  # the county's id for the entity (≠ entity_id if merged)
    version: int | None = None  # the county version after this op
    message: str = ""  # Chinese; empty when applied plainly
    code: str | None = None  # machine code for rejected ops (R_*) or notices
    replayed: bool = False  # True when this is the stored result of an earlier send
    corrections: list[str] = field(default_factory=list)  # county-owned fields → request
    conflict_id: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> OpResult:
        return cls(
            d["op_id"],
            d["status"],
            d.get("canonical_id"),
            d.get("version"),
            d.get("message", ""),
            d.get("code"),
            bool(d.get("replayed", False)),
            list(d.get("corrections") or []),
            d.get("conflict_id"),
        )

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PushResponse:
    batch_id: str
    results: list[OpResult]

    @classmethod
    def from_dict(cls, d: dict) -> PushResponse:
        return cls(d["batch_id"], [OpResult.from_dict(r) for r in d["results"]])


@dataclass(frozen=True)
class Change:
    seq: int  # position in its stream (0 in a snapshot page)
    stream: str  # one of STREAMS
    entity: str  # one of ENTITIES
    id: str
    op: str  # "upsert" | "remove"
    version: int
    data: dict | None

    @classmethod
    def from_dict(cls, d: dict) -> Change:
        return cls(
            int(d["seq"]), d["stream"], d["entity"], d["id"], d["op"], int(d["version"]), d["data"]
        )

    def as_dict(self) -> dict:
        return asdict(self)


def empty_cursor() -> dict[str, int]:
    return {s: 0 for s in STREAMS}


@dataclass(frozen=True)
class PullRequest:
    cursor: dict[str, int]  # stream → last seq applied locally (0 = from the start)
    limit: int = DEFAULT_PULL_LIMIT
    # the head of the desk's audit chain {"seq": n, "hash": h}: the county keeps it (anchor)
    audit_head: dict | None = None
    # how the desk is doing {"pending": n, "last_error": "E-…" or "", "app_version": "0.1.0",
    # "update": "staged:0.2.0" or ""}: the county console
    desk_status: dict | None = None

    def as_dict(self) -> dict:
        d = asdict(self)
        for key in ("audit_head", "desk_status"):
            if d[key] is None:
                del d[key]  # only what the desk has to say
        return d


@dataclass(frozen=True)
class PullResponse:
    changes: list[Change]
    next_cursor: dict[str, int]  # store it in the same local transaction as the changes
    has_more: bool
    # the application version the county lets this desk install {"version": "0.2.0"}; None:
    # stay on the version it runs (a desk of the version before ignores it)
    update: dict | None = None

    @classmethod
    def from_dict(cls, d: dict) -> PullResponse:
        return cls(
            [Change.from_dict(c) for c in d["changes"]],
            {k: int(v) for k, v in d["next_cursor"].items()},
            bool(d["has_more"]),
            d.get("update") or None,
        )


# What a desk says of its application update in its status ({"update": "<state>:<version>"})
UPDATE_STATES = ("downloading", "staged", "installed", "refused", "rolled_back")


@dataclass(frozen=True)
class SnapshotRequest:
    page_token: str | None = None  # None = start; else the token of the previous page
    limit: int = DEFAULT_SNAPSHOT_LIMIT

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class SnapshotResponse:
    changes: list[Change]  # upserts of current rows
    next_page_token: str | None  # None when done
    done: bool
    cursor: dict[str, int]  # after the last page: pull from here (fixed when the snapshot began)

    @classmethod
    def from_dict(cls, d: dict) -> SnapshotResponse:
        return cls(
            [Change.from_dict(c) for c in d["changes"]],
            d.get("next_page_token"),
            bool(d["done"]),
            {k: int(v) for k, v in d["cursor"].items()},
        )
