"""Database files outside the live connection: backup copies (named
``desk-YYYYMMDD-HHMMSS-<kind>.sqlite3`` in ``<data_dir>/backups``), copies kept aside
before a restore, and the checks run on such files (integrity, the product's tables, the
audit chain, the migrations applied). The services in :mod:`desktop.services.backup` and
:mod:`desktop.services.restore` decide when; this module does the SQLite work."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import sqlite_utils

from desktop.store import cipher
from desktop.store.cipher import sqlite3
from desktop.store.db import migration_names
from desktop.store.errors import StoreError
from desktop.store.journal import verify_audit

log = logging.getLogger("desktop.services.backup")

BACKUP_DIRNAME = "backups"
SET_ASIDE_DIRNAME = "set-aside"
KINDS = {"auto": "自动备份", "manual": "手动备份"}
REQUIRED_TABLES = ("settings", "service_point", "operator", "audit_log", "outbox")
_NAME_RE = re.compile(r"^desk-(\d{8}-\d{6})-(auto|manual)(?:-(\d+))?\.sqlite3$")
STAMP = "%Y%m%d-%H%M%S"


class BackupError(StoreError):
    """A backup or restore that could not be done; the message is for the clerk (Chinese)."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    created: datetime  # local time, from the file name
    kind: str  # auto | manual
    size: int

    @property
    def label(self) -> str:
        return f"{self.created:%Y-%m-%d %H:%M:%S} {KINDS.get(self.kind, self.kind)}"


def backups_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / BACKUP_DIRNAME


def set_aside_dir(data_dir: str | Path) -> Path:
    return Path(data_dir) / SET_ASIDE_DIRNAME


def list_backups(data_dir: str | Path) -> list[BackupInfo]:
    """Finished backups, newest first (``.partial`` leftovers are ignored)."""
    folder = backups_dir(data_dir)
    if not folder.is_dir():
        return []
    found = []
    for p in folder.iterdir():
        m = _NAME_RE.match(p.name)
        if not m or not p.is_file():
            continue
        created = datetime.strptime(m.group(1), STAMP)
        st = p.stat()
        info = BackupInfo(p, created, m.group(2), st.st_size)
        found.append((created, int(m.group(3) or 0), st.st_mtime_ns, info))
    found.sort(key=lambda t: t[:3], reverse=True)  # same second: the later file first
    return [t[3] for t in found]


def fsync_file(path: Path) -> None:
    # read-write: Windows' FlushFileBuffers (behind os.fsync) needs a handle with write access
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def copy_database(source: sqlite3.Connection, dest_path: Path) -> None:
    """Copy ``source`` into a new single-file database at ``dest_path`` (``VACUUM INTO``:
    a consistent snapshot, encrypted with the source's key, no -wal file)."""
    source.execute("VACUUM INTO ?", (str(dest_path),))


def open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}", code="BACKUP-404")
    try:
        return cipher.open_file(path, read_only=True)
    except StoreError as e:
        raise BackupError(str(e), code=e.code) from e


def check_database(path: str | Path, *, audit: bool = True) -> list[str]:
    """Problems found in a database file (empty list = good): ``PRAGMA integrity_check``,
    the tables the product needs and, with ``audit``, the audit log's hash chain."""
    path = Path(path)
    try:
        conn = open_read_only(path)
    except BackupError as e:
        return [str(e)]
    except sqlite3.Error as e:
        return [f"cannot open: {e}"]
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            return [f"integrity_check: {r}" for r in rows[:20]]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        missing = [t for t in REQUIRED_TABLES if t not in tables]
        if missing:
            return [f"not a service-desk store: tables missing {missing}"]
        if audit:
            return [
                f"audit seq {p.seq}: {p.problem}" for p in verify_audit(sqlite_utils.Database(conn))
            ]
        return []
    except sqlite3.DatabaseError as e:
        return [f"{type(e).__name__}: {e}"]
    finally:
        conn.close()


def service_point_of(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT id FROM service_point LIMIT 1").fetchone()
    return row[0] if row else None


def verified_backup(backup: Path) -> None:
    open_read_only(backup).close()  # a file of another PC: say so, not "damaged"
    problems = check_database(backup)
    if problems:
        log.error("backup %s failed verification: %s", backup, problems)
        raise BackupError(
            "这个备份文件已损坏或不是本系统的备份，不能用来恢复。请选择另一个备份。",
            code="BACKUP-004",
        )
    newer = migrations_unknown_here(backup)
    if newer:
        log.error("backup %s has migrations this version does not know: %s", backup, newer)
        raise BackupError(
            "这个备份来自更新版本的软件，本机软件版本较旧，不能恢复。请先升级本机软件。",
            code="BACKUP-010",
        )


def migrations_unknown_here(backup: Path) -> list[str]:
    """Migrations applied in the backup that this build does not ship (a newer version's
    backup: restoring it would leave a schema this code does not understand)."""
    known = set(migration_names("desktop"))
    conn = open_read_only(backup)
    try:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'township-desktop'"
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    return sorted(r[0] for r in rows if r[0] not in known)


def set_aside_copy(source: sqlite3.Connection, data_dir: Path, why: str) -> Path:
    folder = set_aside_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"desk-{datetime.now().strftime(STAMP)}-{why}.sqlite3"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"desk-{datetime.now().strftime(STAMP)}-{why}-{n}.sqlite3"
    copy_database(source, path)
    fsync_file(path)
    return path


def check_store_file(path: Path) -> str:
    """'' when the store file is sound, else the problem (technical)."""
    try:
        conn = cipher.open_file(path, read_only=False)
    except StoreError as e:
        return f"cannot open: not a database this PC's key opens ({e.code})"
    except sqlite3.Error as e:
        return f"cannot open: {e}"
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        if rows != ["ok"]:
            return "; ".join(rows[:20])
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "_sqlite_migrations" in names and not set(REQUIRED_TABLES) <= names:
            return f"tables missing: {sorted(set(REQUIRED_TABLES) - names)}"
        return ""
    except sqlite3.DatabaseError as e:
        return f"{type(e).__name__}: {e}"
    finally:
        conn.close()


def active_supervisor(conn: sqlite3.Connection, username: str) -> tuple[str, str] | None:
    """(id, password hash) of an active supervisor in a database file (a backup)."""
    row = conn.execute(
        "SELECT id, password_hash FROM operator WHERE username = ? AND active = 1"
        " AND role = 'supervisor'",
        ((username or "").strip(),),
    ).fetchone()
    return (row[0], row[1]) if row else None


def last_audit_seq(conn: sqlite3.Connection) -> int | None:
    return conn.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]
