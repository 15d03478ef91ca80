"""Console imports with a dry run: the county roster, tax-bureau payment confirmations and
year-to-date figures from Excel or CSV. An upload is first tried in a transaction that is
rolled back (rows new, changed, refused with the row number and the reason); only then can
the case worker apply it — the same ``run_import`` as ``township-county import-…``.

The uploaded file waits in the server's private upload folder under a random name, is
removed when applied, and any left behind is removed after an hour."""

from __future__ import annotations

import functools
import re
import secrets
import tempfile
import time
from pathlib import Path

import psycopg
from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from county import roster, taxpay, ytd
from county.console import PREFIX, jobs, templates
from county.console import auth as a

router = APIRouter(prefix=PREFIX, include_in_schema=False)
KINDS = {
    "roster": ("县花名册", roster.import_roster),
    "payments": ("税务缴费确认", taxpay.import_payments),
    "ytd": ("本年累计报销数", ytd.import_ytd),
}
MAX_BYTES = 20 * 1024 * 1024
_NAME = re.compile(r"^[A-Za-z0-9_-]{20,40}\.(csv|xlsx)$")


def upload_dir() -> Path:
    d = Path(tempfile.gettempdir()) / "township-console-uploads"
    d.mkdir(mode=0o700, exist_ok=True)
    for old in d.iterdir():  # nothing with residents' data lies around for long
        if old.stat().st_mtime < time.time() - 3600:
            old.unlink(missing_ok=True)
    return d


def _page(request, staff, **ctx) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "imports.html",
        {
            "staff": staff,
            "prefix": PREFIX,
            "kinds": {k: v[0] for k, v in KINDS.items()},
            "recent": jobs.recent(request.app.state.pool, county=staff.county),
            **ctx,
        },
    )


@router.get("/imports")
def imports(request: Request) -> HTMLResponse:
    return _page(request, a.require(request, "imports"))


@router.post("/imports/try")
async def try_import(
    request: Request,
    kind: str = Form(""),
    csrf: str = Form(""),
    upload: UploadFile | None = File(None),  # noqa: B008 (FastAPI's way)
):
    staff = a.require(request, "imports", csrf)  # before anything about the file
    if upload is None:
        return _page(request, staff, error="请选择要上传的文件")
    if kind not in KINDS:
        return _page(request, staff, error="请选择导入的是哪一种表")
    suffix = Path(upload.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        return _page(request, staff, error="只接受 .csv 或 .xlsx 文件")
    data = await upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        return _page(request, staff, error="文件超过20MB，请分成几个文件导入")
    name = secrets.token_urlsafe(24) + suffix
    path = upload_dir() / name
    path.write_bytes(data)
    pool = request.app.state.pool
    with pool.connection() as conn, conn.transaction():
        a.audit(conn, staff.id, "import.try", kind, {"file": upload.filename})
    job_id = jobs.start(
        pool,
        kind=kind,
        fn=_for(staff, kind),
        path=path,
        dry_run=True,
        staff_id=staff.id,
        filename=upload.filename or "",
        county=staff.county or "",
    )
    return _job_page(request, staff, job_id)


@router.post("/imports/apply")
def apply_import(
    request: Request, kind: str = Form(""), upload: str = Form(""), csrf: str = Form("")
):
    staff = a.require(request, "imports", csrf)
    path = upload_dir() / upload
    if kind not in KINDS or not _NAME.match(upload) or not path.is_file():
        return _page(request, staff, error="要导入的文件已过期，请重新上传试算")
    pool = request.app.state.pool
    with pool.connection() as conn:  # an upload is applied once, even on a double click
        spent = conn.execute(
            "SELECT 1 FROM import_job WHERE upload = %s AND NOT dry_run", (upload,)
        ).fetchone()
    if spent:
        return _page(request, staff, error="要导入的文件已过期，请重新上传试算")
    tried = jobs.for_upload(pool, upload)
    try:
        job_id = jobs.start(
            pool,
            kind=kind,
            fn=_for(staff, kind),
            path=path,
            dry_run=False,
            staff_id=staff.id,
            filename=tried["filename"] if tried else "",
            county=staff.county or "",
        )
    except psycopg.errors.UniqueViolation:  # two clicks at once: the first one imports
        return _page(request, staff, error="要导入的文件已过期，请重新上传试算")
    return _job_page(request, staff, job_id)


def _for(staff: a.Staff, kind: str):
    """The import of ``kind`` as this account may run it: of its county's rows only."""
    fn = KINDS[kind][1]
    return functools.partial(fn, region=staff.county) if staff.county else fn


def _job_page(request: Request, staff: a.Staff, job_id: str, posted: bool = True):
    """The report when the job is done; else its progress, on the job's own page (which
    reloads itself: a reload never sends the upload again). A county's account sees its
    county's imports only."""
    job = jobs.get(request.app.state.pool, job_id)
    if job is None or (staff.county and job["staff_county"] != staff.county):
        return _page(request, staff, error="没有这次导入的记录")
    if job["state"] == "done":
        return _page(
            request,
            staff,
            report=job["report"],
            total=job["total"],
            kind=job["kind"],
            upload=job["upload"],
            filename=job["filename"],
            dry_run=job["dry_run"],
        )
    if job["state"] in ("failed", "interrupted"):
        return _page(request, staff, error=job["error"], job=job)
    if posted:
        return RedirectResponse(f"{PREFIX}/imports/jobs/{job_id}", status_code=303)
    return _page(request, staff, job=job)


@router.get("/imports/jobs/{job_id}")
def job(request: Request, job_id: str) -> HTMLResponse:
    return _job_page(request, a.require(request, "imports"), job_id, posted=False)
