"""pytest-qt: the registration page driven from the keyboard, as a clerk would."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from core.ids import mask_id
from desktop.services import registration as reg
from desktop.services.demo import numbered_name

pytest.importorskip("pytestqt")


@pytest.fixture
def ctx(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    c = make_context(store, clerk, data_dir)
    yield c
    c.tasks.shutdown()


@pytest.fixture
def page(qtbot, ctx):
    from desktop.gui.pages.registration import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1200, 700)
    p.show()
    qtbot.waitUntil(lambda: p.village.count() >= 3)
    return p


def settle(qtbot, ctx):
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)


def type_text(qtbot, widget, text):
    """Type like a clerk: ASCII as key clicks, Chinese through the input method (an IME
    commits the characters; QTest cannot click non-ASCII keys)."""
    widget.setFocus()
    for chunk in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]+", text):
        if chunk.isascii():
            qtbot.keyClicks(widget, chunk)
        else:
            ev = QInputMethodEvent("", [])
            ev.setCommitString(chunk)
            QApplication.sendEvent(widget, ev)


def type_into(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll()
    type_text(qtbot, widget, text)


def choose(qtbot, combo, label):
    """Pick a combo entry from the keyboard (arrow keys)."""
    combo.setFocus()
    idx = combo.findText(label)
    assert idx >= 0, label
    while combo.currentIndex() != idx:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < idx else Qt.Key.Key_Up)


def fill_member(qtbot, page, name, cert_no):
    type_into(qtbot, page.inputs["name"], name)
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Tab)  # → 证件类型
    qtbot.keyClick(page.focusWidget(), Qt.Key.Key_Tab)  # → 证件号码
    assert page.focusWidget() is page.inputs["cert_no"]
    qtbot.keyClicks(page.inputs["cert_no"], cert_no)
    qtbot.keyClick(page.inputs["cert_no"], Qt.Key.Key_Tab)  # editingFinished: derive sex/birth


def answer_modal(qtbot, button_text):
    """Click ``button_text`` in the next modal dialog (runs while the dialog is open)."""
    seen = {}

    def click():
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox):
            seen["text"] = w.text()
            for b in w.buttons():
                if b.text() == button_text:
                    b.click()
                    return
        QTimer.singleShot(20, click)

    QTimer.singleShot(20, click)
    return seen


def test_clerk_registers_a_household_and_finds_it_again(qtbot, page, ctx, store, idno):
    head_id, wife_id = idno("1962-05-04", 11, "male"), idno("1964-08-09", 12, "female")
    choose(qtbot, page.village, "西村")
    qtbot.keyClick(page.village, Qt.Key.Key_Tab)
    assert page.focusWidget() is page.hh_address
    type_text(qtbot, page.hh_address, "西村西巷7号")
    assert page.member_box.title() == "成员 1（户主）"
    fill_member(qtbot, page, "张三丰", head_id)
    assert page.inputs["sex"].currentData() == "male"
    assert page.inputs["birth_date"].text() == "1962-05-04"
    qtbot.keyClick(page.focusWidget(), Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert page.current == 1 and page.focusWidget() is page.inputs["name"]
    assert page.member_box.title() == "成员 2（配偶）"
    fill_member(qtbot, page, "李梅", wife_id)
    assert page.inputs["relation"].currentData() == "spouse"
    choose(qtbot, page.inputs["relation"], "女")  # the title follows the clerk's choice
    assert page.member_box.title() == "成员 2（女）"
    choose(qtbot, page.inputs["relation"], "配偶")
    qtbot.keyClick(page.inputs["phone"], Qt.Key.Key_Return)  # Enter saves
    settle(qtbot, ctx)
    settle(qtbot, ctx)

    rows = store.query("SELECT name, relation, cert_no, household_id FROM person ORDER BY name")
    assert {(r["name"], r["relation"]) for r in rows} == {("张三丰", "head"), ("李梅", "spouse")}
    hh = store.query_one("SELECT * FROM household")
    assert hh["address"] == "西村西巷7号"
    assert (
        store.query_one("SELECT name FROM village WHERE id = ?", (hh["village_id"],))["name"]
        == "西村"
    )
    assert "已保存" in page.message.text() and "编辑家庭户" in page.mode_label.text()

    # Esc gives a blank form for the next household, in the same village
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Escape)
    assert page.household is None and page.inputs["name"].text() == ""
    assert page.village.currentText() == "西村"

    # find by ID number typed/scanned into the search box, ending with Enter: jumps to the person
    page.focus_search()
    qtbot.keyClicks(page.search_box, head_id)
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    assert page.inputs["name"].text() == "张三丰"
    assert page.household["id"] == hh["id"]
    assert page.member_box.title() == "成员 1（户主）"  # the saved head reads as the head

    # by a 2-character name
    page.focus_search()
    type_text(qtbot, page.search_box, "李梅")
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert page.results.rowCount() == 1 and page.results.item(0, 0).text() == "李梅"
    qtbot.keyClick(page.results, Qt.Key.Key_Return)  # open from the results
    settle(qtbot, ctx)
    assert page.inputs["name"].text() == "李梅"
    assert page.member_box.title() == "成员 2（配偶）"

    # by pinyin initials
    page.focus_search()
    qtbot.keyClicks(page.search_box, "zsf")
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert page.results.item(0, 0).text() == "张三丰"
    # lists show the ID number masked (issue 14); the opened record shows it in full
    assert page.results.item(0, 2).text() == head_id[:4] + "*" * 10 + head_id[-4:]


def test_wrong_id_number_gets_a_message_at_the_field_and_nothing_is_saved(qtbot, page, ctx, store):
    before = store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    choose(qtbot, page.village, "东村")
    fill_member(qtbot, page, "王五", "110105194912310021")
    assert "校验码" in page.m_form.error_text("cert_no")  # shown as soon as it is typed
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert "第18位校验码不正确" in page.m_form.error_text("cert_no")
    assert "未保存" in page.message.text()
    assert page.focusWidget() is page.inputs["cert_no"]
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 0
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == before


def test_missing_village_and_sex_mismatch_are_shown_beside_their_fields(
    qtbot, page, ctx, store, idno
):
    fill_member(qtbot, page, "赵六", idno("1990-01-01", 3, "male"))
    choose(qtbot, page.inputs["sex"], "女")
    qtbot.keyClick(page.inputs["sex"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert "请选择村" in page.hh_form.error_text("village_id")
    assert "身份证号第17位表示男" in page.m_form.error_text("sex")
    assert page.focusWidget() is page.village
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 0


def test_warning_before_a_second_record_with_the_same_id_number(
    qtbot, page, ctx, store, clerk, idno
):
    number = idno("1970-03-03", 21, "male")
    east = store.query_one("SELECT id FROM village WHERE name='东村'")["id"]
    reg.create_household(store, clerk, {"village_id": east}, [{"name": "孙七", "cert_no": number}])
    choose(qtbot, page.village, "西村")
    fill_member(qtbot, page, "孙七", number)
    seen = answer_modal(qtbot, "不保存")
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: "已登记" in page.message.text())
    assert "孙七" in seen["text"] and "东村" in seen["text"]
    assert "相同" in page.m_form.error_text("cert_no")
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 1

    answer_modal(qtbot, "仍然保存")
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 2)
    settle(qtbot, ctx)


def test_edit_a_member_and_see_the_history(qtbot, page, ctx, store, clerk, idno):
    east = store.query_one("SELECT id FROM village WHERE name='东村'")["id"]
    done = reg.create_household(
        store, clerk, {"village_id": east}, [{"name": "周八", "cert_no": idno("1980-02-02", 4)}]
    )
    page.open_item(done.person_ids[0])
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    assert page.inputs["name"].text() == "周八"
    type_into(qtbot, page.inputs["phone"], "13512345678")
    qtbot.keyClick(page.inputs["phone"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    row = store.query_one("SELECT phone, version FROM person WHERE id = ?", (done.person_ids[0],))
    assert row == {"phone": "13512345678", "version": 2}
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: getattr(page, "history_dialog", None) is not None)
    table = page.history_dialog.table
    assert table.rowCount() == 2
    assert table.item(0, 2).text() == "登记" and table.item(1, 2).text() == "修改"
    assert "联系电话：（空） → 13512345678" in table.item(1, 3).text()
    assert table.item(1, 1).text() == "李经办"
    page.history_dialog.close()


def test_search_and_save_run_off_the_gui_thread(qtbot, page, ctx, monkeypatch, idno):
    import threading

    threads = []
    real_search, real_create = reg.search_persons, reg.create_household

    def spy_search(*a, **kw):
        threads.append(("search", threading.current_thread()))
        return real_search(*a, **kw)

    def spy_create(*a, **kw):
        threads.append(("create", threading.current_thread()))
        return real_create(*a, **kw)

    monkeypatch.setattr(reg, "search_persons", spy_search)
    monkeypatch.setattr(reg, "create_household", spy_create)
    choose(qtbot, page.village, "东村")
    fill_member(qtbot, page, "吴九", idno("1991-09-09", 7, "male"))
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    page.focus_search()
    qtbot.keyClicks(page.search_box, "wj")
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert page.results.item(0, 0).text() == "吴九"
    assert [k for k, _ in threads] == ["create", "search"]
    assert all(t is not threading.main_thread() for _, t in threads)


def test_scanning_an_unregistered_number_starts_a_new_household(qtbot, page, ctx, store, idno):
    number = idno("2001-10-10", 8, "female")
    page.focus_search()
    qtbot.keyClicks(page.search_box, number.lower())
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert "没有找到" in page.search_status.text()
    assert page.inputs["cert_no"].text() == number
    assert page.inputs["sex"].currentData() == "female"
    assert page.inputs["birth_date"].text() == "2001-10-10"
    assert page.focusWidget() is page.inputs["name"]
    type_text(qtbot, page.inputs["name"], "郑十")
    choose(qtbot, page.village, "东村")
    qtbot.keyClick(page.village, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    assert store.query_one("SELECT name, cert_no FROM person") == {
        "name": "郑十",
        "cert_no": number,
    }


def test_add_a_member_to_an_existing_household(qtbot, page, ctx, store, clerk, idno):
    east = store.query_one("SELECT id FROM village WHERE name='东村'")["id"]
    done = reg.create_household(
        store, clerk, {"village_id": east}, [{"name": "冯一", "cert_no": idno("1970-01-01", 5)}]
    )
    page.open_item(done.person_ids[0])
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    qtbot.keyClick(page.inputs["name"], Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    fill_member(qtbot, page, "冯二", idno("1972-02-02", 6, "female"))
    qtbot.keyClick(page.inputs["phone"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    rows = store.query(
        "SELECT name, relation FROM person WHERE household_id = ? ORDER BY name",
        (done.household_id,),
    )
    assert rows == [{"name": "冯一", "relation": "head"}, {"name": "冯二", "relation": "spouse"}]
    assert page.member_table.rowCount() == 2 and page.inputs["name"].text() == "冯二"
    # the member list masks ID numbers (the queue sees the screen); the form shows the
    # chosen member's in full
    second = idno("1972-02-02", 6, "female")
    shown = [page.member_table.item(r, 2).text() for r in range(2)]
    assert shown == [mask_id(idno("1970-01-01", 5)), mask_id(second)]
    assert all("*" in s for s in shown)
    assert page.inputs["cert_no"].text() == second


def test_duplicates_list_and_clearing_one_from_the_keyboard(qtbot, page, ctx, store, clerk, idno):
    number = idno("1959-09-19", 41)
    east = store.query_one("SELECT id FROM village WHERE name='东村'")["id"]
    for _ in range(2):
        reg.create_household(
            store,
            clerk,
            {"village_id": east},
            [{"name": "褚一", "cert_no": number}],
            allow_duplicate=True,
        )
    qtbot.keyClick(page.search_box, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, ctx)
    assert page.results.rowCount() == 2 and "重复" in page.search_status.text()
    assert page.results.item(1, 6).text() == "正常参保"
    qtbot.keyClick(page.results, Qt.Key.Key_Down)
    qtbot.keyClick(page.results, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    choose(qtbot, page.inputs["status"], "终止参保")
    qtbot.keyClick(page.inputs["status"], Qt.Key.Key_Return)
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    assert sorted(r["status"] for r in store.query("SELECT status FROM person")) == [1, 3]
    # the 查重 list follows the save by itself: the pair just cleared leaves it, and the
    # cursor stays in the form
    qtbot.waitUntil(lambda: page.results.rowCount() == 0, timeout=3000)
    assert "没有重复" in page.search_status.text()
    assert not page.results.hasFocus()


def test_a_broad_search_says_only_the_first_50_are_shown(qtbot, page, ctx, store, clerk, idno):
    east = store.query_one("SELECT id FROM village WHERE name='东村'")["id"]
    for i in range(51):
        reg.create_household(
            store,
            clerk,
            {"village_id": east},
            [{"name": numbered_name("欧阳", i), "cert_no": idno(seq=i)}],
            allow_duplicate=True,
        )
    page.focus_search()
    type_text(qtbot, page.search_box, "欧")
    qtbot.keyClick(page.search_box, Qt.Key.Key_Return)
    settle(qtbot, ctx)
    assert page.results.rowCount() == 50
    assert "只显示前 50 人" in page.search_status.text()


def test_tab_leaves_the_result_and_member_tables(qtbot, page):
    """Tab moves on in reading order also from the tables at the end of the chain — it must
    not move from cell to cell and trap a keyboard-only clerk inside a table."""
    page.results.setFocus()
    qtbot.waitUntil(lambda: page.results.hasFocus())
    qtbot.keyClick(page.results, Qt.Key.Key_Tab)
    assert page.member_table.hasFocus()
    qtbot.keyClick(page.member_table, Qt.Key.Key_Tab)
    assert not page.member_table.hasFocus()


def test_at_1366x768_the_lists_show_every_column_whole(qtbot, ctx, store, clerk, idno):
    """In the main window at 1366×768, with a household of four open and search results
    listed, every shown column of both lists is as wide as its heading and its widest cell,
    and the last one reaches the list's right edge:
    the members' 状态 (未保存 / 待上传) and the results' 与户主关系 and 参保状态 used to be cut
    off, the form's row of buttons keeping the lists ~300 px wide."""
    from desktop.gui.main_window import MainWindow

    east = store.query_one("SELECT id FROM village WHERE name='东村'")["id"]
    done = reg.create_household(
        store,
        clerk,
        {"village_id": east},
        [
            {"name": "欧阳建国", "cert_no": idno("1960-02-02", 4)},
            {"name": "司马秀兰", "cert_no": idno("1962-03-03", 5, "female"), "relation": "spouse"},
            {"name": "欧阳晓", "cert_no": idno("1990-04-04", 6), "relation": "son"},
            {
                "name": "欧阳小雨",
                "cert_no": idno("2020-05-05", 8, "female"),
                "relation": "grandchild",
            },
        ],
    )
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    page = win.show_page("registration")
    page.search_box.setText("欧阳")
    page.search()
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.results.rowCount() == 3)
    page.open_item(done.person_ids[0])
    settle(qtbot, ctx)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: page.member_table.rowCount() == 4)
    assert win.height() == 768
    for table in (page.results, page.member_table):
        header = table.horizontalHeader()
        for col in range(table.columnCount()):
            if table.isColumnHidden(col):
                continue
            need = max(
                header.sectionSizeHint(col),
                *(table.sizeHintForIndex(table.model().index(r, col)).width()
                  for r in range(table.rowCount())),
            )  # fmt: skip
            heading = table.horizontalHeaderItem(col).text()
            assert header.sectionSize(col) >= need, (table.objectName(), heading)
            assert header.sectionViewportPosition(col) + need <= table.viewport().width()
        # the last column takes what is left, so the lines run to the list's edge (filling
        # the list used to shrink it back to its text: resizeColumnsToContents)
        assert header.length() == table.viewport().width(), table.objectName()
