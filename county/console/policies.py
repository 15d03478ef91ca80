"""Console policies: upload a policy file, see the checker's verdict (the desk's own parser),
what changed against the file in force (a line diff) and a preview — reference bills and
people estimated under both — then publish to every desk; the history of what was
published when and by whom. One code path with ``township-county publish-policy``."""

from __future__ import annotations

import difflib
import re
import secrets
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from county import admin, places
from county.console import FEW_POINTS, PREFIX, picked_points, templates
from county.console import auth as a
from county.console.imports import upload_dir
from county.tables import AdminError

router = APIRouter(prefix=PREFIX, include_in_schema=False)
MAX_BYTES = 512 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]{20,40}\.toml$")


def _applying(staff: a.Staff) -> dict:
    """The files a county's account sees: those that apply to its county — its own, its
    city's, its province's and the national default (as its desks choose them); every file
    for an account of every county."""
    from core.policy import NATIONAL_REGION  # deferred: policy parsing loads only here

    c = staff.county or ""
    return {
        "all": not c,
        "county": c,
        "regions": [c, c[:4] + "00", c[:2] + "0000", NATIONAL_REGION],
    }


def _page(request: Request, staff: a.Staff, **ctx) -> HTMLResponse:
    scope = _applying(staff)
    with request.app.state.pool.connection() as conn:
        current = conn.execute(CURRENT_SQL, scope).fetchall()
        history = conn.execute(
            "SELECT policy_id, version, title, year, published_at, published_by,"
            " cardinality(sp_names) > 0 AS piloted, own.names AS sp_names,"
            " cardinality(sp_names) - cardinality(own.names) AS others"
            " FROM policy_history, LATERAL (SELECT ARRAY(SELECT n FROM unnest(sp_names) n"
            "  WHERE %(all)s OR n IN (SELECT name FROM service_point"
            "   WHERE region_code = %(county)s))) AS own(names)"
            " WHERE %(all)s OR policy_id IN (SELECT id FROM policy"
            " WHERE region = ANY(%(regions)s) UNION SELECT policy_id FROM policy_pilot"
            " WHERE region = ANY(%(regions)s))"
            " ORDER BY published_at DESC, id DESC LIMIT 100",
            scope,
        ).fetchall()
        publishers = a.actor_names(conn, (h["published_by"] for h in history))
        points = places.list_service_points(conn, region=staff.region(), limit=FEW_POINTS + 1)
        counties = [c for c in places.regions(conn) if staff.covers(c["code"])]
    for h in history:
        h["published_by"] = publishers.get(h["published_by"], "")
    for p in current:
        p["pilots"] = [{"version": v, **pilot} for v, pilot in sorted((p["pilots"] or {}).items())]
    return templates.TemplateResponse(
        request,
        "policies.html",
        {
            "staff": staff,
            "prefix": PREFIX,
            "current": current,
            "history": history,
            "points": points,
            "counties": counties,
            "few": FEW_POINTS,
            **ctx,
        },
    )


# every policy: the county-wide version (if any) and the pilots, by version, with the
# names of the service points holding each (a county's account: its own points only, and
# how many of other counties' there are)
CURRENT_SQL = """
SELECT ids.id, max(p.version) AS version, max(p.published_at) AS published_at,
       coalesce(max(p.title), max(t.title)) AS title, coalesce(max(p.year), max(t.year)) AS year,
       coalesce(max(p.region), max(t.region)) AS region,
       (SELECT jsonb_object_agg(v.version, jsonb_build_object('names', v.names,
            'others', v.others)) FROM (
            SELECT pp.version,
                   coalesce(jsonb_agg(sp.name ORDER BY sp.code) FILTER (WHERE %(all)s
                       OR sp.region_code = %(county)s), '[]') AS names,
                   count(*) FILTER (WHERE NOT (%(all)s OR sp.region_code = %(county)s))
                       AS others
            FROM policy_pilot pp JOIN service_point sp ON sp.id = pp.sp_id
            WHERE pp.policy_id = ids.id
            GROUP BY pp.version) v) AS pilots
FROM (SELECT id FROM policy UNION SELECT policy_id FROM policy_pilot) ids
LEFT JOIN policy p ON p.id = ids.id
LEFT JOIN policy_pilot t ON t.policy_id = ids.id
GROUP BY ids.id
HAVING %(all)s OR coalesce(max(p.region), max(t.region)) = ANY(%(regions)s)
ORDER BY year DESC, ids.id
"""


@router.get("/policies")
def policies(request: Request) -> HTMLResponse:
    return _page(request, a.require(request, "policies"))


def _in_force(request: Request, policy_id: str):
    with request.app.state.pool.connection() as conn:
        row = conn.execute("SELECT toml FROM policy WHERE id = %s", (policy_id,)).fetchone()
    return row["toml"] if row else None


@router.post("/policies/check")
async def check(
    request: Request,
    csrf: str = Form(""),
    upload: UploadFile | None = File(None),  # noqa: B008 (FastAPI's way)
):
    staff = a.require(request, "policies", csrf)
    if upload is None or not (upload.filename or "").lower().endswith(".toml"):
        return _page(request, staff, error="请选择政策文件（.toml）")
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return _page(request, staff, error="政策文件太大（超过512KB），请核对是否选错了文件")
    try:
        text = data.decode("utf-8")
        new = admin.check_policy_text(text, upload.filename)
    except UnicodeDecodeError:
        return _page(request, staff, error="政策文件不是 UTF-8 文本")
    except AdminError as e:
        return _page(request, staff, error=str(e), filename=upload.filename)
    if refused := _not_theirs(request, staff, new):
        return _page(request, staff, error=refused, filename=upload.filename)
    name = secrets.token_urlsafe(24) + ".toml"
    (upload_dir() / name).write_text(text, encoding="utf-8")
    return _checked(request, staff, new, text, upload.filename, name)


def _not_theirs(request: Request, staff: a.Staff, new) -> str:
    """Why an account of one county may not publish this file ("" when it may): a county's
    account publishes its county's files only — a city's or the province's file, or one
    that would replace such a file, is every county's."""
    if not staff.county:
        return ""
    with request.app.state.pool.connection() as conn:
        held = conn.execute(
            "SELECT region FROM policy WHERE id = %(i)s UNION"
            " SELECT region FROM policy_pilot WHERE policy_id = %(i)s",
            {"i": new.id},
        ).fetchall()
    if new.region != staff.county or any(h["region"] != staff.county for h in held):
        return (
            f"这个账号只能发布区划 {staff.county} 本县的政策文件；"
            f"这份文件适用于区划 {new.region}，请由省（市）医保局的管理员发布"
        )
    return ""


def _checked(request, staff, new, text: str, filename: str, name: str, **extra) -> HTMLResponse:
    """The checked file: what changes against the file in force, the preview, publishing."""
    from core.policy.preview import compare  # deferred: the estimator loads only here

    old_text = _in_force(request, new.id)
    old = admin.check_policy_text(old_text, "（现行）") if old_text else None
    diff = list(
        difflib.unified_diff(
            (old_text or "").splitlines(), text.splitlines(), "现行文件", "新文件", lineterm="", n=2
        )
    )
    return _page(
        request,
        staff,
        checked=new,
        filename=filename,
        diff=diff[2:] if diff else [],
        replaces=old is not None,
        preview=compare(old, new),
        upload=name,
        **extra,
    )


@router.post("/policies/publish")
def publish(
    request: Request,
    upload: str = Form(""),
    csrf: str = Form(""),
    scope: str = Form("all"),
    points: list[str] = Form([]),  # noqa: B008 (FastAPI's way)
    pick_codes: str = Form(""),
    pick_region: list[str] = Form([]),  # noqa: B008
):
    staff = a.require(request, "policies.publish", csrf)
    path = upload_dir() / upload
    if not _NAME.match(upload) or not path.is_file():
        return _page(request, staff, error="要发布的文件已过期，请重新上传检查")
    text = path.read_text(encoding="utf-8")
    if staff.county and (
        refused := _not_theirs(request, staff, admin.check_policy_text(text, upload))
    ):
        return _page(request, staff, error=refused)
    try:
        with request.app.state.pool.connection() as conn, conn.transaction():
            chosen = (
                picked_points(conn, points, pick_codes, pick_region, county=staff.county)
                if scope == "chosen"
                else None
            )
            r = admin.publish_policy_text(
                conn, text, Path(upload).name, by=staff.username, points=chosen
            )
            a.audit(
                conn,
                staff.id,
                "policy.publish",
                r["id"],
                {"version": r["version"], "points": chosen or "all"},
            )
    except AdminError as e:  # the upload stays: the administrator corrects the choice
        new = admin.check_policy_text(text, upload)
        return _checked(request, staff, new, text, "", upload, error=str(e))
    path.unlink(missing_ok=True)
    where = f"选定的 {len(chosen)} 个服务点的电脑" if chosen is not None else "各乡镇电脑"
    done = (
        f"已发布第{r['version']}版，{where}下次同步时收到。"
        if r["changed"]
        else f"与这些电脑现有的第{r['version']}版完全相同，没有重复发布。"
    )
    return _page(request, staff, done=done)
