"""First-run set-up wizard and operator log-in dialog."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog

from desktop.services import setup

pytest.importorskip("pytestqt")


@pytest.fixture(autouse=True)
def qapp_zh(qtbot):
    from desktop.gui.app import create_qapplication

    create_qapplication()


def ime(widget, text):
    widget.setFocus()
    ev = QInputMethodEvent("", [])
    ev.setCommitString(text)
    QApplication.sendEvent(widget, ev)


def test_setup_wizard_refuses_bad_input_beside_the_fields(qtbot, store):
    from desktop.gui.setup_wizard import SetupWizard

    w = SetupWizard(store)
    qtbot.addWidget(w)
    w.show()
    qtbot.keyClicks(w.region_code, "14012")
    qtbot.keyClicks(w.code, "SP 01")
    qtbot.keyClicks(w.password, "abc")
    qtbot.keyClicks(w.password2, "abd")
    w.username.clear()
    qtbot.keyClick(w.password2, Qt.Key.Key_Return)
    assert w.result() != QDialog.DialogCode.Accepted.value and w.actor is None
    assert "请输入服务点名称" in w.sp_form.error_text("sp_name")
    assert "6位数字" in w.sp_form.error_text("region_code")
    assert "字母或数字" in w.sp_form.error_text("code")
    assert "至少填写一个村" in w.sp_form.error_text("villages")
    assert "用户名" in w.admin_form.error_text("username")
    assert "不一致" in w.admin_form.error_text("password2")
    assert "至少6位" in w.admin_form.error_text("password")
    assert w.focusWidget() is w.sp_name
    assert setup.needs_setup(store)
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == 0


def test_setup_wizard_creates_service_point_and_administrator(qtbot, store):
    from desktop.gui.setup_wizard import SetupWizard

    w = SetupWizard(store)
    qtbot.addWidget(w)
    w.show()
    ime(w.sp_name, "示范乡卫生院")
    qtbot.keyClicks(w.region_code, "140121")
    qtbot.keyClicks(w.code, "sp01")
    ime(w.villages, "东村\n西村\n\n南村")
    ime(w.display_name, "王主管")
    qtbot.keyClicks(w.password, "admin123")
    qtbot.keyClicks(w.password2, "admin123")
    qtbot.keyClick(w.password2, Qt.Key.Key_Return)
    assert w.result() == QDialog.DialogCode.Accepted.value
    assert w.actor is not None and w.actor.is_supervisor and w.actor.username == "admin"
    sp = setup.service_point(store)
    assert (sp["name"], sp["region_code"], sp["code"]) == ("示范乡卫生院", "140121", "SP01")
    assert [v["name"] for v in setup.villages(store)] == sorted(["东村", "西村", "南村"])


def test_login_dialog(qtbot, store, admin):
    from desktop.gui.login import LoginDialog

    d = LoginDialog(store, username="admin")
    qtbot.addWidget(d)
    d.show()
    assert d.focusWidget() is d.password
    qtbot.keyClicks(d.password, "wrong-password")
    qtbot.keyClick(d.password, Qt.Key.Key_Return)
    assert d.actor is None and d.result() != QDialog.DialogCode.Accepted.value
    assert "用户名或密码不正确" in d.form.error_text("password")
    assert d.password.text() == ""
    qtbot.keyClick(d.password, Qt.Key.Key_Return)
    assert "请输入密码" in d.form.error_text("password")
    qtbot.keyClicks(d.password, "admin123")
    qtbot.keyClick(d.password, Qt.Key.Key_Return)
    assert d.result() == QDialog.DialogCode.Accepted.value
    assert d.actor is not None and d.actor.operator_id == admin.operator_id
    actions = [r["action"] for r in store.query("SELECT action FROM audit_log ORDER BY seq")]
    assert actions[-2:] == ["operator.login_failed", "operator.login"]


def test_a_wrapped_message_beside_a_field_is_shown_whole(qtbot, store, admin):
    """A message that wraps onto two lines gets the height it needs: the dialog grows
    instead of cutting the lines off at the top and bottom."""
    from desktop.gui.login import LoginDialog

    d = LoginDialog(store, username="admin")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    qtbot.keyClicks(d.password, "wrong-password")
    qtbot.keyClick(d.password, Qt.Key.Key_Return)
    qtbot.wait(20)
    err = d.form.errors["password"]
    assert err.text()
    assert err.height() >= err.heightForWidth(err.width())
    assert d.password.width() == 220  # the box keeps its width beside a message


def test_a_message_makes_the_log_in_box_as_tall_as_it_needs_and_no_taller(qtbot, store, admin):
    """The wrong-password message fits on the password's line: the box stays as it was. A
    locked account's longer message wraps and the box grows by that one line — not by the
    height the message would need in a column a few pixels wide (the box used to grow
    ~80 px with the gap spread between its lines)."""
    from desktop.gui.login import LoginDialog

    d = LoginDialog(store, username="admin")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    before = d.height()
    qtbot.keyClicks(d.password, "wrong-password")
    qtbot.keyClick(d.password, Qt.Key.Key_Return)
    qtbot.wait(20)
    err = d.form.errors["password"]
    line = err.fontMetrics().lineSpacing()
    assert "不正确" in err.text() and err.height() < 2 * line  # one line
    assert d.height() == before
    d.form.show_errors(
        {"password": "账号“admin”因连续10次密码错误已锁定，请主管在“操作员管理”中解锁"}
    )
    qtbot.wait(20)
    assert err.height() >= err.needed_height(err.width()) >= 2 * line  # wrapped, whole
    assert before < d.height() <= before + err.needed_height(err.width())


def test_a_dialog_grows_by_what_a_wrapped_message_needs_in_a_narrow_column(qtbot):
    """Any dialog built on FieldForm: a message in a narrow column wraps onto lines, and
    the dialog grows by their height once the columns have their widths, not by the height
    the message would take a few pixels wide."""
    from PySide6.QtWidgets import QLineEdit, QVBoxLayout

    from desktop.gui.widgets import FieldForm

    d = QDialog()
    qtbot.addWidget(d)
    d.setMinimumWidth(460)
    form = FieldForm()
    form.add("a", "名称", QLineEdit())
    box = form.add("b", "地址", QLineEdit())
    QVBoxLayout(d).addLayout(form.grid)
    d.show()
    qtbot.waitExposed(d)
    before, box_width = d.height(), box.width()
    form.show_errors({"b": "地址太长了，请写到村和门牌号就可以，不必写省市县乡"})
    qtbot.wait(20)
    err = form.errors["b"]
    line = err.fontMetrics().lineSpacing()
    assert err.height() >= err.needed_height(err.width()) > 2 * line
    assert d.height() <= before + err.needed_height(err.width())
    # the message column was kept free: the box does not jump narrower, and a 24-character
    # message takes two or three lines, not five in a sliver
    assert box.width() == box_width and err.needed_height(err.width()) <= 3 * line + 4
