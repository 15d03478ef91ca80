"""Console imports on a background thread: the file is read and imported (or tried) by a
job whose progress — rows done out of rows read — the page shows until the report is
ready. A small file finishes within ``WAIT_SECONDS`` and its report is the answer to the
upload itself; a large one sends the browser to the job's page, which refreshes itself.
One code path with the command line (``county.tables.run_import``)."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from psycopg.types.json import Jsonb

from county.console import auth as a
from county.console import summary
from county.tables import AdminError, ImportReport, read_table, run_import

log = logging.getLogger(__name__)
WAIT_SECONDS = 3.0  # a file done by then is answered at once
HEARTBEAT_SECONDS = 10.0  # a running job says it is alive this often
STALE_SECONDS = 60.0  # a job silent this long lost its worker


def start(
    pool,
    *,
    kind: str,
    fn: Callable,
    path: Path,
    dry_run: bool,
    staff_id: int,
    filename: str,
    county: str = "",
) -> str:
    """Start the job; returns its id after it finished or ``WAIT_SECONDS`` passed.
    ``county``: the one county a county's account imports for (its figures are counted
    again afterwards, not the province's)."""
    job_id = secrets.token_hex(8)
    with pool.connection() as c:
        c.execute(
            "INSERT INTO import_job(id, kind, filename, upload, dry_run, staff_id)"
            " VALUES (%s, %s, %s, %s, %s, %s)",
            (job_id, kind, filename[:200], path.name, dry_run, staff_id),
        )
    finished = threading.Event()

    def run() -> None:
        try:
            _run(pool, job_id, kind, fn, path, dry_run, staff_id, county)
        finally:
            finished.set()

    threading.Thread(target=run, name=f"import-{job_id}", daemon=True).start()
    threading.Thread(
        target=_beat, args=(pool, job_id, finished), name=f"beat-{job_id}", daemon=True
    ).start()
    finished.wait(WAIT_SECONDS)
    return job_id


def _beat(pool, job_id: str, finished: threading.Event) -> None:
    """While the job runs, its heartbeat tells every worker it is alive."""
    while not finished.wait(HEARTBEAT_SECONDS):
        try:
            with pool.connection() as c:
                c.execute("UPDATE import_job SET heartbeat_at = now() WHERE id = %s", (job_id,))
        except Exception:  # the database was away a moment: the next beat
            log.warning("import %s: heartbeat not written", job_id)


def _run(pool, job_id, kind, fn, path: Path, dry_run: bool, staff_id: int, county: str) -> None:
    def update(sql: str, *args) -> None:
        with pool.connection() as c:
            c.execute(sql, (*args, job_id))

    try:
        rows = read_table(path)
        update("UPDATE import_job SET state = 'running', total = %s WHERE id = %s", len(rows))
        with pool.connection() as conn:
            rep = run_import(
                conn,
                rows,
                fn,
                dry_run=dry_run,
                progress=lambda n: update("UPDATE import_job SET done_rows = %s WHERE id = %s", n),
            )
        update(
            "UPDATE import_job SET state = 'done', report = %s, finished_at = now() WHERE id = %s",
            Jsonb(rep.as_dict()),
        )
        if not dry_run:
            with pool.connection() as conn, conn.transaction():
                a.audit(conn, staff_id, "import.apply", kind, {"rows": len(rows), **rep.as_dict()})
            summary.request_refresh(pool, summary.recent_years(dt.date.today()), county)
    except AdminError as e:
        update(_FAILED, str(e))
    except Exception:
        log.exception("console import %s failed", job_id)
        update(
            _FAILED, "导入时出错：已导入的部分保留，可重新上传同一文件继续；请信息科查看服务器日志"
        )
    finally:
        if not dry_run:
            path.unlink(missing_ok=True)


_FAILED = "UPDATE import_job SET state = 'failed', error = %s, finished_at = now() WHERE id = %s"


def get(pool, job_id: str) -> dict | None:
    with pool.connection() as c:
        row = c.execute(
            "SELECT j.*, s.display_name AS staff_name, s.county AS staff_county FROM import_job j"
            " LEFT JOIN staff s ON s.id = j.staff_id WHERE j.id = %s",
            (job_id,),
        ).fetchone()
    if row and row["report"]:
        r = row["report"]
        row["report"] = ImportReport(
            r["created"],
            r["updated"],
            r["unchanged"],
            [(e["row"], e["message"]) for e in r["errors"]],
            [(e["row"], e["message"]) for e in r.get("notes", [])],  # jobs before notes had none
        )
    return row


def for_upload(pool, upload: str) -> dict | None:
    with pool.connection() as c:
        return c.execute(
            "SELECT filename FROM import_job WHERE upload = %s ORDER BY started_at LIMIT 1",
            (upload,),
        ).fetchone()


def recent(pool, limit: int = 20, county: str | None = None) -> list[dict]:
    """The latest imports; with ``county``, those of that county's accounts."""
    with pool.connection() as c:
        return c.execute(
            "SELECT j.id, j.kind, j.filename, j.dry_run, j.state, j.total, j.done_rows,"
            " j.started_at, s.display_name AS staff_name FROM import_job j"
            " LEFT JOIN staff s ON s.id = j.staff_id"
            " WHERE %(c)s::text IS NULL OR s.county = %(c)s"
            " ORDER BY j.started_at DESC LIMIT %(n)s",
            {"c": county, "n": limit},
        ).fetchall()


def mark_interrupted(conn, stale_seconds: float = STALE_SECONDS) -> int:
    """Jobs whose worker stopped (no heartbeat for ``stale_seconds``): at each worker's
    start and at every round of the background refresher."""
    cur = conn.execute(
        "UPDATE import_job SET state = 'interrupted', finished_at = now(),"
        " error = '服务器重启，导入中断：已导入的部分保留，可重新上传同一文件继续'"
        " WHERE state IN ('reading', 'running')"
        " AND heartbeat_at < now() - make_interval(secs => %s)",
        (stale_seconds,),
    )
    return cur.rowcount
