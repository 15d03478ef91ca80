"""Console: 账号 — an administrator opens accounts for the bureau's case workers and stops
them when they leave, without the IT technician's command line. An administrator of one
county opens and stops accounts of that county only; one of every county chooses the county
(or none). Every change is audited; one code path with ``township-county staff``."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from county.console import PREFIX, templates
from county.console import auth as a
from county.tables import AdminError

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/staff")
def staff_page(request: Request, error: str = "", done: str = "") -> HTMLResponse:
    staff = a.require(request, "staff")
    with request.app.state.pool.connection() as conn:
        rows = [r for r in a.list_staff(conn) if staff.covers(r["county"])]
    return templates.TemplateResponse(
        request,
        "staff.html",
        {
            "staff": staff,
            "prefix": PREFIX,
            "rows": rows,
            "roles": a.ROLES,
            "error": error,
            "done": done,
        },
    )


@router.post("/staff/create")
def create(
    request: Request,
    username: str = Form(""),
    display_name: str = Form(""),
    role: str = Form(""),
    password: str = Form(""),
    county: str = Form(""),
    csrf: str = Form(""),
):
    staff = a.require(request, "staff", csrf)
    try:  # one county's administrator opens accounts of its own county, whatever was sent
        with request.app.state.pool.connection() as conn, conn.transaction():
            a.create_staff(
                conn, username, display_name, role, password, staff.county or county, by=staff.id
            )
    except AdminError as e:
        return staff_page(request, error=str(e))
    return RedirectResponse(f"{PREFIX}/staff?done=created", status_code=303)


@router.post("/staff/{username}/active")
def active(request: Request, username: str, active: str = Form(""), csrf: str = Form("")):
    staff = a.require(request, "staff", csrf)
    if username.strip().lower() == staff.username:
        return staff_page(request, error="不能停用自己正在使用的账号")
    with request.app.state.pool.connection() as conn, conn.transaction():
        target = a.set_staff_active(conn, username, active == "1")
        if target is None:
            return staff_page(request, error="没有这个账号")
        if not staff.covers(target["county"]):
            raise staff.refuse_outside()  # leaving the transaction undoes the change
        a.audit(conn, staff.id, "staff.active" if active == "1" else "staff.stop", username)
    return RedirectResponse(f"{PREFIX}/staff?done={'on' if active == '1' else 'off'}", 303)
