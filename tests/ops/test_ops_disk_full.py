"""A full disk while saving: a clear Chinese message, and the store stays consistent.

Two ways to make the disk full: a real tiny filesystem (tmpfs mounted as root; skipped when
mounting is not allowed) and SQLite's own limit ``PRAGMA max_page_count``, which fails the
write with SQLITE_FULL exactly like a full disk (always runs)."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from desktop.logging_setup import classify, report_error
from desktop.services import backup
from desktop.services.setup import ServicePointInput, run_setup
from desktop.store import open_store
from desktop.store.cipher import sqlite3
from desktop.store.journal import verify_audit


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 3 MB tmpfs, or skip when this machine does not let us mount one."""
    mnt = tmp_path / "small"
    mnt.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a small filesystem needs root; the max_page_count test covers this")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", f"tmpfs-{uuid.uuid4().hex[:6]}", str(mnt)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _fill(folder: Path) -> Path:
    """Fill the filesystem completely with one file."""
    filler = folder / "filler.bin"
    with open(filler, "wb", buffering=0) as f:
        for size in (65536, 4096, 1):
            with contextlib.suppress(OSError):
                while f.write(b"\0" * size):
                    pass
    return filler


def _setup(store):
    return run_setup(
        store,
        ServicePointInput(
            name="示范乡卫生院", region_code="140121", code="SP01", villages=["东村", "西村"]
        ),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )


def test_saving_on_a_full_filesystem(small_disk, ops):
    store = open_store(small_disk)
    admin = _setup(store)
    ops.add_people(store, admin, ["张三", "李四"])
    before = ops.dump(store.conn)
    filler = _fill(small_disk)

    with pytest.raises((sqlite3.Error, OSError)) as e:
        ops.add_people(store, admin, [f"新人{i}" for i in range(200)], village="西村")
    code, message = report_error(e.value, "saving persons")
    assert code == "E-DISK-001", e.value
    assert "磁盘空间已满" in message and "E-DISK-001" in message
    assert not store.conn.in_transaction
    assert ops.dump(store.conn) == before  # nothing half-saved
    assert store.integrity_ok()

    # a backup on the full disk fails cleanly too, without a half file
    with pytest.raises(backup.BackupError) as be:
        backup.create_backup(store, small_disk)
    assert be.value.code == "DISK-001" and "磁盘空间已满" in str(be.value)
    assert backup.list_backups(small_disk) == []
    assert not list((small_disk / "backups").glob("*.partial"))

    # free the space: the same save now works, and the store reopens consistent
    filler.unlink()
    ops.add_people(store, admin, ["王五"], village="西村")
    store.close()
    again = open_store(small_disk)
    assert again.integrity_ok() and verify_audit(again.db) == []
    assert again.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 3
    again.close()


def test_sqlite_full_from_max_page_count(store, admin, ops):
    ops.add_people(store, admin, ["张三"])
    before = ops.dump(store.conn)
    pages = store.conn.execute("PRAGMA page_count").fetchone()[0]
    store.conn.execute(f"PRAGMA max_page_count = {pages}")  # no room to grow: as if disk full
    with pytest.raises(sqlite3.OperationalError) as e:
        ops.add_people(store, admin, [f"新人{i}" for i in range(300)], village="西村")
    assert e.value.sqlite_errorcode == sqlite3.SQLITE_FULL
    code, message = report_error(e.value)
    assert code == "E-DISK-001" and "磁盘空间已满" in message
    assert not store.conn.in_transaction
    assert ops.dump(store.conn) == before
    assert store.integrity_ok() and verify_audit(store.db) == []
    store.conn.execute("PRAGMA max_page_count = 1073741823")
    ops.add_people(store, admin, ["李四"], village="西村")
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 2


def test_enospc_and_windows_disk_full_map_to_the_same_code():
    assert classify(OSError(errno.ENOSPC, "No space left on device")).code == "E-DISK-001"
    win = OSError(errno.EIO, "There is not enough space on the disk")
    win.winerror = 112  # ERROR_DISK_FULL
    assert classify(win).code == "E-DISK-001"
    assert classify(OSError(errno.EIO, "I/O error")).code == "E-DISK-003"
