"""Console: the 因病返贫 warnings the desks raised (issue 16) — who, where, the year's
burden against the line — and, once a case worker has passed the list to civil affairs
(Jinhua's item 9: push large medical expenses of vulnerable people to 民政), the mark."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from core.categories import INSURED_CATEGORIES
from core.ids import mask_id
from county.console import PREFIX, templates
from county.console import auth as a
from county.ingest.alerts import hand_over, list_alerts

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STATES = {"open": "待推送民政", "handed": "已推送民政", "all": "全部"}


@router.get("/alerts")
def alerts(request: Request, state: str = "open") -> HTMLResponse:
    staff = a.require(request, "alerts")
    state = state if state in STATES else "open"
    with request.app.state.pool.connection() as conn:
        rows = list_alerts(conn, state=state)
    for r in rows:
        r["cert_masked"] = mask_id(r["cert_no"])
        r["category_label"] = INSURED_CATEGORIES.get(r["category"], r["category"])
    return templates.TemplateResponse(
        request,
        "alerts.html",
        {"staff": staff, "prefix": PREFIX, "rows": rows, "state": state, "states": STATES},
    )


@router.post("/alerts/{alert_id}/hand")
def hand(request: Request, alert_id: str, note: str = Form(""), csrf: str = Form("")):
    staff = a.require(request, "alerts", csrf)
    with request.app.state.pool.connection() as conn, conn.transaction():
        if hand_over(conn, alert_id, staff.username, note.strip()):
            a.audit(conn, staff.id, "alert.hand_over", alert_id, {"note": note.strip()[:200]})
    return RedirectResponse(f"{PREFIX}/alerts", status_code=303)
