"""The window lock on a real screen (issue 14 item 2): a clerk who steps away presses
Ctrl+L (系统 → 锁定窗口) with the cursor in a field; the window asks for her password with
the pages hidden, and her password brings the same page back with what she had typed. The
idle time that locks the same way (lock(), the same dialog) is timed in
tests/gui/test_idle_lock.py. Screenshots are kept for a person to look at."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.display]


def test_ctrl_l_locks_the_window_and_the_password_opens_it(screen, tmp_path):
    screen.start_and_log_in(tmp_path / "data")
    screen.key("F2")
    screen.wait_title("参保登记")
    screen.type("zhang")  # the search box has the cursor: typed, not searched
    screen.key("ctrl+l")
    title = screen.wait_title("窗口已锁定", timeout=20)
    assert "请输入密码继续" in title
    shot = screen.shot("lock-01-locked")
    # nothing of the pages shows: the window's left part (navigation, search, results;
    # below the menu bar, left of the dialog) is one plain colour
    assert colours(shot, (0, 50, 370, 700)) == 1
    screen.type("wrong-pass")
    screen.key("Return")
    assert "窗口已锁定" in screen.wait_title("窗口已锁定")  # a wrong password keeps it locked
    screen.key("ctrl+a")
    screen.type("clerk123")
    screen.key("Return")
    screen.wait_title("参保登记", timeout=20)
    back = screen.shot("lock-02-back")
    assert colours(back, (0, 50, 370, 700)) > 100  # the page is there again


def colours(png, box) -> int:
    from PIL import Image  # deferred: only this test reads pixels

    with Image.open(png) as im:
        return len(im.convert("RGB").crop(box).getcolors(maxcolors=1 << 20) or ())
