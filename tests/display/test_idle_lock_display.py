"""The idle lock on a real screen (issue 14 item 2): with 空闲锁屏 set to 1 minute, a clerk
who walks away finds the window asking for her password, the pages hidden; her password
brings the same page back. Screenshots are kept for a person to look at."""

from __future__ import annotations

import time

import pytest

from desktop.services.demo import seed_demo
from desktop.store import open_store
from desktop.store import settings as settings_table

pytestmark = [pytest.mark.display, pytest.mark.slow]


def test_the_window_locks_after_a_minute_idle(screen, tmp_path):
    data = tmp_path / "data"
    store = open_store(data)
    seed_demo(store)
    with store.write() as db:
        settings_table.put(db.conn, "lock.idle_minutes", "1")
    store.close()
    screen.start_and_log_in(data)
    screen.key("F2")
    screen.wait_title("参保登记")
    screen.type("zhang")  # the search box has the cursor: typed, not searched
    started = time.monotonic()
    title = screen.wait_title("窗口已锁定", timeout=120)
    assert time.monotonic() - started >= 50  # not before the minute is (nearly) up
    assert "请输入密码继续" in title
    screen.shot("lock-01-locked")
    screen.type("clerk123")
    screen.key("Return")
    screen.wait_title("参保登记", timeout=20)
    screen.shot("lock-02-back")
