"""Console pages: log-in, service points and devices, conflicts and corrections. Each action
goes through the same functions as the ``township-county`` commands (one code path) and is
written to ``staff_audit``."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from core.categories import PERSON_STATUS
from core.records.persons import HOUSEHOLD_LABELS, PERSON_LABELS
from county import admin, places
from county.conflicts import KIND_LABELS
from county.console import FEW_POINTS, PREFIX, region_code, templates
from county.console import auth as a
from county.deps import TEN_MINUTES, _remote, too_many
from county.model import ENUMS
from county.tables import AdminError

router = APIRouter(prefix=PREFIX, include_in_schema=False)

# the desks' sync error codes, as a case worker reads them
SYNC_ERRORS = {
    "E-SYNC-OFFLINE": "连不上县服务器",
    "E-SYNC-SERVER": "县服务器出错",
    "E-SYNC-AUTH": "设备凭证被拒",
    "E-SYNC-TLS": "证书不对",
    "E-SYNC-VERSION": "软件版本过旧",
    "E-DISK-001": "电脑磁盘已满",
    "E-SYNC-PROTO": "上传被拒",
    "E-SYNC-CANCEL": "被取消",
}
DECISION_LABELS = {
    "keep": "确认自动裁定",
    "winner": "改为保留另一条参保登记",
    "keep_county": "保留县里的信息",
    "use_desktop": "采用服务点提交的信息",
    "accept": "同意更正",
    "reject": "不同意更正",
    "confirm": "确认是同一人",
    "keep_first": "保留先办理的迁移",
}


def page(request: Request, name: str, staff: a.Staff | None, **ctx) -> HTMLResponse:
    return templates.TemplateResponse(request, name, {"staff": staff, "prefix": PREFIX, **ctx})


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login")
def login_form(request: Request, error: str = "") -> HTMLResponse:
    token = secrets.token_urlsafe(24)
    resp = page(request, "login.html", None, login_token=token, error=error)
    resp.set_cookie(
        a.LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request)
    )
    return resp


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    login_token: str = Form(""),
):
    cookie = request.cookies.get(a.LOGIN_COOKIE) or ""
    if not cookie or not secrets.compare_digest(cookie, login_token):
        raise a.Forbidden("登录页面已过期，请刷新后重新登录")
    where = _remote(request) or "?"
    limit = request.app.state.settings.admin_failures
    too_many(request, "console_login", where, limit, TEN_MINUTES, count=False)
    now = request.app.state.clock()
    with request.app.state.pool.connection() as conn, conn.transaction():
        row = a.check_password(conn, username, password, now)
        if row is None:
            request.app.state.limiter.hit("console_login", where, TEN_MINUTES)
            return login_form(request, error="用户名或密码不正确（连续错误多次将暂时锁定）")
        minutes = request.app.state.settings.console_session_minutes
        token = a.start_session(conn, row["id"], now, minutes)
        a.audit(conn, row["id"], "staff.login", row["username"], {"from": where})
    resp = RedirectResponse(f"{PREFIX}/", status_code=303)
    resp.set_cookie(a.COOKIE, token, httponly=True, samesite="strict", secure=_secure(request))
    resp.delete_cookie(a.LOGIN_COOKIE)
    return resp


@router.post("/logout")
def logout(request: Request, csrf: str = Form("")):
    staff = a.require(request, "reports", csrf)
    with request.app.state.pool.connection() as conn, conn.transaction():
        a.end_session(conn, request.cookies.get(a.COOKIE))
        a.audit(conn, staff.id, "staff.logout", staff.username)
    resp = RedirectResponse(f"{PREFIX}/login", status_code=303)
    resp.delete_cookie(a.COOKIE)
    return resp


@router.get("/")
def home(request: Request):
    staff = a.current(request)
    target = "devices" if staff.may("devices") else "reports"
    return RedirectResponse(f"{PREFIX}/{target}", status_code=303)


# ------------------------------------------------------------------ devices


POINTS_SHOWN, DEVICES_SHOWN = 200, 500  # a province has thousands: the filter narrows


@router.get("/devices")
def devices(
    request: Request, issued: str = "", error: str = "", region: str = "", q: str = ""
) -> HTMLResponse:
    staff = a.require(request, "devices")
    region = staff.region(region_code(region))
    q = q.strip()[:40]
    with request.app.state.pool.connection() as conn:
        points = places.list_service_points(conn, region=region, q=q, limit=POINTS_SHOWN + 1)
        rows = places.list_devices(conn, region=region, q=q, limit=DEVICES_SHOWN + 1)
        counties = [c for c in places.regions(conn) if staff.covers(c["code"])]
    return page(
        request,
        "devices.html",
        staff,
        points=points[:POINTS_SHOWN],
        devices=rows[:DEVICES_SHOWN],
        more_points=len(points) > POINTS_SHOWN,
        more_devices=len(rows) > DEVICES_SHOWN,
        shown=(POINTS_SHOWN, DEVICES_SHOWN),
        counties=counties,
        region=region,
        q=q,
        issued=issued,
        error=error,
        reasons=places.DISABLE_REASONS,
        errors=SYNC_ERRORS,
    )


@router.get("/points/{code}")
def point(request: Request, code: str) -> HTMLResponse:
    """One service point: its villages, operators and devices."""
    staff = a.require(request, "devices")
    with request.app.state.pool.connection() as conn:
        detail = places.point_detail(conn, code)
    if detail is not None and not staff.covers(detail["region_code"]):
        raise staff.refuse_outside()
    if detail is None:
        return templates.TemplateResponse(
            request,
            "message.html",
            {
                "staff": staff,
                "prefix": PREFIX,
                "title": "没有这个服务点",
                "message": "请从服务点列表进入。",
            },
            status_code=404,
        )
    return page(
        request,
        "point.html",
        staff,
        point=detail,
        reasons=places.DISABLE_REASONS,
        errors=SYNC_ERRORS,
    )


@router.post("/devices/code")
def issue_code(request: Request, service_point: str = Form(""), csrf: str = Form("")):
    staff = a.require(request, "devices.change", csrf)
    try:
        with request.app.state.pool.connection() as conn, conn.transaction():
            if not staff.covers(places.service_point_by_code(conn, service_point)["region_code"]):
                raise staff.refuse_outside()
            r = places.issue_device_code(conn, service_point, 72, note=f"控制台 {staff.username}")
            a.audit(conn, staff.id, "device_code.issue", r["service_point"])
    except AdminError as e:
        return devices(request, error=str(e))
    return page(request, "code.html", staff, code=r, point=service_point)


@router.post("/devices/disable")
def disable(request: Request, device: str = Form(""), reason: str = Form(""), csrf: str = Form("")):
    staff = a.require(request, "devices.change", csrf)
    try:
        with request.app.state.pool.connection() as conn, conn.transaction():
            region = places.device_region(conn, device)
            if region is not None and not staff.covers(region):
                raise staff.refuse_outside()
            places.disable_device(conn, device, reason)
            a.audit(conn, staff.id, "device.disable", device, {"reason": reason})
    except AdminError as e:
        return devices(request, error=str(e))
    return RedirectResponse(f"{PREFIX}/devices", status_code=303)


# ------------------------------------------------------------------ conflicts


CONFLICTS_SHOWN = 500  # a page of the list; the filters narrow it


@router.get("/conflicts")
def conflicts(
    request: Request, state: str = "open", kind: str = "", point: str = ""
) -> HTMLResponse:
    staff = a.require(request, "conflicts")
    state = state if state in ("open", "resolved", "all") else "open"
    point = point.strip()[:40]
    region = staff.region()
    with request.app.state.pool.connection() as conn:
        # the filter's points: the account's county's (or every county's, up to a few)
        choices = places.list_service_points(conn, region=region, limit=FEW_POINTS + 1)
        chosen = places.list_service_points(conn, region=region, q=point) if point else []
        sp_id = next((p["id"] for p in chosen if p["code"] == point.upper()), None)
        rows = (
            []
            if point and sp_id is None  # no such point (of this county): nothing to list
            else admin.list_conflicts(
                conn,
                state,
                kind=kind if kind in KIND_LABELS else "",
                sp_id=sp_id or "",
                region=region,
                limit=CONFLICTS_SHOWN + 1,
                newest_first=state != "open",  # open: the oldest waits longest, first
            )
        )
        more = len(rows) > CONFLICTS_SHOWN
        rows = rows[:CONFLICTS_SHOWN]
        names = places.points_by_id(conn, {s for r in rows for s in r["sp_ids"]})
    for r in rows:
        r["points"] = [names[s]["name"] for s in r["sp_ids"] if s in names]
    return page(
        request,
        "conflicts.html",
        staff,
        rows=rows,
        state=state,
        kind=kind,
        point=point,
        kinds=KIND_LABELS,
        points=choices,
        few=FEW_POINTS,
        more=more,
        shown=CONFLICTS_SHOWN,
    )


@router.get("/conflicts/{conflict_id}")
def conflict(request: Request, conflict_id: str, error: str = "") -> HTMLResponse:
    staff = a.require(request, "conflicts")
    with request.app.state.pool.connection() as conn:
        c = admin.get_conflict(conn, conflict_id[:64])
        points = _points_of(conn, staff, c)
        by = ((c or {}).get("resolution") or {}).get("by")
        resolved_by = a.actor_names(conn, [by]).get(by, "")
    if c is None:
        return page(request, "message.html", staff, title="找不到", message="没有这条冲突记录")
    names = {i: p["name"] for i, p in points.items()}
    return page(
        request,
        "conflict.html",
        staff,
        c=c,
        sides=_sides(c, names),
        enrollments=[
            (e["id"], names.get(e.get("sp_id"), ""))
            for e in (c["detail"] or {}).get("enrollments", [])
        ],
        kind_label=KIND_LABELS.get(c["kind"], c["kind"]),
        decisions=[(d, DECISION_LABELS.get(d, d)) for d in admin.DECISIONS.get(c["kind"], ())],
        points="、".join(names.get(s, "") for s in c["sp_ids"]),
        resolved_by=resolved_by,
        error=error,
    )


def _points_of(conn, staff: a.Staff, c: dict | None) -> dict[str, dict]:
    """The service points a conflict touches (and any its enrollments name), refused when
    none is of the account's county (a double enrollment across two counties is both's)."""
    if c is None:
        return {}
    ids = set(c["sp_ids"]) | {
        e.get("sp_id") for e in (c["detail"] or {}).get("enrollments", []) if e.get("sp_id")
    }
    points = places.points_by_id(conn, ids)
    if staff.county and not any(
        points[s]["region_code"] == staff.county for s in c["sp_ids"] if s in points
    ):
        raise staff.refuse_outside()  # (one of no service point is the province's)
    return points


def _sides(c: dict, names: dict[str, str]) -> tuple[list[str], list[list[str]]]:
    """The header and rows of the side-by-side view, in words (no codes, no ids)."""
    d = c["detail"] or {}
    if c["kind"] == "double_enrollment":
        rows = [
            [
                names.get(e.get("sp_id"), ""),
                "已缴费" if e.get("paid") else "未缴费",
                "有" if e.get("receipt") else "无",
                "已确认" if e.get("tax") else "未确认",
                "✓ 保留" if e.get("id") == (d.get("pinned_winner") or d.get("winner")) else "",
            ]
            for e in d.get("enrollments", [])
        ]
        return ["服务点", "缴费", "收据", "税务确认", "裁定"], rows
    fields = d.get("differences") or d.get("fields") or {}
    rows = []
    for f, v in fields.items():
        if isinstance(v, dict):
            label = PERSON_LABELS.get(f) or HOUSEHOLD_LABELS.get(f) or f
            left = v.get("county", v.get("current", ""))
            right = v.get("desktop", v.get("requested", ""))
            rows.append([label, _in_words(f, left), _in_words(f, right)])
    return ["项目", "县里现有", "服务点提交"], rows


def _in_words(field: str, value) -> str:
    """A field's value as the case worker reads it: a code (male, dibao, 1) in its words."""
    if value is None:
        return ""
    if field == "status":
        try:
            return PERSON_STATUS.get(int(value), str(value))
        except (TypeError, ValueError):
            return str(value)
    table = ENUMS.get(field)
    return table.get(value, str(value)) if table else str(value)


@router.post("/conflicts/{conflict_id}/resolve")
def resolve(
    request: Request,
    conflict_id: str,
    decision: str = Form(""),
    note: str = Form(""),
    winner: str = Form(""),
    csrf: str = Form(""),
):
    staff = a.require(request, "conflicts.resolve", csrf)
    note = note.strip()[:500]
    if not note:
        return conflict(request, conflict_id, error="请写明处理理由（会发给相关服务点）")
    try:
        with request.app.state.pool.connection() as conn, conn.transaction():
            _points_of(conn, staff, admin.get_conflict(conn, conflict_id[:64]))
            admin.resolve_conflict(
                conn, conflict_id, decision, winner_id=winner or None, note=note, by=staff.username
            )
            a.audit(conn, staff.id, "conflict.resolve", conflict_id, {"decision": decision})
    except AdminError as e:
        return conflict(request, conflict_id, error=str(e))
    return RedirectResponse(f"{PREFIX}/conflicts", status_code=303)
