"""Console imports with a dry run: the county roster, tax-bureau payment confirmations and
year-to-date figures from Excel or CSV. An upload is first tried in a transaction that is
rolled back (rows new, changed, refused with the row number and the reason); only then can
the case worker apply it — the same ``run_import`` as ``township-county import-…``.

The uploaded file waits in the server's private upload folder under a random name, is
removed when applied, and any left behind is removed after an hour."""

from __future__ import annotations

import re
import secrets
import tempfile
import time
from pathlib import Path

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from county import roster, taxpay, ytd
from county.console import PREFIX, templates
from county.console import auth as a
from county.tables import AdminError, read_table, run_import

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
        {"staff": staff, "prefix": PREFIX, "kinds": {k: v[0] for k, v in KINDS.items()}, **ctx},
    )


@router.get("/imports")
def imports(request: Request) -> HTMLResponse:
    return _page(request, a.require(request, "imports"))


def _run(request: Request, kind: str, path: Path, dry_run: bool):
    rows = read_table(path)
    with request.app.state.pool.connection() as conn:
        return run_import(conn, rows, KINDS[kind][1], dry_run=dry_run), len(rows)


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
    try:
        rep, total = _run(request, kind, path, dry_run=True)
    except AdminError as e:
        path.unlink(missing_ok=True)
        return _page(request, staff, error=str(e))
    with request.app.state.pool.connection() as conn, conn.transaction():
        a.audit(conn, staff.id, "import.try", kind, {"rows": total, "file": upload.filename})
    return _page(
        request,
        staff,
        report=rep,
        total=total,
        kind=kind,
        upload=name,
        filename=upload.filename,
        dry_run=True,
    )


@router.post("/imports/apply")
def apply_import(
    request: Request, kind: str = Form(""), upload: str = Form(""), csrf: str = Form("")
):
    staff = a.require(request, "imports", csrf)
    path = upload_dir() / upload
    if kind not in KINDS or not _NAME.match(upload) or not path.is_file():
        return _page(request, staff, error="要导入的文件已过期，请重新上传试算")
    try:
        rep, total = _run(request, kind, path, dry_run=False)
    finally:
        path.unlink(missing_ok=True)
    with request.app.state.pool.connection() as conn, conn.transaction():
        a.audit(conn, staff.id, "import.apply", kind, {"rows": total, **rep.as_dict()})
    return _page(request, staff, report=rep, total=total, kind=kind, dry_run=False)
