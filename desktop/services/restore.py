"""Restoring the store from a backup, and the integrity check at start-up.

* :func:`restore_backup` (supervisor, store open) verifies the backup first, keeps the
  current store aside in ``<data_dir>/set-aside/``, copies the backup into the live store
  in one step (all or nothing), applies newer migrations and audits the restore.
* :func:`startup_check` runs before the store is opened. When the file is damaged it names
  the last good backup; :func:`restore_at_startup` puts it back after a supervisor's
  password is checked against that backup (the damaged store cannot be trusted to log in).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from desktop.errors import is_disk_full
from desktop.services.context import Actor
from desktop.store import Store, cipher, places, wipe
from desktop.store import backupfiles as bf
from desktop.store.backupfiles import BackupError, BackupInfo
from desktop.store.cipher import sqlite3
from desktop.store.db import DB_FILENAME, migrate, open_store
from desktop.store.journal import audit_event

log = logging.getLogger("desktop.services.backup")


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
    bf.verified_backup(backup)
    src = bf.open_read_only(backup)
    try:
        theirs = bf.service_point_of(src)
        ours = places.service_point(store)
        if ours and theirs and ours["id"] != theirs:
            raise BackupError("这个备份属于另一个服务点，不能恢复到本机。", code="BACKUP-005")
        lock = store._lock  # the store's writer lock: no other store work during the swap
        with lock:
            if store.conn.in_transaction:
                raise BackupError("有未完成的保存，请稍后再恢复。", code="BACKUP-006")
            try:
                aside = bf.set_aside_copy(store.conn, data_dir, "before-restore")
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
        audit_event(
            db,
            operator_id=operator_id,
            action="store.restore",
            entity="backup",
            entity_id=backup.name,
            before={"set_aside": str(aside)},
            after={"file": backup.name},
            extra={"reason": reason},
        )
        return bf.last_audit_seq(db.conn)


# --------------------------------------------------------------------------- start-up

DAMAGED = "本机数据库文件已损坏，为防止数据出错，软件暂停使用。"


def last_good_backup(data_dir: str | Path) -> BackupInfo | None:
    """The newest backup that passes :func:`check_database`."""
    for info in bf.list_backups(data_dir):
        problems = bf.check_database(info.path)
        if not problems:
            return info
        log.warning("backup %s is not usable: %s", info.path.name, problems[:3])
    return None


def startup_check(data_dir: str | Path, *, filename: str = DB_FILENAME) -> StartupCheck:
    """Check the store file before the app opens it (``PRAGMA integrity_check``)."""
    data_dir = Path(data_dir)
    path = data_dir / filename
    erased = wipe.marked(data_dir)
    if erased:  # disabled by the county: the erase is finished before anything opens
        wipe.remove_data_files(data_dir)
        return StartupCheck(ok=False, db_path=path, code="E-STORE-WIPED", message=erased)
    if not path.exists():
        return StartupCheck(ok=True, db_path=path, new_store=True)
    if not cipher.is_plain(path) and path.stat().st_size > 0:
        folder = cipher.folder_id(data_dir, create=False)
        if folder is not None and cipher.stored_key(folder) is None:
            log.error("no key for the encrypted store %s in the credential store", path)
            return StartupCheck(
                ok=False, db_path=path, code="E-STORE-KEY-001", message=cipher.KEY_LOST
            )
    problem = bf.check_store_file(path)
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
        backups=bf.list_backups(data_dir),
    )


_hasher = PasswordHasher()


def supervisor_in(conn: sqlite3.Connection, username: str, password: str) -> str:
    row = bf.active_supervisor(conn, username)
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
    bf.verified_backup(backup)
    src = bf.open_read_only(backup)
    try:
        operator_id = supervisor_in(src, username, password)
        path = data_dir / filename
        folder = bf.set_aside_dir(data_dir)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now().strftime(bf.STAMP)
        aside: list[Path] = []
        for suffix in ("", "-wal", "-shm"):
            f = path.with_name(path.name + suffix)
            if f.exists():
                target = folder / f"desk-{stamp}-damaged.sqlite3{suffix}"
                os.replace(f, target)
                aside.append(target)
        bf.fsync_dir(data_dir)
        fresh = path.with_name(path.name + ".restoring")
        bf.remove_quietly(fresh, fresh.with_name(fresh.name + "-journal"))
        try:
            bf.copy_database(src, fresh)
            bf.fsync_file(fresh)
            os.replace(fresh, path)
        except (sqlite3.Error, OSError) as e:
            bf.remove_quietly(fresh)
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
