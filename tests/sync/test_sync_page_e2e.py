"""The 同步 page against the real county server: the 立即同步 button runs a sync on a
worker thread, the page and the status bar show the result, conflicts reach the inbox;
a cancelled sync keeps everything for next time."""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest

from desktop.services import contribution, registration
from desktop.services import sync as svc
from desktop.services.demo import make_id
from desktop.sync import errors

pytest.importorskip("pytestqt")
pytestmark = pytest.mark.postgres
ZHANG = make_id("140121", "1970-01-01", 1, "male")


def test_sync_button_status_and_inbox(qtbot, desks):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.sync import Page

    a = desks("SP01", "东乡卫生院")
    b = desks("SP02", "西乡卫生院")
    for d in (a, b):
        made = registration.create_household(
            d.store,
            d.actor,
            {"village_id": d.village()},
            [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}],
            allow_duplicate=True,
        )
        contribution.record_payment(
            d.store,
            d.actor,
            {
                "person_id": made.person_ids[0],
                "year": 2025,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2024-10-10",
            },
            today=dt.date(2025, 3, 20),
        )
    a.sync()
    create_qapplication()
    ctx = make_context(b.store, b.actor, b.data_dir)
    ctx.extras["sync_on_startup"] = False
    seen: list[dict] = []
    ctx.events.sync_status.connect(seen.append)
    page = Page(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: bool(page.status))
    assert page.state_label.text() == "尚未同步"
    assert page.pending_label.text().startswith("4 条")
    assert not page.reg_box.isVisible()
    assert page.sync_button.isEnabled()

    page.sync_button.click()
    assert page.job is not None and not page.sync_button.isEnabled()
    assert page.cancel_button.isEnabled()
    assert seen[-1]["state"] == "syncing"
    assert page.start_sync("manual") is False  # one at a time
    qtbot.waitUntil(lambda: page.job is None, timeout=30000)
    assert page.message.text().startswith("同步完成")
    qtbot.waitUntil(lambda: page.state_label.text() == "已是最新")
    assert page.pending_label.text() == "0 条"
    assert seen[-1]["state"] == "ok" and seen[-1]["pending"] == 0 and seen[-1]["last_sync_at"]
    # the merge of the same ID number is in B's inbox, saying what happened
    qtbot.waitUntil(lambda: page.table.rowCount() >= 1)
    titles = [page.table.item(r, 2).text() for r in range(page.table.rowCount())]
    assert any("张三" in t for t in titles)
    kinds = [page.table.item(r, 1).text() for r in range(page.table.rowCount())]
    assert "同一人合并" in kinds and "重复参保" in kinds and "退费/转移" in kinds
    shots = os.environ.get("SYNC_SCREENSHOT_DIR")  # README picture: SYNC_SCREENSHOT_DIR=docs/img
    if shots:
        page.resize(1200, 640)
        qtbot.wait(100)
        page.table.resizeRowsToContents()
        page.grab().save(os.path.join(shots, "sync-page.png"))
    page.timer.stop()
    ctx.tasks.shutdown()


def test_cancelled_sync_keeps_everything(desks):
    a = desks("SP01", "东乡卫生院")
    registration.create_household(
        a.store,
        a.actor,
        {"village_id": a.village()},
        [{"name": "张三", "sex": "male", "birth_date": "1970-01-01", "cert_no": ZHANG}],
    )
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(errors.SyncError) as exc:
        a.sync(cancel=cancel)
    assert exc.value.code == "E-SYNC-CANCEL" and "下次同步" in exc.value.message
    assert svc.status(a.store)["pending"] == 2
    run = a.store.query_one("SELECT outcome FROM sync_run ORDER BY id DESC LIMIT 1")
    assert run["outcome"] == "cancelled"
    assert a.sync().pending == 0


def test_one_sync_worker_at_a_time(desks):
    from desktop.sync.lock import SyncLock

    a = desks("SP01", "东乡卫生院")
    with SyncLock(a.data_dir):
        with pytest.raises(errors.Busy) as exc:
            a.sync()
    assert "另一个同步正在进行" in exc.value.message
    assert a.sync().pending == 0


def test_timer_sync_skips_quietly_when_another_sync_runs(qtbot, desks):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.sync import Page
    from desktop.sync.lock import SyncLock

    a = desks("SP01", "东乡卫生院")
    create_qapplication()
    ctx = make_context(a.store, a.actor, a.data_dir)
    ctx.extras["sync_on_startup"] = False
    page = Page(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: bool(page.status))
    with SyncLock(a.data_dir):  # e.g. `township-desk sync` from the task scheduler
        page.timer.timeout.emit()
        qtbot.waitUntil(lambda: page.job is None and "跳过" in page.message.text(), timeout=10000)
        page.sync_button.click()
        qtbot.waitUntil(
            lambda: page.job is None and "E-SYNC-BUSY" in page.message.text(), timeout=10000
        )
    page.timer.stop()
    ctx.tasks.shutdown()
