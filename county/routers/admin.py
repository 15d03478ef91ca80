"""Admin endpoints (bearer admin key): conflicts and the security log."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from county import admin as svc
from county.deps import AdminDep, PoolDep
from county.errors import ApiError
from county.schemas import ConflictOut, ResolveBody, ResolveOut, SecurityEventOut

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


@router.get("/conflicts", response_model=list[ConflictOut])
def list_conflicts(
    _: AdminDep, pool: PoolDep, status: Literal["open", "resolved", "all"] = "open"
) -> list[dict]:
    with pool.connection() as conn:
        return svc.list_conflicts(conn, status)


@router.post("/conflicts/{conflict_id}/resolve", response_model=ResolveOut)
def resolve(conflict_id: str, body: ResolveBody, _: AdminDep, pool: PoolDep) -> dict:
    try:
        with pool.connection() as conn, conn.transaction():
            return svc.resolve_conflict(
                conn, conflict_id[:64], body.decision, winner_id=body.winner_id, note=body.note
            )
    except svc.AdminError as e:
        raise ApiError(e.status, e.code, str(e)) from None


@router.get("/security-events", response_model=list[SecurityEventOut])
def security_events(_: AdminDep, pool: PoolDep, limit: int = 100) -> list[dict]:
    with pool.connection() as conn:
        return svc.security_events(conn, max(1, min(limit, 1000)))
