"""The 同步 page: state, pending count, registration field errors, the inbox and its
“已处理” button, the status bar signal. (Sync against a real county: test_sync_e2e.py.)"""

from __future__ import annotations

import pytest

pytest.importorskip("pytestqt")


@pytest.fixture
def page(qtbot, store, admin, data_dir, mem_keyring):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.sync import Page

    create_qapplication()
    ctx = make_context(store, admin, data_dir)
    statuses: list[dict] = []
    ctx.events.sync_status.connect(statuses.append)
    p = Page(ctx)
    p.statuses = statuses
    qtbot.addWidget(p)
    p.show()
    qtbot.waitUntil(lambda: bool(p.status))
    yield p
    p.timer.stop()
    ctx.tasks.shutdown()


def test_unregistered_page_says_so_and_offers_registration(page, qtbot):
    assert page.state_label.text() == "未注册"
    assert page.server_label.text() == "本机尚未注册"
    assert page.reg_box.isVisible()
    assert not page.sync_button.isEnabled()
    assert page.start_sync("manual") is False
    assert "尚未注册" in page.message.text()
    assert page.statuses and page.statuses[-1]["state"] == "never"
    assert page.timer.isActive() and page.timer.interval() == 10 * 60 * 1000  # periodic sync


def test_registration_fields_are_checked_before_anything_is_sent(page, qtbot):
    """Each box that cannot be right says so beside it, before the county is asked (a
    mistyped code does not cost a try of the one-time code)."""
    form = page.reg_form
    page.reg_button.click()
    assert "服务器地址" in form.error_text("server") and "注册码" in form.error_text("code")
    page.server_edit.setText("ftp://county")
    page.code_edit.setText("ABCD")
    page.reg_button.click()
    assert "https://" in form.error_text("server") and "12位" in form.error_text("code")
    page.server_edit.setText("http://ybj.example.gov.cn")  # not encrypted: refused
    page.code_edit.setText("abcd efgh 2345")  # as typed from the notice: fine
    page.reg_button.click()
    assert "https://" in form.error_text("server") and form.error_text("code") == ""
    page.code_edit.setText("ABCD-EFGH-1234")  # 1 is never in a code
    page.reg_button.click()
    assert "12位" in form.error_text("code")
    assert page.reg_error.text() == ""
    assert page.ctx.store.query_one("SELECT COUNT(*) AS n FROM sync_device")["n"] == 0


def test_an_address_as_the_notice_writes_it_is_asked_over_https(page, qtbot):
    page.server_edit.setText("localhost:9")  # nothing listens on the discard port
    page.code_edit.setText("ABCD-EFGH-JKMN")
    page.reg_button.click()
    assert page.server_edit.text() == "https://localhost:9"  # shown as it is asked
    qtbot.waitUntil(lambda: bool(page.reg_error.text()), timeout=60000)
    assert page.reg_form.error_text("server") == "" and "连不上" in page.reg_error.text()


def test_unreachable_server_gives_a_chinese_error(page, qtbot):
    page.server_edit.setText("http://127.0.0.1:9")  # nothing listens on the discard port
    page.code_edit.setText("ABCD-EFGH-JKMN")
    page.reg_button.click()
    qtbot.waitUntil(lambda: "连不上" in page.reg_error.text(), timeout=60000)
    assert page.reg_box.isVisible()


def test_inbox_lists_items_and_marks_them_done(page, qtbot):
    from desktop.store import syncstate as st

    with page.ctx.store.write() as db:
        st.add_inbox(
            db,
            id="n1",
            kind="double_enrollment",
            title="张三 2027年度在两个服务点参保",
            action="请联系参保人确认在哪个服务点参保",
        )
    page.refresh()
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert page.table.item(0, 1).text() == "重复参保"
    assert "两个服务点" in page.table.item(0, 2).text()
    assert "联系参保人" in page.table.item(0, 3).text()
    assert page.table.item(0, 4).text() == "待处理"
    assert "未处理 1 条" in page.inbox_title.text()
    page.table.selectRow(0)
    page.resolve_button.click()
    qtbot.waitUntil(lambda: page.table.rowCount() == 0)
    page.show_resolved.setChecked(True)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1)
    assert page.table.item(0, 4).text() == "已处理"
    audit = page.ctx.store.query_one(
        "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'sync.inbox_resolved'"
    )
    assert audit["n"] == 1


def test_resolve_without_selection_tells_the_clerk(page):
    page.resolve_button.click()
    assert "选中" in page.message.text()


def test_the_page_says_which_version_runs_and_what_became_of_its_update(page, qtbot, store):
    from desktop import __version__
    from desktop.services import updates

    assert page.version_label.text() == __version__
    for state, words in (
        ("downloading:0.2.0", "新版本 0.2.0 正在后台下载"),
        ("staged:0.2.0", "新版本 0.2.0 已下载并通过校验，下次启动软件时安装"),
        ("refused:0.2.0", "校验不通过，已拒绝并告知县里"),
        ("rolled_back:0.2.0", "启动自检未通过，已自动退回本版本"),
    ):
        store.set_setting(updates.K_STATE, state)
        page.refresh()
        qtbot.waitUntil(lambda w=words: w in page.version_label.text())
        assert page.version_label.text().startswith(__version__)
        assert "staged" not in page.version_label.text() and ":" not in page.version_label.text()


def test_a_supervisor_restarts_the_desk_to_install_a_staged_version(
    page, qtbot, store, monkeypatch, tmp_path
):
    from desktop.gui.pages import sync as sync_page
    from desktop.services import updates

    store.set_setting(updates.K_STATE, "staged:0.2.0")
    page.refresh()
    qtbot.waitUntil(lambda: "0.2.0" in page.version_label.text())
    assert not page.install_button.isVisible()  # a copy run from source cannot restart itself
    monkeypatch.setattr(sync_page, "restartable", lambda: True)
    page.refresh()
    qtbot.waitUntil(page.install_button.isVisible)  # the installed program, a supervisor
    started, quit_ = [], []

    class FakeProcess:
        @staticmethod
        def startDetached(program, args):  # noqa: N802 (Qt's name)
            started.append((program, list(args)))
            return True

    class FakeApp:
        @staticmethod
        def instance():
            return type("A", (), {"quit": lambda self: quit_.append(True)})()

    from desktop.gui import one_window
    from desktop.gui.one_window import OneWindow

    monkeypatch.setattr(one_window, "QProcess", FakeProcess)
    monkeypatch.setattr(sync_page, "QApplication", FakeApp)

    window_lock = OneWindow(tmp_path / "desk")
    assert window_lock.claim()
    page.install_button.click()
    import sys

    assert started == [(sys.executable, sys.argv[1:])] and quit_ == [True]
    # the program started again finds the folder free (it would wake this one and stop)
    after = OneWindow(tmp_path / "desk")
    assert window_lock.lock is None and after.claim()
    after.release()
    store.set_setting(updates.K_STATE, "installed:0.2.0")
    page.show()
    page.refresh()
    qtbot.waitUntil(lambda: "已于启动时升级到 0.2.0" in page.version_label.text())
    assert not page.install_button.isVisible()  # nothing staged: nothing to install
