"""Log files. (The errors a clerk sees, their codes and messages: :mod:`desktop.errors`;
``classify`` and ``report_error`` are re-exported here for older callers.)

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
import re
import sys
import threading
from pathlib import Path

from desktop import paths
from desktop.errors import ClerkError, classify, report_error

__all__ = ["ClerkError", "classify", "current_log_file", "report_error", "setup_logging"]

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
    handler.setFormatter(ScrubbingFormatter(FORMAT))
    handler.setLevel(level)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    _handler = handler
    _install_hooks()
    log.info("logging to %s (python %s)", path, sys.version.split()[0])
    return path


_ID_RE = re.compile(r"(?<![0-9])([0-9]{4})[0-9]{10}([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_SECRET_RES = (
    (re.compile(r"(Bearer\s+)\S+"), r"\1[隐去]"),
    (re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{32,}(?![0-9A-Za-z])"), "[隐去]"),
    (re.compile(r"[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}"), "[隐去]"),
)


def scrub(text: str) -> str:
    """A log line as it may be written: ID numbers masked (1401**********0013), tokens,
    credentials and keys (long hex, signed tokens) replaced."""
    text = _ID_RE.sub(r"\1**********\2", text)
    for pattern, repl in _SECRET_RES:
        text = pattern.sub(repl, text)
    return text


class ScrubbingFormatter(logging.Formatter):
    """Every record (message and traceback) goes through :func:`scrub` before the file."""

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


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
