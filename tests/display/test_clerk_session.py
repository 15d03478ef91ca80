"""A clerk's morning on a real screen (issue 11): log in, register a household, collect this
year's contribution on the demo's 演示 standard, print the receipt (saved as PDF: the test
machine has no printer), come back with F3 without touching the mouse, estimate — all with
the keyboard, on a 1366×768 screen whose bottom 40 px belong to the taskbar. Each step's
screenshot is kept (``TOWNSHIP_SCREENSHOTS=docs/images`` makes the README's pictures)."""

from __future__ import annotations

import datetime as dt
import time

from desktop.services.demo import make_id
from desktop.store import cipher
from desktop.store.db import DB_FILENAME

ID_NO = make_id("140121", "1952-05-01", 77, "male")


def fits(screen) -> None:
    x, y, w, h = screen.active_frame()
    assert x >= 0 and w <= screen.screen_size[0], (x, y, w, h)
    assert y >= 0 and y + h <= screen.usable_height, f"{w}×{h} at y={y} runs under the taskbar"


def rows(data_dir, sql, *args):
    con = cipher.open_file(data_dir / DB_FILENAME)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def test_a_clerk_session_with_the_keyboard(screen, tmp_path):
    data = tmp_path / "data"
    screen.start_desk(data)

    # log in: a new desk offers no name; the cursor is in the user name
    screen.wait_title("操作员登录", timeout=40)
    screen.shot("00-login")
    screen.type("clerk1")
    screen.key("Tab")
    screen.type("clerk123")
    screen.key("Return")
    # the desk opens on 首页 (issue 16); F2 goes to 参保登记 with the cursor in the form
    screen.wait_title("首页", timeout=30)
    time.sleep(2)
    fits(screen)
    screen.shot("01-home")
    screen.key("F2")
    screen.wait_title("参保登记")
    time.sleep(1)
    fits(screen)
    screen.shot("01-registration")

    # register a household: village, address, the head's name and ID number, Enter saves
    screen.key("Tab", "Down", "Tab")
    screen.type("东村五组8号")
    screen.key("Tab", "Tab", "Tab")
    screen.type("韩长根")
    screen.key("Tab", "Tab")
    screen.type(ID_NO)
    screen.key("Return")
    time.sleep(2)
    screen.shot("02-registered")
    assert rows(data, "SELECT name FROM person WHERE cert_no = ?", ID_NO) == [("韩长根",)]

    # 家庭变更 with the cursor still in a field: Ctrl+E opens it (under X11 a line edit
    # used to take Ctrl+E as "end of line" and nothing opened); Esc closes it
    screen.key("ctrl+e")
    screen.wait_title("家庭变更")
    screen.key("Escape")
    screen.wait_title("参保登记")

    # 缴费查询: find him by number, the amount box has the cursor, Enter, confirm
    screen.key("F3")
    screen.wait_title("缴费查询")
    screen.type(ID_NO)
    screen.key("Return")
    time.sleep(2)
    screen.type("400")
    screen.key("Return", pause=0)
    screen.key("Return", pause=0)  # a double Enter: the second one answers nothing …
    screen.wait_title("确认收费")
    time.sleep(0.9)
    assert "确认收费" in screen.active_title()
    screen.key("Return")  # … the deliberate one confirms
    screen.wait_title("缴费查询")
    time.sleep(1.5)
    fits(screen)
    screen.shot("03-collected")
    paid = rows(
        data,
        "SELECT p.amount, p.year, p.paid_on FROM payment p JOIN person x ON x.id = p.person_id"
        " WHERE x.cert_no = ?",
        ID_NO,
    )
    today = dt.date.today()
    assert len(paid) == 1 and paid[0][0] == "400.00" and paid[0][2] == today.isoformat()

    # the receipt: Ctrl+P opens the preview; saved as PDF with Alt+S
    screen.key("ctrl+p")
    screen.wait_title("打印预览")
    time.sleep(1.5)
    screen.shot("04-receipt-preview")
    out = tmp_path / "receipt.pdf"
    screen.key("alt+s")
    time.sleep(1.5)
    screen.key("ctrl+a")
    screen.type(str(out))
    screen.key("Return")
    deadline = time.monotonic() + 15
    while not out.exists() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert out.exists() and out.read_bytes()[:4] == b"%PDF"
    screen.key("Escape")
    time.sleep(1)
    # after a dialog closes the keyboard is back on the window: F3 works without a click
    screen.key("F3")
    screen.wait_title("缴费查询")

    # 报销测算: F4, the person by number, a 20,000 yuan admission, Enter computes; Ctrl+S saves
    screen.key("F4")
    screen.wait_title("报销测算")
    time.sleep(1)
    screen.type(ID_NO)
    screen.key("Return")
    time.sleep(2)
    screen.type("20000")
    screen.key("Return")
    time.sleep(2)
    screen.key("ctrl+s")
    time.sleep(2)
    fits(screen)
    screen.shot("05-estimate")
    saved = rows(
        data,
        "SELECT e.medfee_sumamt, e.fund_pay_sumamt FROM estimate e JOIN person x"
        " ON x.id = e.person_id WHERE x.cert_no = ?",
        ID_NO,
    )
    assert len(saved) == 1 and saved[0][0] == "20000.00" and saved[0][1] not in (None, "0.00")
    # the printed sheet: Alt+P on the page (not the 页面 menu), then save it as PDF
    screen.key("alt+p")
    screen.wait_title("打印预览")
    time.sleep(1.5)
    screen.shot("06-estimate-sheet")
    screen.key("Escape")
    time.sleep(0.5)
    screen.key("F2")
    screen.wait_title("参保登记")
