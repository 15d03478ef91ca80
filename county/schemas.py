"""Request bodies as the API validates them (the wire shapes of ``core.syncproto``), and the
response models of the admin routes. The sync routes answer with the protocol's own
dataclasses (``core.syncproto.PushResponse`` …) as their ``response_model``: one
declaration for the desk, the county and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core import syncproto as sp

Id = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore")


class RegisterBody(_Model):
    code: str = Field(min_length=1, max_length=64)
    device_name: str = Field(default="", max_length=100)
    app_version: str = Field(default="", max_length=40)


class EscrowBody(_Model):
    folder_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    store_key: str = Field(pattern=r"^[0-9a-f]{64}$")


class RecoverBody(RegisterBody):
    """A one-time recovery code (same shape as a registration)."""


class TokenBody(_Model):
    credential: str = Field(min_length=1, max_length=300)
    operator_id: str = Field(min_length=1, max_length=64)
    operator_name: str = Field(default="", max_length=100)


class OpBody(_Model):
    op_id: str = Id
    device_seq: int = Field(ge=0, le=2**62)
    op_type: str = Field(min_length=1, max_length=64)
    entity_id: str = Id
    base_version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    payload: dict[str, Any]
    payload_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class PushBody(_Model):
    batch_id: str = Id
    ops: list[OpBody]


class AuditHeadBody(_Model):
    seq: int = Field(ge=0)
    hash: str = Field(min_length=1, max_length=128)


class DeskStatusBody(_Model):
    pending: int = Field(ge=0, le=10_000_000)
    last_error: str = Field(default="", max_length=40)
    app_version: str = Field(default="", max_length=40, pattern=r"^[0-9A-Za-z.+-]*$")
    update: str = Field(default="", max_length=60, pattern=r"^([a-z_]+:[0-9A-Za-z.+-]+)?$")


class PullBody(_Model):
    cursor: dict[str, int] = Field(default_factory=sp.empty_cursor)
    limit: int = Field(default=sp.DEFAULT_PULL_LIMIT, ge=1, le=sp.MAX_PULL_LIMIT)
    audit_head: AuditHeadBody | None = None
    desk_status: DeskStatusBody | None = None


class SnapshotBody(_Model):
    page_token: str | None = Field(default=None, max_length=4096)
    limit: int = Field(default=sp.DEFAULT_SNAPSHOT_LIMIT, ge=1, le=sp.MAX_SNAPSHOT_LIMIT)


class ResolveBody(_Model):
    decision: str = Field(min_length=1, max_length=40)
    winner_id: str | None = Field(default=None, max_length=64)
    note: str = Field(default="", max_length=500)


class ConflictOut(_Model):
    """One conflict or correction request as the admin console lists it."""

    id: str
    kind: str
    status: str
    person_id: str | None = None
    year: int | None = None
    entity: str | None = None
    entity_id: str | None = None
    sp_ids: list[str] | None = None
    summary: str = ""
    detail: Any = None
    created_at: str | None = None
    resolved_at: str | None = None
    resolution: Any = None


class ResolveOut(_Model):
    id: str
    status: str
    decision: str
    result: str


class SecurityEventOut(_Model):
    id: int
    at: str
    kind: str
    device_id: str | None = None
    sp_id: str | None = None
    remote: str | None = None
    path: str | None = None
    detail: Any = None
