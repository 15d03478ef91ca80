"""Wrong passwords (issue 14 item 2, begun): from the 3rd wrong password in a row the next
try waits 30 seconds — even with the right password; at the 5th the account locks until a
supervisor unlocks it (操作员管理 or ``township-desk operators unlock``). A right password
clears the count. Every step is audited."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.cli import main
from desktop.services import auth

T0 = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def wrong(store, when):
    with pytest.raises(auth.LoginFailed) as e:
        auth.login(store, "clerk1", "nope", now=when)
    return str(e.value)


def test_delay_then_lock_then_unlock(store, admin, clerk, data_dir, capsys):
    assert "用户名或密码不正确" in wrong(store, at(0))
    assert auth.login(store, "clerk1", "clerk123", now=at(1))  # a right one clears the count
    for s in (10, 11, 12):
        wrong(store, at(s))
    # the 4th try 5 s after the 3rd failure waits, right password or not
    with pytest.raises(auth.LoginFailed) as e:
        auth.login(store, "clerk1", "clerk123", now=at(17))
    assert "请26秒后再试" in str(e.value) and "连续输错3次" in str(e.value)
    wrong(store, at(45))
    assert "已锁定" in wrong(store, at(80))  # the 5th wrong password locks
    with pytest.raises(auth.LoginFailed) as e:
        auth.login(store, "clerk1", "clerk123", now=at(3600))
    assert "已锁定" in str(e.value) and "主管" in str(e.value)
    row = auth.find_operator(store, "clerk1")
    assert main(["--data-dir", str(data_dir), "operators", "list"]) == 0
    assert "已锁定" in capsys.readouterr().out
    with pytest.raises(PermissionError):
        auth.unlock_operator(store, operator_id=row["id"], by=clerk)
    assert main(["--data-dir", str(data_dir), "operators", "unlock", "clerk1"]) == 0
    assert auth.login(store, "clerk1", "clerk123", now=at(3601))
    acts = [r["action"] for r in store.query("SELECT action FROM audit_log ORDER BY seq")]
    assert acts.count("operator.login_failed") == 6 and "operator.unlock" in acts


def test_a_supervisor_unlocks_in_the_dialog(qtbot, store, admin, clerk, data_dir):
    from desktop.gui import operators_dialog as od
    from desktop.gui.app import make_context

    for s in range(0, 200, 40):
        wrong(store, at(s))
    ctx = make_context(store, admin, data_dir)
    dialog = od.OperatorsDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 2)
    row = next(i for i, r in enumerate(dialog.rows) if r["username"] == "clerk1")
    assert "已锁定" in dialog.table.item(row, 3).text()
    dialog.table.selectRow(row)
    assert dialog.unlock_btn.isEnabled()
    dialog.unlock()
    qtbot.waitUntil(lambda: "已解锁" in dialog.message.text())
    assert auth.login(store, "clerk1", "clerk123", now=at(500))
    ctx.tasks.shutdown()
