"""The errors a clerk sees: a code for the log and the technician (``E-DISK-001``) and a
Chinese message saying what happened and what to do.

Exceptions of the desk carry their own code (:class:`core.errors.CodedError`: input,
permissions, store and backup problems); everything else (disk, SQLite, network, bugs) is
classified here. :func:`report_error` writes the details to the log under the same code,
so a technician on the phone can find the entry from the code the clerk reads out. No Qt:
the GUI's error boxes and the CLI both call it.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

from sqlcipher3 import dbapi2 as sqlite3

from core.errors import CodedError


def is_disk_full(exc: BaseException) -> bool:
    """True for SQLITE_FULL and ENOSPC (and Windows' ERROR_DISK_FULL / HANDLE_DISK_FULL)."""
    if isinstance(exc, sqlite3.Error):
        if getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            return True
        return "database or disk is full" in str(exc)
    if isinstance(exc, OSError):
        return exc.errno == 28 or getattr(exc, "winerror", None) in (39, 112)
    return False


@dataclass(frozen=True)
class ClerkError:
    code: str
    message: str  # Chinese
    log_details: bool = True  # False for input/permission problems (the clerk fixes them)


DETAILS = "（详情已记入日志）"
CALL = "如仍不行，请把代码告诉县医保局技术人员。"

MESSAGES = {
    "E-DISK-001": "磁盘空间已满，本次保存没有完成，已保存的数据没有受影响。请清理磁盘（或请技术人员处理）后重试。",
    "E-DISK-002": "无法写入数据文件夹（没有权限或文件被占用），本次操作没有完成。",
    "E-DISK-003": "读写磁盘出错，本次操作没有完成。",
    "E-STORE-001": "数据库正忙（另一项操作尚未结束），请稍等几秒后重试。",
    "E-STORE-002": "本机数据库文件已损坏。请关闭软件，由主管按提示恢复最近的备份。",
    "E-STORE-003": "本地数据库出错，本次操作没有保存。请重试。",
    "E-STORE-004": "数据不符合要求（与已有记录重复或关联不存在），本次操作没有保存。",
    "E-NET-001": "连接不上县医保服务器，请检查网络后重试；本机数据已保存，可以继续办理业务。",
    "E-APP-001": "操作没有完成，请重试。",
}


def classify(exc: BaseException) -> ClerkError:
    """The code and Chinese message for an exception (no logging)."""
    if isinstance(exc, CodedError):  # input, permission, store: its own Chinese message
        code = exc.code if exc.code.startswith("E-") else f"E-{exc.code}"
        return ClerkError(code, str(exc), log_details=exc.log_details)
    if is_disk_full(exc) or is_disk_full(exc.__cause__ or exc):
        return ClerkError("E-DISK-001", MESSAGES["E-DISK-001"])
    if isinstance(exc, PermissionError):  # OS-level: read-only folder, file locked
        if isinstance(exc, OSError) and exc.errno is not None:
            return ClerkError("E-DISK-002", MESSAGES["E-DISK-002"])
        return ClerkError("E-PERM-001", str(exc), log_details=False)
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        text = str(exc).lower()
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
            return ClerkError("E-STORE-001", MESSAGES["E-STORE-001"])
        if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text:
            return ClerkError("E-STORE-002", MESSAGES["E-STORE-002"])
        if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM, sqlite3.SQLITE_CANTOPEN):
            return ClerkError("E-DISK-002", MESSAGES["E-DISK-002"])
        if code == sqlite3.SQLITE_IOERR or "disk i/o" in text:
            return ClerkError("E-DISK-003", MESSAGES["E-DISK-003"])
        if isinstance(exc, sqlite3.IntegrityError):
            return ClerkError("E-STORE-004", MESSAGES["E-STORE-004"])
        return ClerkError("E-STORE-003", MESSAGES["E-STORE-003"])
    if _is_network_error(exc):
        return ClerkError("E-NET-001", MESSAGES["E-NET-001"])
    if isinstance(exc, OSError):
        return ClerkError("E-DISK-003", MESSAGES["E-DISK-003"])
    return ClerkError("E-APP-001", MESSAGES["E-APP-001"])


def _is_network_error(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionError | TimeoutError):
        return True
    # an httpx error can only exist once httpx was imported (by the sync client): looking it
    # up here keeps httpx out of the window's start-up (issue 10 item 7)
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(exc, httpx.TransportError)


def report_error(exc: BaseException, context: str = "") -> tuple[str, str]:
    """``(code, Chinese message)`` for the clerk; details go to the log under the code.

    The message ends with the code so the clerk can read it out; for disk, store and
    unexpected errors it also says the details are in the log."""
    info = classify(exc)
    where = f" while {context}" if context else ""
    if info.log_details:
        logging.getLogger("desktop.errors").error(
            "%s%s: %s: %s", info.code, where, type(exc).__name__, exc, exc_info=exc
        )
        message = f"{info.message}{DETAILS}{CALL}（代码 {info.code}）"
    else:
        logging.getLogger("desktop.errors").info("%s%s: %s", info.code, where, exc)
        message = f"{info.message}（代码 {info.code}）"
    return info.code, message
