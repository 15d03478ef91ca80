"""Operators after set-up (issue 11 item 11): a supervisor adds a clerk, resets a password and
disables an operator in the app; a technician does the same with ``township-desk operators``;
every change is audited and a disabled operator cannot log in."""

from __future__ import annotations

import io

import pytest

from core.errors import ValidationError
from desktop.cli import main
from desktop.services import auth
from desktop.services.context import PermissionDenied


def _actions(store) -> list[str]:
    return [r["action"] for r in store.query("SELECT action FROM audit_log ORDER BY seq")]


def test_supervisor_adds_resets_and_disables(store, admin):
    clerk = auth.add_operator(
        store, username="clerk2", display_name="赵新", password="secret1", role="clerk", by=admin
    )
    assert auth.login(store, "clerk2", "secret1").operator_id == clerk.operator_id
    auth.reset_password(store, operator_id=clerk.operator_id, new_password="secret2", by=admin)
    with pytest.raises(auth.LoginFailed):
        auth.login(store, "clerk2", "secret1")
    assert auth.login(store, "clerk2", "secret2").operator_id == clerk.operator_id
    auth.set_operator_active(store, operator_id=clerk.operator_id, active=False, by=admin)
    with pytest.raises(auth.LoginFailed):
        auth.login(store, "clerk2", "secret2")
    auth.set_operator_active(store, operator_id=clerk.operator_id, active=True, by=admin)
    assert auth.login(store, "clerk2", "secret2")
    acts = _actions(store)
    for a in ("operator.create", "operator.reset_password", "operator.disable", "operator.enable"):
        assert a in acts
    # no password or hash in the audit log
    details = " ".join(r["detail"] for r in store.query("SELECT detail FROM audit_log"))
    assert "secret" not in details and "argon2" not in details


def test_a_clerk_cannot_manage_operators_and_bad_input_writes_nothing(store, admin, clerk):
    before = store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    with pytest.raises(PermissionDenied):
        auth.add_operator(
            store, username="x1", display_name="某人", password="secret1", role="clerk", by=clerk
        )
    with pytest.raises(PermissionDenied):
        auth.reset_password(store, operator_id=admin.operator_id, new_password="abcdef", by=clerk)
    with pytest.raises(ValidationError) as e:
        auth.reset_password(store, operator_id=clerk.operator_id, new_password="123", by=admin)
    assert "至少" in e.value.errors["password"]
    with pytest.raises(ValidationError) as e:
        auth.set_operator_active(store, operator_id=admin.operator_id, active=False, by=admin)
    assert "自己" in e.value.errors["operator"]
    with pytest.raises(ValidationError) as e:
        auth.set_operator_active(store, operator_id=admin.operator_id, active=False, by=None)
    assert "最后一个" in e.value.errors["operator"]
    with pytest.raises(ValidationError):
        auth.add_operator(
            store,
            username="clerk1",
            display_name="重名",
            password="secret1",
            role="clerk",
            by=admin,
        )
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == before


def test_the_technician_command(store, admin, data_dir, monkeypatch, capsys):
    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("newpass1\n"))
    assert (
        main(
            ["--data-dir", str(data_dir), "operators", "add", "clerk9", "孙九", "--password-stdin"]
        )
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("newpass2\n"))
    assert (
        main(
            [
                "--data-dir",
                str(data_dir),
                "operators",
                "reset-password",
                "clerk9",
                "--password-stdin",
            ]
        )
        == 0
    )
    assert main(["--data-dir", str(data_dir), "operators", "disable", "clerk9"]) == 0
    assert main(["--data-dir", str(data_dir), "operators", "disable", "nobody"]) == 2
    assert main(["--data-dir", str(data_dir), "operators", "list"]) == 0
    said = capsys.readouterr()
    assert "clerk9" in said.out and "已停用" in said.out
    assert "没有用户名为“nobody”的操作员" in said.err  # errors on standard error
    from desktop.store import open_store

    s = open_store(data_dir)
    try:
        rows = s.query(
            "SELECT action, operator_id, detail FROM audit_log WHERE action LIKE 'operator.%' "
            "AND detail LIKE '%clerk9%' ORDER BY seq"
        )
        assert [r["action"] for r in rows] == [
            "operator.create",
            "operator.reset_password",
            "operator.disable",
        ]
        assert all(r["operator_id"] is None for r in rows)  # made at the command line
        with pytest.raises(auth.LoginFailed):
            auth.login(s, "clerk9", "newpass2")
    finally:
        s.close()


def test_the_operators_dialog(qtbot, store, admin, data_dir, monkeypatch):
    from desktop.gui import operators_dialog as od
    from desktop.gui.app import make_context

    ctx = make_context(store, admin, data_dir)
    dialog = od.OperatorsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1)
    # nothing to say yet: the line takes no room (it left a gap under the buttons)
    assert not dialog.message.isVisible()

    # the real 添加操作员 form: what the clerk types, checked before anything is sent
    def exec_add(d):
        d.username.setText("clerk3")
        d.display_name.setText("周三")
        d.passwords.password.setText("pw12")
        d.passwords.again.setText("pw12")
        d.try_accept()
        assert "至少" in d.form.error_text("password") and d.result() != 1
        d.passwords.password.setText("pw1234")
        d.passwords.again.setText("pw1235")
        d.try_accept()
        assert "不一致" in d.form.error_text("again")
        d.passwords.again.setText("pw1234")
        d.try_accept()
        return d.result()

    monkeypatch.setattr(od.AddOperatorDialog, "exec", exec_add)
    dialog.add()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    assert "已添加经办员：周三" in dialog.message.text() and dialog.message.isVisible()
    row = next(i for i, r in enumerate(dialog.rows) if r["username"] == "clerk3")
    dialog.table.selectRow(row)
    assert dialog.toggle_btn.text() == "停用"
    dialog.toggle_active()
    qtbot.waitUntil(lambda: "已停用" in dialog.message.text())
    assert auth.find_operator(store, "clerk3")["active"] == 0
    ctx.tasks.shutdown()


def test_the_operators_dialog_opens_on_the_first_other_account(
    qtbot, store, admin, clerk, data_dir
):
    """With a line chosen from the start the buttons answer at once (they waited for an
    arrow key): the first account that is not the supervisor's own."""
    from desktop.gui import operators_dialog as od
    from desktop.gui.app import make_context

    ctx = make_context(store, admin, data_dir)
    dialog = od.OperatorsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    assert dialog.selected()["username"] == "clerk1"
    assert dialog.reset_btn.isEnabled() and dialog.toggle_btn.isEnabled()
    ctx.tasks.shutdown()


def test_login_offers_the_last_operator(qtbot, store, admin, clerk):
    from desktop.gui.login import LoginDialog

    assert auth.last_login_username(store) == ""
    auth.login(store, "clerk1", "clerk123")
    assert auth.last_login_username(store) == "clerk1"
    d = LoginDialog(store, username=auth.last_login_username(store))
    qtbot.addWidget(d)
    d.show()
    assert d.username.text() == "clerk1" and d.focusWidget() is d.password
    e = LoginDialog(store, username="")
    qtbot.addWidget(e)
    e.show()
    assert e.focusWidget() is e.username
