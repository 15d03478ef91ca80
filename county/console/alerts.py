"""Console: the 因病返贫 warnings the desks raised (issue 16) — who, where, the year's
burden against the line — and, once a case worker has passed the list to civil affairs
(Jinhua's item 9: push large medical expenses of vulnerable people to 民政), the mark."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from core.categories import INSURED_CATEGORIES
from core.ids import mask_id
from county.console import PREFIX, templates
from county.console import auth as a
from county.console.reports import xlsx_response
from county.ingest.alerts import hand_over, list_alerts
from county.model import CHINA, china_minute

router = APIRouter(prefix=PREFIX, include_in_schema=False)
STATES = {"open": "待推送民政", "handed": "已推送民政", "all": "全部"}


SHOWN = 500  # rows on the page; the export has them all


@router.get("/alerts")
def alerts(request: Request, state: str = "open") -> HTMLResponse:
    staff = a.require(request, "alerts")
    state = state if state in STATES else "open"
    with request.app.state.pool.connection() as conn:
        rows = list_alerts(conn, state=state, region=staff.region(), limit=SHOWN + 1)
        handed = a.actor_names(conn, (r["handed_by"] for r in rows))
    for r in rows:
        r["handed_name"] = handed.get(r["handed_by"], "")
        r["cert_masked"] = mask_id(r["cert_no"])
        r["category_label"] = INSURED_CATEGORIES.get(r["category"], r["category"])
    return templates.TemplateResponse(
        request,
        "alerts.html",
        {
            "staff": staff,
            "prefix": PREFIX,
            "rows": rows[:SHOWN],
            "more": len(rows) > SHOWN,
            "shown": SHOWN,
            "state": state,
            "states": STATES,
        },
    )


EXPORT_HEADER = [
    "姓名",
    "身份证号",
    "服务点",
    "村",
    "人员类别",
    "年度",
    "本年个人负担（元）",
    "预警线（元）",
    "依据",
    "上报时间",
    "推送民政",
]


@router.get("/alerts/export")
def export(request: Request, state: str = "open") -> Response:
    """The list for civil affairs (推送民政): every warning in ``state``, with the whole ID
    number 民政 needs to find the person — so the export is audited (who, when, how many),
    as a case worker's hand-over of personal data is."""
    staff = a.require(request, "alerts")
    state = state if state in STATES else "open"
    with request.app.state.pool.connection() as conn, conn.transaction():
        rows = list_alerts(conn, state=state, region=staff.region(), limit=None)
        handed = a.actor_names(conn, (r["handed_by"] for r in rows))
        scope = {"county": staff.county} if staff.county else {}
        a.audit(conn, staff.id, "alert.export", state, {"rows": len(rows), **scope})
    table = [
        [
            r["name"] or "",
            r["cert_no"],
            r["sp_name"],
            r["village"] or "",
            INSURED_CATEGORIES.get(r["category"], r["category"]),
            r["year"],
            str(r["burden"]),
            str(r["threshold"]),
            r["basis"] or "",
            china_minute(r["received_at"]),
            f"已推送（{china_minute(r['handed_at'])}，{handed.get(r['handed_by'], '')}）"
            if r["handed_at"]
            else "",
        ]
        for r in rows
    ]
    today = dt.datetime.now(CHINA).date().isoformat()
    return xlsx_response(
        "因病返贫预警",
        EXPORT_HEADER,
        table,
        f"alerts-{state}-{today}.xlsx",
        f"因病返贫预警名单（{STATES[state]}）{today}.xlsx",
    )


@router.post("/alerts/{alert_id}/hand")
def hand(request: Request, alert_id: str, note: str = Form(""), csrf: str = Form("")):
    staff = a.require(request, "alerts", csrf)
    with request.app.state.pool.connection() as conn, conn.transaction():
        if hand_over(conn, alert_id, staff.username, note.strip(), staff.region()):
            a.audit(conn, staff.id, "alert.hand_over", alert_id, {"note": note.strip()[:200]})
    return RedirectResponse(f"{PREFIX}/alerts", status_code=303)
