"""township-desk backup/settings commands and --self-test, as a technician runs them."""

from __future__ import annotations

import io
import logging
import sys
import threading

import pytest

from desktop import logging_setup
from desktop.cli import main
from desktop.services import backup


@pytest.fixture(autouse=True)
def _restore_logging():
    hooks = (sys.excepthook, threading.excepthook)
    yield
    sys.excepthook, threading.excepthook = hooks
    if logging_setup._handler is not None:
        logging.getLogger().removeHandler(logging_setup._handler)
        logging_setup._handler.close()
        logging_setup._handler = None


def run(data_dir, *args, stdin: str = "", monkeypatch=None):
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return main(["--data-dir", str(data_dir), *args])


def test_backup_commands_and_restore_of_a_damaged_store(
    store, admin, data_dir, ops, capsys, monkeypatch
):
    ops.add_people(store, admin, ["张三"])
    store.close()
    assert (
        run(
            data_dir,
            "backup",
            "now",
            "--user",
            "admin",
            "--password-stdin",
            stdin="wrong\n",
            monkeypatch=monkeypatch,
        )
        == 1
    )
    said = capsys.readouterr()
    assert "不正确" in said.err and not said.out  # errors on standard error, as every command's
    assert (
        run(
            data_dir,
            "backup",
            "now",
            "--user",
            "admin",
            "--password-stdin",
            stdin="admin123\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    (info,) = backup.list_backups(data_dir)
    assert str(info.path) in capsys.readouterr().out
    assert run(data_dir, "backup", "auto") == 0
    assert "今天已经备份过" in capsys.readouterr().out
    assert (data_dir / "logs" / "township-desk.log").exists()

    usb = data_dir.parent / "usb"
    usb.mkdir()
    assert run(data_dir, "backup", "export", str(info.path), str(usb)) == 0
    assert (usb / info.path.name).exists()
    assert "已导出" in capsys.readouterr().out
    assert run(data_dir, "backup", "export", str(info.path), str(usb / "gone")) == 1
    said = capsys.readouterr()
    assert "找不到目标文件夹" in said.err and not said.out

    ops.corrupt(data_dir / "desk.sqlite3")
    assert run(data_dir, "backup", "check") == 2
    assert "已损坏" in capsys.readouterr().out
    assert run(data_dir, "settings", "show") == 2  # refuses to open a damaged store
    said = capsys.readouterr()
    assert "代码 E-STORE-002" in said.err and not said.out
    assert (
        run(
            data_dir,
            "backup",
            "restore",
            str(info.path),
            "--user",
            "admin",
            "--password-stdin",
            stdin="admin123\n",
            monkeypatch=monkeypatch,
        )
        == 0
    )
    assert "恢复前的数据另存在" in capsys.readouterr().out
    assert run(data_dir, "backup", "check") == 0
    assert run(data_dir, "settings", "show") == 0
    assert "示范乡卫生院" in capsys.readouterr().out


def test_a_command_without_a_credential_store_says_so_in_chinese(tmp_path):
    """A technician's command on a PC whose credential store cannot be used (no keyring
    service): its Chinese message and code on standard error, exit 1, no Python traceback
    (the details go to the log)."""
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("TOWNSHIP_DEV")}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", QT_QPA_PLATFORM="offscreen")
    data = tmp_path / "data"
    r = subprocess.run(
        [sys.executable, "-m", "desktop", "--data-dir", str(data), "backup", "now"]
        + ["--user", "admin", "--password-stdin"],
        input="admin123\n",
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "系统凭据库" in r.stderr and "代码 E-KEYRING-001" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_headless_modes_stop_on_a_damaged_store(store, admin, data_dir, ops, capsys, tmp_path):
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3")
    assert run(data_dir, "--screenshots", str(tmp_path / "shots")) == 3
    assert "E-STORE-002" in capsys.readouterr().err


def test_gui_start_on_a_damaged_store_offers_the_restore_then_runs(
    qtbot, store, admin, data_dir, ops, monkeypatch
):
    """main() without a command: the start-up check fails, the recovery dialog restores the
    last good backup with the supervisor's password, then the GUI starts on a sound store."""
    from PySide6.QtWidgets import QMessageBox

    import desktop.gui.app as app_module
    from desktop.gui.operations import RecoveryDialog

    ops.add_people(store, admin, ["张三"])
    good = backup.create_backup(store, data_dir)
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3")

    shown = []

    def fake_exec(dialog):
        shown.append(dialog.backup.currentData())
        dialog.username.setText("admin")
        dialog.password.setText("admin123")
        dialog.try_restore()
        return dialog.result()

    started = []
    monkeypatch.setattr(RecoveryDialog, "exec", fake_exec)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    monkeypatch.setattr(
        app_module,
        "run_gui",
        lambda s, d, demo=False, one_window=None: started.append(s.integrity_ok()) or 0,
    )
    assert main(["--data-dir", str(data_dir)]) == 0
    assert shown == [str(good.path)] and started == [True]
    assert backup.startup_check(data_dir).ok


def test_gui_start_quits_when_the_restore_is_declined(
    qtbot, store, admin, data_dir, ops, monkeypatch
):
    import desktop.gui.app as app_module
    from desktop.gui.operations import RecoveryDialog

    backup.create_backup(store, data_dir)
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3")
    monkeypatch.setattr(RecoveryDialog, "exec", lambda dialog: dialog.reject() or 0)
    monkeypatch.setattr(app_module, "run_gui", lambda *a, **k: pytest.fail("GUI started"))
    assert main(["--data-dir", str(data_dir)]) == 3
    assert not backup.startup_check(data_dir).ok  # nothing changed


def test_a_restore_waits_for_the_window_to_close(store, admin, data_dir, ops, capsys, monkeypatch):
    """`backup restore` while the desk's window is open on the folder (another program):
    refused in words, nothing restored — the window's pages would go on with what they read
    before; once the window is closed (or its program gone, as after a power cut) it runs."""
    import subprocess

    from desktop.store.backupfiles import set_aside_dir

    ops.add_people(store, admin, ["张三"])
    info = backup.create_backup(store, data_dir)
    ops.add_people(store, admin, ["李四"])
    store.close()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from desktop.services.window import "
         "take_window; lock = take_window(sys.argv[1]); print(lock is not None, flush=True);"
         " time.sleep(120)", str(data_dir)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "True"
        restore = ("backup", "restore", str(info.path), "--user", "admin", "--password-stdin")
        assert run(data_dir, *restore, stdin="admin123\n", monkeypatch=monkeypatch) == 1
        said = capsys.readouterr()
        assert "请先退出窗口" in said.err and not said.out
        assert not set_aside_dir(data_dir).exists()  # nothing set aside, nothing restored
    finally:
        holder.kill()
        holder.wait(10)
    assert run(data_dir, *restore, stdin="admin123\n", monkeypatch=monkeypatch) == 0
    assert "恢复前的数据另存在" in capsys.readouterr().out
    assert any(set_aside_dir(data_dir).iterdir())
