"""A full disk during sync (issue 14 item 7): the clerk reads the disk-full message, not the
generic 同步失败, nothing is lost, and every sync run ends with an outcome."""

from __future__ import annotations

import pytest

from desktop.services import registration
from desktop.services.demo import make_id, numbered_name
from desktop.sync import errors

pytestmark = pytest.mark.postgres


def test_a_full_disk_during_sync_says_so_and_every_run_gets_an_outcome(desks):
    a = desks("SP01", "东乡卫生院")
    for i in range(40):
        registration.create_household(
            a.store,
            a.actor,
            {"village_id": a.village(), "address": f"一组{i}号"},
            [
                {
                    "name": numbered_name("张", i),
                    "cert_no": make_id("140121", "1970-01-01", 100 + i, "male"),
                }
            ],
        )
    pending = a.store.query_one("SELECT COUNT(*) AS n FROM outbox WHERE acked_at IS NULL")["n"]
    pages = a.store.conn.execute("PRAGMA page_count").fetchone()[0]
    a.store.conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: disk full
    with pytest.raises(errors.SyncError) as e:
        a.sync()
    assert isinstance(e.value, errors.DiskFull), repr(e.value)
    assert e.value.code == "E-DISK-001" and "磁盘空间已满" in e.value.message
    assert "同步未完成，数据仍安全保存在本机" not in e.value.message  # not the generic one
    a.store.conn.execute("PRAGMA max_page_count = 1073741823")  # the clerk frees space
    assert a.store.integrity_ok()
    done = a.sync()
    assert done.pending == 0
    runs = a.store.query("SELECT outcome, message FROM sync_run ORDER BY id")
    assert all(r["outcome"] for r in runs), runs  # no run left without an outcome
    assert runs[-1]["outcome"] == "ok"
    assert runs[0]["outcome"] in ("failed", "interrupted")
    people = a.county.sql("SELECT count(*) AS n FROM person")[0]["n"]
    assert people == 40 and pending == 80  # 40 households + 40 persons, all at the county
