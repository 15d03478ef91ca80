"""The settings dialog, the backup panel, the start-up recovery dialog and the daily backup
timer, driven like a clerk would (offscreen)."""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from desktop.services import backup, settings  # noqa: E402


@pytest.fixture
def make_ctx(qtbot, store, data_dir):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    made = []

    def make(actor):
        ctx = make_context(store, actor, data_dir)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.tasks.shutdown()


def _dialog(qtbot, ctx):
    from desktop.gui.settings_dialog import SettingsDialog

    d = SettingsDialog(ctx)
    qtbot.addWidget(d)
    d.show()
    return d


def test_supervisor_edits_settings_with_errors_beside_the_field(qtbot, make_ctx, admin, store):
    ctx = make_ctx(admin)
    d = _dialog(qtbot, ctx)
    f = d.settings_form
    assert f.sp_name.text() == "示范乡卫生院" and "SP01" in f.sp_fixed.text()
    assert not d.result_label.isVisible()  # an empty line left a gap above the buttons
    f.county_url.setText("ftp://ybj.example.gov.cn")
    f.sp_phone.setText("电话")
    d.save_button.click()
    qtbot.waitUntil(lambda: bool(f.form.error_text("county_url")))
    assert "https://" in f.form.error_text("county_url")
    assert "数字" in f.form.error_text("sp_phone")
    assert store.setting(settings.KEY_COUNTY_URL) is None  # nothing written

    f.county_url.setText("https://ybj.example.gov.cn")
    f.sp_phone.setText("0351-6123456")
    f.paper.setCurrentIndex(f.paper.findData("A5"))
    d.save_button.click()
    qtbot.waitUntil(lambda: d.result_label.text() == "设置已保存。")
    assert d.result_label.isVisible() and f.form.error_text("county_url") == ""
    s = settings.get_settings(store)
    assert (s.county_url, s.paper, s.sp_phone) == (
        "https://ybj.example.gov.cn",
        "A5",
        "0351-6123456",
    )


def test_clerk_sees_settings_read_only(qtbot, make_ctx, clerk):
    d = _dialog(qtbot, make_ctx(clerk))
    assert not d.save_button.isEnabled()
    assert not d.settings_form.county_url.isEnabled()
    assert "只有主管" in d.settings_form.note.text()
    assert not d.backups.backup_button.isEnabled() and not d.backups.restore_button.isEnabled()


def test_backup_now_and_restore_from_the_panel(
    qtbot, make_ctx, admin, store, data_dir, ops, monkeypatch
):
    ctx = make_ctx(admin)
    d = _dialog(qtbot, ctx)
    panel = d.backups
    assert panel.list.item(0).text() == "（还没有备份）"
    ops.add_people(store, admin, ["张三"])
    panel.backup_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("备份完成"))
    assert panel.list.count() == 1 and panel.selected().endswith("-manual.sqlite3")

    later = ops.add_people(store, admin, ["李四"])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    with qtbot.waitSignal(ctx.events.data_changed, timeout=5000):
        panel.restore_button.click()
    qtbot.waitUntil(lambda: panel.status.text().startswith("已恢复"))
    assert store.query_one("SELECT 1 AS x FROM person WHERE id = ?", (later[0],)) is None
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 1
    assert list((data_dir / "set-aside").iterdir())
    assert told and "重新打开并登录" in told[0]


def test_restore_from_the_menu_closes_the_session(
    qtbot, make_ctx, admin, store, data_dir, monkeypatch
):
    from desktop.gui.main_window import MainWindow
    from desktop.gui.settings_dialog import SettingsDialog

    ctx = make_ctx(admin)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    w.show()
    info = backup.create_backup(store, data_dir)
    d = SettingsDialog(ctx, w)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    d.backups.restore(str(info.path))
    qtbot.waitUntil(lambda: not w.isVisible())
    assert d.result() == d.DialogCode.Accepted.value


def test_restore_answered_no_changes_nothing(
    qtbot, make_ctx, admin, store, data_dir, ops, monkeypatch
):
    ctx = make_ctx(admin)
    backup.create_backup(store, data_dir)
    ops.add_people(store, admin, ["张三"])
    d = _dialog(qtbot, ctx)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    d.backups.restore_button.click()
    assert ctx.tasks.idle
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 1


def test_recovery_dialog_restores_the_last_good_backup(
    qtbot, store, admin, data_dir, ops, monkeypatch
):
    from desktop.gui.app import create_qapplication
    from desktop.gui.operations import RecoveryDialog

    create_qapplication()
    ops.add_people(store, admin, ["张三", "李四"])
    info = backup.create_backup(store, data_dir)
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3")
    check = backup.startup_check(data_dir)
    d = RecoveryDialog(check, data_dir)
    qtbot.addWidget(d)
    d.show()
    assert "已损坏" in d.findChild(type(d.error), "message").text()
    assert d.backup.currentData() == str(info.path)
    d.restore_button.click()
    assert "请输入主管用户名" in d.form.error_text("username")
    d.username.setText("admin")
    d.password.setText("wrong-password")
    d.restore_button.click()
    assert "不正确" in d.form.error_text("password") and d.restored is None
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    d.username.setText("admin")
    d.password.setText("admin123")
    d.restore_button.click()
    assert d.restored is not None and d.result() == d.DialogCode.Accepted.value
    assert backup.startup_check(data_dir).ok


def test_recovery_dialog_without_backups_only_offers_quit(qtbot, store, admin, data_dir, ops):
    from desktop.gui.app import create_qapplication
    from desktop.gui.operations import RecoveryDialog

    create_qapplication()
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3", first_page=1)
    d = RecoveryDialog(backup.startup_check(data_dir), data_dir)
    qtbot.addWidget(d)
    assert not d.restore_button.isEnabled()
    assert "没有可用的备份" in d.findChild(type(d.error), "message").text()


def test_menu_has_settings_and_daily_backup_runs_once(qtbot, make_ctx, admin, data_dir):
    from desktop.gui.main_window import MainWindow
    from desktop.gui.operations import DailyBackup

    ctx = make_ctx(admin)
    w = MainWindow(ctx)
    qtbot.addWidget(w)
    titles = [a.text() for a in w.system_menu.actions()]
    # each with its letter for Alt+T then the letter
    assert titles[:4] == [
        "系统设置(&S)…",
        "备份与恢复(&B)…",
        "打开日志文件夹(&L)",
        "操作员管理(&O)…",
    ]
    assert titles[-1] == "退出(&X)"
    daily = DailyBackup(ctx, w)
    with qtbot.waitSignal(ctx.events.status_message, timeout=5000) as sig:
        daily.start()
    assert sig.args == ["今日自动备份已完成"]
    assert len(backup.list_backups(data_dir)) == 1
    daily.run_if_due()
    qtbot.waitUntil(lambda: ctx.tasks.idle)
    assert daily.last_result is None and len(backup.list_backups(data_dir)) == 1
    daily.timer.stop()


def test_export_to_usb_and_restore_from_a_file(
    qtbot, make_ctx, admin, store, data_dir, tmp_path, ops, monkeypatch
):
    from PySide6.QtWidgets import QFileDialog

    ctx = make_ctx(admin)
    info = backup.create_backup(store, data_dir)
    d = _dialog(qtbot, ctx)
    usb = tmp_path / "usb"
    usb.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(usb))
    d.backups.export_button.click()
    qtbot.waitUntil(lambda: d.backups.status.text().startswith("已导出到"))
    copy = usb / info.path.name
    assert copy.exists()

    ops.add_people(store, admin, ["张三"])
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(copy), ""))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: None)
    d.backups.restore_file_button.click()
    qtbot.waitUntil(lambda: d.backups.status.text().startswith("已恢复"))
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 0


def test_run_gui_starts_the_daily_backup(qtbot, store, admin, data_dir, monkeypatch):
    from PySide6.QtWidgets import QApplication

    import desktop.gui.app as app_module

    monkeypatch.setattr(app_module, "obtain_actor", lambda s, demo=False: admin)
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    assert app_module.run_gui(store, data_dir) == 0
    window = next(w for w in QApplication.topLevelWidgets() if hasattr(w, "daily_backup"))
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: len(backup.list_backups(data_dir)) == 1)
    assert window.daily_backup.timer.isActive()
    window.daily_backup.timer.stop()
    window.close()  # shuts the task runner down
