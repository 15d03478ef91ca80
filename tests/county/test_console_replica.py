"""Issue 18: the console's report pages read from a streaming replica when one is set
(``database_read_url``); counting stays on the primary; with the replica away, the primary
answers."""

from __future__ import annotations

import time

import psycopg
import pytest

from county.console.auth import create_staff

pytestmark = pytest.mark.postgres


def _replica_readers(replica, dbname: str) -> int:
    with psycopg.connect(replica.url("postgres")) as c:
        return c.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'township-county-reports' AND datname = %s",
            (dbname,),
        ).fetchone()[0]


def _caught_up(db: str, replica, dbname: str) -> None:
    with psycopg.connect(db) as c:  # commits are asynchronous here: the inserted WAL
        lsn = c.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with psycopg.connect(replica.url(dbname)) as c:
            if c.execute("SELECT pg_last_wal_replay_lsn() >= %s", (lsn,)).fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def _replay(replica, dbname: str, on: bool) -> None:
    with psycopg.connect(replica.url(dbname)) as c:
        c.execute("SELECT pg_wal_replay_resume()" if on else "SELECT pg_wal_replay_pause()")


def test_reports_read_from_the_replica(county_and_replica):
    county, replica, dbname = county_and_replica
    client = county.client
    with county.conn() as c:
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    sp_id = county.service_point("SP01", "东乡卫生院")["id"]
    # the first opening counts the year on the primary (a replica cannot write)
    page, _ = county.console_login("look", "viewer-pass-1", "/console/reports?year=2026")
    assert page.status_code == 200
    _caught_up(county.dsn, replica, dbname)
    # the replica stops replaying; the primary's figures move on (a village appears)
    _replay(replica, dbname, on=False)
    with county.conn() as c:
        c.execute(
            "INSERT INTO report_coverage(year, sp_id, village, registered, paid, subsidized)"
            " VALUES (2026, %s, '回放暂停村', 10, 4, 1)",
            (sp_id,),
        )
    page = client.get("/console/reports?year=2026")
    assert page.status_code == 200 and "回放暂停村" not in page.text  # read on the replica
    xlsx = client.get("/console/reports/export?table=villages&year=2026")
    assert xlsx.status_code == 200 and "回放暂停村".encode() not in _cells(xlsx.content)
    _replay(replica, dbname, on=True)
    _caught_up(county.dsn, replica, dbname)
    assert "回放暂停村" in client.get("/console/reports?year=2026").text

    replica.stop()  # the replica away: the primary answers
    page = client.get("/console/reports?year=2026")
    assert page.status_code == 200 and "回放暂停村" in page.text


def _cells(xlsx: bytes) -> bytes:
    import io
    import zipfile

    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        return b"".join(z.read(n) for n in z.namelist() if n.endswith(".xml"))
