"""Log files (rotating, under the data folder for --data-dir runs) and clerk error codes."""

from __future__ import annotations

import logging
import sys
import threading

import pytest

from core.errors import ValidationError
from desktop import logging_setup
from desktop.services.context import PermissionDenied
from desktop.store.cipher import sqlite3
from desktop.store.db import StoreError


@pytest.fixture(autouse=True)
def _restore_logging():
    hooks = (sys.excepthook, threading.excepthook)
    yield
    sys.excepthook, threading.excepthook = hooks
    if logging_setup._handler is not None:
        logging.getLogger().removeHandler(logging_setup._handler)
        logging_setup._handler.close()
        logging_setup._handler = None


@pytest.fixture
def logfile(data_dir):
    return logging_setup.setup_logging(data_dir)


def test_log_goes_to_the_data_dir_for_data_dir_runs(logfile, data_dir):
    assert logfile == data_dir / "logs" / "township-desk.log"
    assert logging_setup.current_log_file() == logfile
    logging.getLogger("desktop.test").warning("一条中文日志")
    assert "一条中文日志" in logfile.read_text(encoding="utf-8")


def test_default_log_folder_is_the_user_log_dir():
    from desktop import paths

    assert logging_setup.log_dir_for(None) == paths.default_log_dir()


def test_report_error_gives_code_and_chinese_and_logs_the_traceback(logfile):
    def save():
        raise sqlite3.OperationalError("database is locked")

    try:
        save()
    except sqlite3.OperationalError as e:
        code, message = logging_setup.report_error(e, "saving a person")
    assert code == "E-STORE-001"
    assert "数据库正忙" in message and "（代码 E-STORE-001）" in message and "日志" in message
    text = logfile.read_text(encoding="utf-8")
    assert "E-STORE-001 while saving a person" in text
    assert "Traceback" in text and "in save" in text


def test_input_and_permission_problems_are_shown_not_dumped(logfile):
    code, message = logging_setup.report_error(ValidationError({"name": "请输入姓名"}))
    assert code == "E-INPUT-001" and message.startswith("请输入姓名")
    code, message = logging_setup.report_error(PermissionDenied("恢复备份需要主管权限"))
    assert code == "E-PERM-001" and "主管" in message
    assert "Traceback" not in logfile.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (sqlite3.DatabaseError("database disk image is malformed"), "E-STORE-002"),
        (sqlite3.IntegrityError("UNIQUE constraint failed: person.id"), "E-STORE-004"),
        (sqlite3.OperationalError("no such table: foo"), "E-STORE-003"),
        (StoreError("收据号高水位文件无法读取", code="RECEIPT_HWM"), "E-RECEIPT_HWM"),
        (PermissionError(13, "Permission denied"), "E-DISK-002"),
        (ConnectionError("refused"), "E-NET-001"),
        (RuntimeError("boom"), "E-APP-001"),
    ],
)
def test_error_codes(exc, code):
    info = logging_setup.classify(exc)
    assert info.code == code
    assert info.message and all(not ("a" <= ch <= "z") for ch in info.message[:2])


def test_log_rotates(data_dir, monkeypatch):
    monkeypatch.setattr(logging_setup, "MAX_BYTES", 2000)
    monkeypatch.setattr(logging_setup, "BACKUP_COUNT", 3)
    path = logging_setup.setup_logging(data_dir)
    for i in range(200):
        logging.getLogger("desktop.test").info("line %d %s", i, "x" * 50)
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == [
        "township-desk.log",
        "township-desk.log.1",
        "township-desk.log.2",
        "township-desk.log.3",
    ]
    assert path.stat().st_size <= 2000


def test_uncaught_exceptions_in_threads_are_logged(data_dir):
    seen = []
    threading.excepthook = seen.append  # the hook that was there before is still called
    logfile = logging_setup.setup_logging(data_dir)
    t = threading.Thread(target=lambda: 1 / 0, name="worker-x")
    t.start()
    t.join()
    text = logfile.read_text(encoding="utf-8")
    assert "uncaught exception in thread worker-x" in text and "ZeroDivisionError" in text
    assert len(seen) == 1
