from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core import syncproto as sp

router = APIRouter(tags=["health"])


@router.get(
    sp.EP_HEALTH,
    response_model=sp.HealthResponse,
    responses={503: {"model": sp.HealthResponse, "description": "数据库不可用"}},
)
def health(request: Request):
    """Liveness and database check (503 when the database is unreachable)."""
    try:
        with request.app.state.pool.connection(timeout=5) as conn:
            conn.execute("SELECT 1")
        db = "ok"
    except Exception:  # noqa: BLE001 — any failure means "not ready"
        db = "unavailable"
    body = {
        "status": "ok" if db == "ok" else "degraded",
        "protocol": sp.PROTOCOL_VERSION,
        "database": db,
    }
    return JSONResponse(body, status_code=200 if db == "ok" else 503)
