"""Backups of the local store.

* Copies are made with SQLite's online backup API (``sqlite3.Connection.backup``) from a
  separate read connection, so the clerk can keep working while a backup runs (WAL mode).
  Each copy is written to a ``.partial`` file, checked (``PRAGMA integrity_check``), synced
  to disk and only then renamed into ``<data_dir>/backups/desk-YYYYMMDD-HHMMSS-<kind>.sqlite3``.
  A failed copy (full disk, power cut) never leaves a half file that looks like a backup.
* One automatic backup a day (:func:`auto_backup`), plus "back up now" for a supervisor
  (:func:`backup_now`); the newest :data:`KEEP` copies are kept (:func:`rotate`).
* Restoring and the start-up check are in :mod:`desktop.services.restore` (re-exported
  here, the one module the GUI and the CLI import); the SQLite work on files is in
  :mod:`desktop.store.backupfiles`.

No Qt here: the GUI and the CLI both call these functions.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime
from pathlib import Path

from desktop.errors import is_disk_full
from desktop.services.context import Actor
from desktop.services.restore import (
    RestoreHook,
    RestoreResult,
    StartupCheck,
    last_good_backup,
    open_checked,
    register_restore_hook,
    restore_at_startup,
    restore_backup,
    startup_check,
)
from desktop.store import Store, cipher
from desktop.store import backupfiles as bf
from desktop.store.backupfiles import (
    BACKUP_DIRNAME,
    KINDS,
    REQUIRED_TABLES,
    SET_ASIDE_DIRNAME,
    BackupError,
    BackupInfo,
    backups_dir,
    check_database,
    list_backups,
    set_aside_dir,
)
from desktop.store.cipher import sqlite3
from desktop.store.journal import audit_event

log = logging.getLogger(__name__)

KEEP = 14  # backups kept in <data_dir>/backups (newest first)

DISK_FULL_BACKUP = (
    "磁盘空间已满，备份没有完成（已有的数据和以前的备份都没有受影响）。请清理磁盘后再备份。"
)


def _new_backup_path(data_dir: Path, kind: str, now: datetime) -> Path:
    folder = backups_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    base = f"desk-{now.strftime(bf.STAMP)}-{kind}"
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
    source = cipher.connect(store.path, store.key)
    try:
        bf.copy_database(source, partial)
        problems = check_database(partial, audit=False)
        if problems:
            raise BackupError(
                "备份副本检查未通过，备份没有完成。请联系县医保局技术人员。", code="BACKUP-002"
            )
        bf.fsync_file(partial)
        os.replace(partial, final)
        bf.fsync_dir(final.parent)
    except BackupError:
        bf.remove_quietly(partial)
        raise
    except (sqlite3.Error, OSError) as e:
        bf.remove_quietly(partial)
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
    bf.verified_backup(backup)
    if not dest_dir.is_dir():
        raise BackupError(f"找不到目标文件夹：{dest_dir}", code="BACKUP-011")
    final = dest_dir / backup.name
    n = 1
    while final.exists():
        n += 1
        final = dest_dir / f"{backup.stem}-{n}{backup.suffix}"
    partial = final.with_name(final.name + ".partial")
    src = bf.open_read_only(backup)
    try:
        bf.copy_database(src, partial)
        if check_database(partial, audit=False):
            raise BackupError("导出的副本检查未通过，请换一个U盘或文件夹再试。", code="BACKUP-012")
        bf.fsync_file(partial)
        os.replace(partial, final)
    except BackupError:
        bf.remove_quietly(partial)
        raise
    except (sqlite3.Error, OSError) as e:
        bf.remove_quietly(partial)
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
        bf.remove_quietly(old.path)
        removed.append(old.path)
    folder = backups_dir(data_dir)
    if folder.is_dir():
        for p in folder.glob("*.partial"):
            bf.remove_quietly(p)
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
        audit_event(
            db,
            operator_id=actor.operator_id,
            action="backup.create",
            entity="backup",
            entity_id=info.path.name,
            before=None,
            after={"file": info.path.name, "size": info.size},
        )
    return info


__all__ = [
    "BACKUP_DIRNAME",
    "KEEP",
    "KINDS",
    "REQUIRED_TABLES",
    "SET_ASIDE_DIRNAME",
    "backups_dir",
    "set_aside_dir",
    "export_backup",
    "RestoreHook",
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
