"""Log files and the errors a clerk sees.

* :func:`setup_logging` writes rotating UTF-8 log files (1 MB × 10) into the user log folder
  (``platformdirs.user_log_dir``, e.g. ``%LOCALAPPDATA%\\TownshipDesk\\TownshipDesk\\Logs``
  on Windows), or into ``<data_dir>/logs`` when the app runs with ``--data-dir`` (tests,
  portable installs). Uncaught exceptions (main and worker threads) are logged too.
* :func:`report_error` turns any exception into ``(code, Chinese message)`` for the clerk
  and writes the details (traceback) to the log under the same code, so a technician on the
  phone can find the entry from the code the clerk reads out (e.g. ``E-DISK-001``).

No Qt here: the GUI's error boxes (desktop/gui/widgets.py) and the CLI both call it.
"""

from __future__ import annotations

import logging
import logging.handlers
import sqlite3
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from desktop import paths

LOG_FILENAME = "township-desk.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 10
FORMAT = "%(asctime)s %(levelname)-7s [%(threadName)s] %(name)s: %(message)s"

log = logging.getLogger("desktop")
_handler: logging.Handler | None = None


def log_dir_for(data_dir: str | Path | None) -> Path:
    """``<data_dir>/logs`` for an explicit data folder, else the user log folder."""
    if data_dir is not None:
        return Path(data_dir) / "logs"
    return paths.default_log_dir()


def setup_logging(
    data_dir: str | Path | None = None,
    *,
    log_dir: str | Path | None = None,
    level: int = logging.INFO,
) -> Path:
    """Attach one rotating file handler to the root logger (idempotent: a second call moves
    the log to the new folder). Returns the log file's path."""
    global _handler
    folder = Path(log_dir) if log_dir is not None else log_dir_for(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILENAME
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
        _handler.close()
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
    )
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    _handler = handler
    _install_hooks()
    log.info("logging to %s (python %s)", path, sys.version.split()[0])
    return path


def current_log_file() -> Path | None:
    if isinstance(_handler, logging.handlers.RotatingFileHandler):
        return Path(_handler.baseFilename)
    return None


def _install_hooks() -> None:
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        if not issubclass(exc_type, KeyboardInterrupt):
            logging.getLogger("desktop.uncaught").critical(
                "uncaught exception", exc_info=(exc_type, exc, tb)
            )
        if previous is not excepthook:
            previous(exc_type, exc, tb)

    if getattr(sys.excepthook, "_township", False):
        return
    excepthook._township = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook

    previous_thread_hook = threading.excepthook

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        logging.getLogger("desktop.uncaught").critical(
            "uncaught exception in thread %s",
            args.thread.name if args.thread else "?",
            exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
        )
        previous_thread_hook(args)

    threading.excepthook = thread_hook


# --------------------------------------------------------------------------- clerk errors


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
    from core.errors import ValidationError
    from desktop.services.backup import is_disk_full
    from desktop.services.context import PermissionDenied
    from desktop.store.db import StoreError

    if isinstance(exc, ValidationError):
        return ClerkError("E-INPUT-001", "；".join(exc.errors.values()), log_details=False)
    if isinstance(exc, PermissionDenied):
        return ClerkError("E-PERM-001", str(exc), log_details=False)
    if isinstance(exc, StoreError):  # already has a Chinese message (backups, receipts …)
        code = exc.code if exc.code.startswith("E-") else f"E-{exc.code}"
        return ClerkError(code, str(exc))
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
    try:
        import httpx
    except ImportError:  # pragma: no cover - httpx is a runtime dependency
        return False
    return isinstance(exc, httpx.TransportError | ConnectionError | TimeoutError)


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
