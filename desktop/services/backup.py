"""Backups of the local store, restore, and the integrity check at start-up.

* Copies are made with SQLite's online backup API (``sqlite3.Connection.backup``) from a
  separate read connection, so the clerk can keep working while a backup runs (WAL mode).
  Each copy is written to a ``.partial`` file, checked (``PRAGMA integrity_check``), synced
  to disk and only then renamed into ``<data_dir>/backups/desk-YYYYMMDD-HHMMSS-<kind>.sqlite3``.
  A failed copy (full disk, power cut) never leaves a half file that looks like a backup.
* One automatic backup a day (:func:`auto_backup`), plus "back up now" for a supervisor
  (:func:`backup_now`); the newest :data:`KEEP` copies are kept (:func:`rotate`).
* :func:`restore_backup` (supervisor, store open) verifies the backup first, keeps the
  current store aside in ``<data_dir>/set-aside/``, copies the backup into the live store
  in one step (all or nothing), applies newer migrations and audits the restore.
* :func:`startup_check` runs before the store is opened. When the file is damaged it names
  the last good backup; :func:`restore_at_startup` puts it back after a supervisor's
  password is checked against that backup (the damaged store cannot be trusted to log in).

No Qt here: the GUI and the CLI both call these functions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from desktop.errors import is_disk_full
from desktop.services.context import Actor
from desktop.store import Store
from desktop.store.db import DB_FILENAME, StoreError, migrate, migration_names, open_store
from desktop.store.journal import record_change, verify_audit

log = logging.getLogger(__name__)

BACKUP_DIRNAME = "backups"
SET_ASIDE_DIRNAME = "set-aside"
KEEP = 14  # backups kept in <data_dir>/backups (newest first)
KINDS = {"auto": "自动备份", "manual": "手动备份"}
REQUIRED_TABLES = ("settings", "service_point", "operator", "audit_log", "outbox")
_NAME_RE = re.compile(r"^desk-(\d{8}-\d{6})-(auto|manual)(?:-(\d+))?\.sqlite3$")
_STAMP = "%Y%m%d-%H%M%S"


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


@dataclass(frozen=True)
class RestoreResult:
    backup: Path
    set_aside: list[Path]  # where the replaced store was kept
    audit_seq: int | None = None


@dataclass(frozen=True)
class StartupCheck:
    """What :func:`startup_check` found. ``ok`` False means: do not open the store; show
    ``message`` and offer to restore ``last_good`` (None when no good backup exists)."""

    ok: bool
    db_path: Path
    new_store: bool = False
    code: str = ""
    message: str = ""  # Chinese, for the clerk
    detail: str = ""  # technical, for the log
    last_good: BackupInfo | None = None
    backups: list[BackupInfo] = field(default_factory=list)


# --------------------------------------------------------------------------- files


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
        created = datetime.strptime(m.group(1), _STAMP)
        st = p.stat()
        info = BackupInfo(p, created, m.group(2), st.st_size)
        found.append((created, int(m.group(3) or 0), st.st_mtime_ns, info))
    found.sort(key=lambda t: t[:3], reverse=True)  # same second: the later file first
    return [t[3] for t in found]


def _fsync_file(path: Path) -> None:
    # read-write: Windows' FlushFileBuffers (behind os.fsync) needs a handle with write access
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


DISK_FULL_BACKUP = (
    "磁盘空间已满，备份没有完成（已有的数据和以前的备份都没有受影响）。请清理磁盘后再备份。"
)


def _copy_database(source: sqlite3.Connection, dest_path: Path) -> None:
    """Copy ``source`` into a new single-file database at ``dest_path`` (no -wal file)."""
    dest = sqlite3.connect(str(dest_path), isolation_level=None)
    try:
        source.backup(dest)
        dest.execute("PRAGMA journal_mode=DELETE")
    finally:
        dest.close()


def _open_read_only(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}", code="BACKUP-404")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)


def check_database(path: str | Path, *, audit: bool = True) -> list[str]:
    """Problems found in a database file (empty list = good): ``PRAGMA integrity_check``,
    the tables the product needs and, with ``audit``, the audit log's hash chain."""
    path = Path(path)
    try:
        conn = _open_read_only(path)
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
            import sqlite_utils

            return [
                f"audit seq {p.seq}: {p.problem}" for p in verify_audit(sqlite_utils.Database(conn))
            ]
        return []
    except sqlite3.DatabaseError as e:
        return [f"{type(e).__name__}: {e}"]
    finally:
        conn.close()


# --------------------------------------------------------------------------- backups


def _new_backup_path(data_dir: Path, kind: str, now: datetime) -> Path:
    folder = backups_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    base = f"desk-{now.strftime(_STAMP)}-{kind}"
    path, n = folder / f"{base}.sqlite3", 1
    while path.exists():
        n += 1
        path = folder / f"{base}-{n}.sqlite3"
    return path


def create_backup(
    store: Store,
    data_dir: str | Path,
    *,
    kind: str = "auto",
    now: datetime | None = None,
    keep: int = KEEP,
) -> BackupInfo:
    """Copy the store with the online backup API, check the copy, then rotate.

    Raises :class:`BackupError` (Chinese message) when the copy cannot be made; the store
    itself is only read, so it stays as it was.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    if store.path is None:
        raise BackupError("内存数据库不能备份", code="BACKUP-001")
    data_dir = Path(data_dir)
    now = now or datetime.now()
    final = _new_backup_path(data_dir, kind, now)
    partial = final.with_name(final.name + ".partial")
    source = sqlite3.connect(str(store.path), timeout=30, isolation_level=None)
    try:
        _copy_database(source, partial)
        problems = check_database(partial, audit=False)
        if problems:
            raise BackupError(
                "备份副本检查未通过，备份没有完成。请联系县医保局技术人员。", code="BACKUP-002"
            )
        _fsync_file(partial)
        os.replace(partial, final)
        _fsync_dir(final.parent)
    except BackupError:
        _remove_quietly(partial)
        raise
    except (sqlite3.Error, OSError) as e:
        _remove_quietly(partial)
        log.error("backup to %s failed", final, exc_info=e)
        if is_disk_full(e):
            raise BackupError(DISK_FULL_BACKUP, code="DISK-001") from e
        raise BackupError(
            f"备份没有完成（{type(e).__name__}）。已有数据未受影响，详情见日志。", code="BACKUP-003"
        ) from e
    finally:
        source.close()
    info = BackupInfo(final, now.replace(microsecond=0), kind, final.stat().st_size)
    log.info("backup written: %s (%d bytes)", final, info.size)
    rotate(data_dir, keep=keep)
    return info


def export_backup(backup: str | Path, dest_dir: str | Path) -> Path:
    """Copy a backup to another drive (a USB stick: the PC's own disk may be what fails).
    The copy is written as ``.partial``, checked, synced and renamed; an existing file of the
    same name is never overwritten."""
    backup, dest_dir = Path(backup), Path(dest_dir)
    _verified_backup(backup)
    if not dest_dir.is_dir():
        raise BackupError(f"找不到目标文件夹：{dest_dir}", code="BACKUP-011")
    final = dest_dir / backup.name
    n = 1
    while final.exists():
        n += 1
        final = dest_dir / f"{backup.stem}-{n}{backup.suffix}"
    partial = final.with_name(final.name + ".partial")
    src = _open_read_only(backup)
    try:
        _copy_database(src, partial)
        if check_database(partial, audit=False):
            raise BackupError("导出的副本检查未通过，请换一个U盘或文件夹再试。", code="BACKUP-012")
        _fsync_file(partial)
        os.replace(partial, final)
    except BackupError:
        _remove_quietly(partial)
        raise
    except (sqlite3.Error, OSError) as e:
        _remove_quietly(partial)
        log.error("export of %s to %s failed", backup, dest_dir, exc_info=e)
        if is_disk_full(e):
            raise BackupError("目标U盘或文件夹空间不足，导出没有完成。", code="DISK-001") from e
        raise BackupError(
            "无法写入目标U盘或文件夹（可能是只读或已拔出），导出没有完成。", code="BACKUP-013"
        ) from e
    finally:
        src.close()
    log.info("backup %s exported to %s", backup.name, final)
    return final


def rotate(data_dir: str | Path, *, keep: int = KEEP) -> list[Path]:
    """Delete all but the newest ``keep`` backups (and stale ``.partial`` files)."""
    removed: list[Path] = []
    for old in list_backups(data_dir)[keep:]:
        _remove_quietly(old.path)
        removed.append(old.path)
    folder = backups_dir(data_dir)
    if folder.is_dir():
        for p in folder.glob("*.partial"):
            _remove_quietly(p)
            removed.append(p)
    if removed:
        log.info("backup rotation removed %s", [p.name for p in removed])
    return removed


def backup_due(data_dir: str | Path, now: datetime | None = None) -> bool:
    """True when no backup was made today (local date)."""
    today = (now or datetime.now()).date()
    return not any(b.created.date() == today for b in list_backups(data_dir))


def auto_backup(
    store: Store, data_dir: str | Path, now: datetime | None = None
) -> BackupInfo | None:
    """The daily automatic backup: makes one if none exists for today, else returns None.
    Called at start-up and hourly by the app (on the store worker)."""
    if not backup_due(data_dir, now):
        return None
    return create_backup(store, data_dir, kind="auto", now=now)


def backup_now(
    store: Store, actor: Actor, data_dir: str | Path, now: datetime | None = None
) -> BackupInfo:
    """A supervisor's "立即备份"; audited (the audit entry is in the store, not the copy)."""
    actor.require_supervisor("立即备份")
    info = create_backup(store, data_dir, kind="manual", now=now)
    with store.write() as db:
        record_change(
            db,
            operator_id=actor.operator_id,
            action="backup.create",
            entity="backup",
            entity_id=info.path.name,
            before=None,
            after={"file": info.path.name, "size": info.size},
        )
    return info


# --------------------------------------------------------------------------- restore

# Called after every restore with (restored store, copy of the store as it was before).
# An area that must carry something forward across a restore registers here. Receipt
# numbers need no hook: desktop.store.numbering keeps a high-water mark file beside the
# database that a restore leaves in place, so numbers issued after the backup are skipped.
RestoreHook = Callable[[Store, Path], None]
_restore_hooks: list[RestoreHook] = []


def register_restore_hook(hook: RestoreHook) -> RestoreHook:
    if hook not in _restore_hooks:
        _restore_hooks.append(hook)
    return hook


def _run_restore_hooks(store: Store, before_copy: Path) -> None:
    for hook in list(_restore_hooks):
        hook(store, before_copy)


def _service_point_of(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT id FROM service_point LIMIT 1").fetchone()
    return row[0] if row else None


def _verified_backup(backup: Path) -> None:
    problems = check_database(backup)
    if problems:
        log.error("backup %s failed verification: %s", backup, problems)
        raise BackupError(
            "这个备份文件已损坏或不是本系统的备份，不能用来恢复。请选择另一个备份。",
            code="BACKUP-004",
        )
    newer = _migrations_unknown_here(backup)
    if newer:
        log.error("backup %s has migrations this version does not know: %s", backup, newer)
        raise BackupError(
            "这个备份来自更新版本的软件，本机软件版本较旧，不能恢复。请先升级本机软件。",
            code="BACKUP-010",
        )


def _migrations_unknown_here(backup: Path) -> list[str]:
    """Migrations applied in the backup that this build does not ship (a newer version's
    backup: restoring it would leave a schema this code does not understand)."""
    known = set(migration_names("desktop"))
    conn = _open_read_only(backup)
    try:
        rows = conn.execute(
            "SELECT name FROM _sqlite_migrations WHERE migration_set = 'township-desktop'"
        ).fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        conn.close()
    return sorted(r[0] for r in rows if r[0] not in known)


def _set_aside_copy(source: sqlite3.Connection, data_dir: Path, why: str) -> Path:
    folder = set_aside_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"desk-{datetime.now().strftime(_STAMP)}-{why}.sqlite3"
    n = 1
    while path.exists():
        n += 1
        path = folder / f"desk-{datetime.now().strftime(_STAMP)}-{why}-{n}.sqlite3"
    _copy_database(source, path)
    _fsync_file(path)
    return path


def restore_backup(
    store: Store, actor: Actor, backup: str | Path, data_dir: str | Path
) -> RestoreResult:
    """Replace the open store's content with a verified backup (supervisor only).

    Order: verify the backup → refuse a backup of another service point → copy the current
    store aside → copy the backup into the live store in one backup-API step (all or
    nothing) → apply newer migrations → integrity check → restore hooks → audit entry.
    """
    actor.require_supervisor("恢复备份")
    backup, data_dir = Path(backup), Path(data_dir)
    _verified_backup(backup)
    src = _open_read_only(backup)
    try:
        theirs = _service_point_of(src)
        ours = store.query_one("SELECT id FROM service_point LIMIT 1")
        if ours and theirs and ours["id"] != theirs:
            raise BackupError("这个备份属于另一个服务点，不能恢复到本机。", code="BACKUP-005")
        lock = store._lock  # the store's writer lock: no other store work during the swap
        with lock:
            if store.conn.in_transaction:
                raise BackupError("有未完成的保存，请稍后再恢复。", code="BACKUP-006")
            try:
                aside = _set_aside_copy(store.conn, data_dir, "before-restore")
            except (sqlite3.Error, OSError) as e:
                log.error("could not keep the current store aside", exc_info=e)
                code, msg = (
                    ("DISK-001", "磁盘空间已满，无法先保留当前数据，恢复没有进行。")
                    if is_disk_full(e)
                    else ("BACKUP-007", "无法先保留当前数据，恢复没有进行（详情见日志）。")
                )
                raise BackupError(msg, code=code) from e
            try:
                src.backup(store.conn)
            except (sqlite3.Error, OSError) as e:
                log.error("restore from %s failed; store unchanged", backup, exc_info=e)
                msg = (
                    "磁盘空间已满，恢复没有完成，当前数据未改变。"
                    if is_disk_full(e)
                    else "恢复没有完成，当前数据未改变（详情见日志）。"
                )
                raise BackupError(msg, code="DISK-001" if is_disk_full(e) else "BACKUP-008") from e
            migrate(store.db)
            if not store.integrity_ok():
                raise BackupError(
                    "恢复后的数据检查未通过，请联系县医保局技术人员。", code="BACKUP-009"
                )
    finally:
        src.close()
    _run_restore_hooks(store, aside)
    seq = _audit_restore(store, actor.operator_id, backup, aside, reason="supervisor")
    log.warning(
        "store restored from %s by %s; previous store kept at %s", backup, actor.username, aside
    )
    return RestoreResult(backup, [aside], seq)


def _audit_restore(
    store: Store, operator_id: str | None, backup: Path, aside: Path, *, reason: str
) -> int:
    with store.write() as db:
        record_change(
            db,
            operator_id=operator_id,
            action="store.restore",
            entity="backup",
            entity_id=backup.name,
            before={"set_aside": str(aside)},
            after={"file": backup.name},
            extra={"reason": reason},
        )
        return db.conn.execute("SELECT MAX(seq) FROM audit_log").fetchone()[0]


# --------------------------------------------------------------------------- start-up

DAMAGED = "本机数据库文件已损坏，为防止数据出错，软件暂停使用。"


def _check_store_file(path: Path) -> str:
    """'' when the store file is sound, else the problem (technical)."""
    try:
        conn = sqlite3.connect(str(path), timeout=30, isolation_level=None)
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


def last_good_backup(data_dir: str | Path) -> BackupInfo | None:
    """The newest backup that passes :func:`check_database`."""
    for info in list_backups(data_dir):
        problems = check_database(info.path)
        if not problems:
            return info
        log.warning("backup %s is not usable: %s", info.path.name, problems[:3])
    return None


def startup_check(data_dir: str | Path, *, filename: str = DB_FILENAME) -> StartupCheck:
    """Check the store file before the app opens it (``PRAGMA integrity_check``)."""
    data_dir = Path(data_dir)
    path = data_dir / filename
    if not path.exists():
        return StartupCheck(ok=True, db_path=path, new_store=True)
    problem = _check_store_file(path)
    if not problem:
        return StartupCheck(ok=True, db_path=path)
    log.error("start-up integrity check failed for %s: %s", path, problem)
    good = last_good_backup(data_dir)
    if good:
        message = (
            f"{DAMAGED}\n可以由主管恢复最近一次完好的备份（{good.label}）。"
            "备份之后录入的业务需要核对后补录；损坏的文件会另行保留，供技术人员检查。"
        )
    else:
        message = f"{DAMAGED}\n本机没有可用的备份，请不要继续使用，并联系县医保局技术人员。"
    return StartupCheck(
        ok=False,
        db_path=path,
        code="E-STORE-002",
        message=message,
        detail=problem,
        last_good=good,
        backups=list_backups(data_dir),
    )


_hasher = PasswordHasher()


def _supervisor_in(conn: sqlite3.Connection, username: str, password: str) -> str:
    row = conn.execute(
        "SELECT id, password_hash FROM operator WHERE username = ? AND active = 1 AND role = 'supervisor'",
        ((username or "").strip(),),
    ).fetchone()
    if row is not None:
        try:
            if _hasher.verify(row[1], password or ""):
                return row[0]
        except (VerificationError, InvalidHashError):
            pass
    raise PermissionError("主管用户名或密码不正确（按备份中的账号核对）")


def restore_at_startup(
    data_dir: str | Path,
    backup: str | Path,
    *,
    username: str,
    password: str,
    filename: str = DB_FILENAME,
) -> RestoreResult:
    """The way out of a damaged store: a supervisor restores a verified backup.

    The password is checked against the operators in the backup. The damaged file (and its
    -wal/-shm) is moved to ``set-aside/``, never deleted; the backup is copied into a new
    store file with the backup API, migrated, checked and the restore is audited.
    """
    data_dir, backup = Path(data_dir), Path(backup)
    _verified_backup(backup)
    src = _open_read_only(backup)
    try:
        operator_id = _supervisor_in(src, username, password)
        path = data_dir / filename
        folder = set_aside_dir(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime(_STAMP)
        aside: list[Path] = []
        for suffix in ("", "-wal", "-shm"):
            f = path.with_name(path.name + suffix)
            if f.exists():
                target = folder / f"desk-{stamp}-damaged.sqlite3{suffix}"
                os.replace(f, target)
                aside.append(target)
        _fsync_dir(data_dir)
        fresh = path.with_name(path.name + ".restoring")
        _remove_quietly(fresh, fresh.with_name(fresh.name + "-journal"))
        try:
            _copy_database(src, fresh)
            _fsync_file(fresh)
            os.replace(fresh, path)
        except (sqlite3.Error, OSError) as e:
            _remove_quietly(fresh)
            for target in aside:  # put the damaged file back where it was: nothing lost
                os.replace(
                    target,
                    data_dir / target.name.replace(f"desk-{stamp}-damaged.sqlite3", filename),
                )
            log.error("restore at start-up failed", exc_info=e)
            msg = (
                "磁盘空间已满，恢复没有完成。请清理磁盘后重试。"
                if is_disk_full(e)
                else "恢复没有完成（详情见日志）。"
            )
            raise BackupError(msg, code="DISK-001" if is_disk_full(e) else "BACKUP-008") from e
    finally:
        src.close()
    store = open_store(data_dir, filename=filename)
    try:
        if not store.integrity_ok():
            raise BackupError("恢复后的数据检查未通过，请联系县医保局技术人员。", code="BACKUP-009")
        before = aside[0] if aside else backup
        _run_restore_hooks_safely(store, before)
        seq = _audit_restore(
            store, operator_id, backup, before, reason="startup integrity check failed"
        )
    finally:
        store.close()
    log.warning("store restored at start-up from %s; damaged files kept: %s", backup, aside)
    return RestoreResult(backup, aside, seq)


def _run_restore_hooks_safely(store: Store, before_copy: Path) -> None:
    """At start-up the copy kept aside is damaged: hooks may fail to read it. They get a
    chance; what they cannot read is logged, and the restore still goes ahead."""
    for hook in list(_restore_hooks):
        try:
            hook(store, before_copy)
        except (sqlite3.Error, OSError) as e:
            log.error("restore hook %r could not read the damaged store", hook, exc_info=e)


def open_checked(data_dir: str | Path) -> tuple[StartupCheck, Store | None]:
    """:func:`startup_check`, then open the store only when the check passed."""
    check = startup_check(data_dir)
    if not check.ok:
        return check, None
    return check, open_store(data_dir)


__all__ = [
    "KEEP",
    "BackupError",
    "BackupInfo",
    "RestoreResult",
    "StartupCheck",
    "auto_backup",
    "backup_due",
    "backup_now",
    "check_database",
    "create_backup",
    "last_good_backup",
    "list_backups",
    "open_checked",
    "register_restore_hook",
    "restore_at_startup",
    "restore_backup",
    "rotate",
    "startup_check",
]
