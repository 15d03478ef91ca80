"""Console: application updates (issue 17) — the versions the county holds (imported from
the project's signed releases with ``township-county updates import``), which version each
service point may install (every point, a pilot group first, or held back), and the PCs by
the version they run with what each last said of its update. One code path with the CLI
(``county.updates``)."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from county import places
from county import updates as up
from county.console import FEW_POINTS, PREFIX, picked_points, templates
from county.console import auth as a
from county.tables import AdminError

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@router.get("/updates")
def updates_page(request: Request, error: str = "", saved: int = 0) -> HTMLResponse:
    staff = a.require(request, "updates")
    with request.app.state.pool.connection() as conn:
        o = up.overview(conn, staff.region())
        points = places.list_service_points(conn, region=staff.region(), limit=FEW_POINTS + 1)
        counties = [c for c in places.regions(conn) if staff.covers(c["code"])]
    for d in o["desks"]:
        d["states"] = sorted({up.describe(u) for u in d["updates"] if u})
    return templates.TemplateResponse(
        request,
        "updates.html",
        {
            "staff": staff,
            "prefix": PREFIX,
            "o": o,
            "points": points,
            "counties": counties,
            "few": FEW_POINTS,
            "all": up.ALL,
            "error": error,
            "saved": bool(saved),
        },
    )


@router.post("/updates/offer")
async def offer(
    request: Request, csrf: str = Form(""), what: str = Form(""), version: str = Form("")
):
    staff = a.require(request, "updates.offer", csrf)
    form = await request.form()
    try:
        with request.app.state.pool.connection() as conn, conn.transaction():
            codes = (
                picked_points(
                    conn,
                    [str(c) for c in form.getlist("point")],
                    str(form.get("pick_codes", "")),
                    [str(r) for r in form.getlist("pick_region")],
                    county=staff.county,
                )
                or None
            )
            if codes is None and staff.county and what != "follow":
                # the offer for every point is every county's: a county's account that
                # chose no point means every point of its county
                codes = picked_points(conn, [], "", [staff.county], county=staff.county)
                if not codes:
                    raise up.UpdateError("本县还没有服务点")
            if what == "follow":
                if not codes:
                    raise up.UpdateError("请勾选要改回“跟随全部服务点”的服务点")
                up.clear_offer(conn, codes)
            elif what in ("offer", "hold"):
                up.set_offer(conn, version if what == "offer" else None, codes, staff.username)
            else:
                raise up.UpdateError("请选择：可升级、暂不升级或跟随全部服务点")
            a.audit(conn, staff.id, f"update.{what}", version or "-", {"points": codes or ["*"]})
    except (up.UpdateError, AdminError) as e:
        return updates_page(request, error=str(e))
    return RedirectResponse(f"{PREFIX}/updates?saved=1", status_code=303)
