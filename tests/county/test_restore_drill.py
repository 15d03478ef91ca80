"""Issue 18: the restore drill of docs/province.md, run for real. A cluster archives its WAL
(archive_command) as a province's does; a base backup is taken with pg_basebackup while the
county works; more work lands after it; `deploy/county/restore-drill.sh` then brings the
database back on a spare port from the backup and the archive: its counts equal the live
server's (nothing written after the backup is lost) and it says how long it took. A drill
to a moment before the last writes stops there."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from county import admin, sealing
from county.db import migrate
from county.testing import PG_BIN, start_cluster

pytestmark = pytest.mark.postgres
DRILL = Path(__file__).resolve().parents[2] / "deploy" / "county" / "restore-drill.sh"
TABLES = ("service_point", "device", "person", "enrollment", "payment", "applied_op")


def _as_postgres(cluster, cmd: list[str], env: dict) -> subprocess.CompletedProcess:
    if cluster.as_postgres:
        cmd = [
            "runuser",
            "-u",
            "postgres",
            "--",
            "env",
            *[f"{k}={v}" for k, v in env.items()],
            *cmd,
        ]
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def _drill(cluster, backup: Path, archive: Path, port: int, work: Path, target: str = "") -> dict:
    args = ["bash", str(DRILL), str(backup), str(archive), str(port)] + ([target] if target else [])
    # the test cluster set max_connections on its command line, not in its configuration
    env = {"TMPDIR": str(work), "TOWNSHIP_DRILL_OPTIONS": "-c max_connections=200"}
    r = _as_postgres(cluster, args, env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "恢复完成，用时" in r.stdout
    return {k: v for k, _, v in (line.partition(": ") for line in r.stdout.splitlines()) if v}


def _points(url: str, codes: range) -> None:
    with psycopg.connect(url, row_factory=dict_row) as c, c.transaction():
        for k in codes:
            admin.create_service_point(c, f"SP{k:02d}", f"第{k}卫生院", "140121")


@pytest.fixture
def drill_dir():
    """A folder the postgres user can use (pytest's own is root's only)."""
    d = Path(tempfile.mkdtemp(prefix="township-drill-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_a_base_backup_and_the_archived_wal_bring_everything_back(drill_dir):
    sealing.configure("restore-drill-key-0123456789abcdef0123456789")
    tmp_path = drill_dir
    archive, backup, work = tmp_path / "wal", tmp_path / "base", tmp_path / "work"
    for d in (archive, work):
        d.mkdir()
    cluster = start_cluster(options=f"-c archive_mode=on -c archive_command='cp %p {archive}/%f'")
    try:
        if cluster.as_postgres:
            for d in (tmp_path, archive, work):
                shutil.chown(d, "postgres", "postgres")
        with psycopg.connect(cluster.dsn(), autocommit=True) as c:
            c.execute("CREATE DATABASE township")
        url = cluster.url("township")
        with psycopg.connect(url) as c:
            migrate(c)
        _points(url, range(0, 3))
        r = _as_postgres(
            cluster,
            [str(PG_BIN / "pg_basebackup"), "-D", str(backup), "-Ft", "-z", "-X", "none",
             "-h", str(cluster.socket_dir), "-p", str(cluster.port), "-U", cluster.user,
             "--checkpoint=fast"],
            {},
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        _points(url, range(3, 8))  # the county works on after the backup
        time.sleep(1.5)
        moment = dt.datetime.now(dt.UTC).isoformat()
        time.sleep(1.5)
        _points(url, range(90, 92))  # and later still
        with psycopg.connect(url, autocommit=True) as c:
            c.execute("SELECT pg_switch_wal()")  # the last segment goes to the archive
            live = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                done = c.execute("SELECT last_archived_wal FROM pg_stat_archiver").fetchone()[0]
                wanted = c.execute("SELECT pg_walfile_name(pg_current_wal_lsn())").fetchone()[0]
                if done and done >= wanted[:-1]:
                    break
                time.sleep(0.1)

        restored = _drill(cluster, backup, archive, 55491, work)
        assert {t: int(restored[t]) for t in TABLES} == live
        assert live["service_point"] == 10

        earlier = _drill(cluster, backup, archive, 55492, work, moment)
        assert int(earlier["service_point"]) == 8  # stopped before the last two
    finally:
        cluster.stop()
