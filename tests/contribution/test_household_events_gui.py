"""pytest-qt: 家庭变更 from the 参保登记 page as a clerk does it — Ctrl+E, choose the event,
预览 shows the effect, 确认办理 saves it; a field error stays beside the field and saves
nothing; the other pages see the change (缴费查询 refuses a payment after a death)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from core.errors import ValidationError
from desktop.services import contribution
from tests.contribution.conftest import TODAY

pytest.importorskip("pytestqt")
HEAD, SPOUSE, PARENT, SON = range(4)


@pytest.fixture
def ctx(qtbot, store, clerk, data_dir):
    from desktop.gui.app import create_qapplication, make_context

    create_qapplication()
    c = make_context(store, clerk, data_dir)
    yield c
    c.tasks.shutdown()


def settle(qtbot, ctx):
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)


@pytest.fixture
def page(qtbot, ctx, household):
    return page_on(qtbot, ctx, household["household_id"])


def page_on(qtbot, ctx, household_id):
    from desktop.gui.pages.registration import Page

    page = Page(ctx)
    qtbot.addWidget(page)
    page.resize(1300, 720)
    page.show()
    settle(qtbot, ctx)
    page.load_household(household_id)
    qtbot.waitUntil(lambda: page.household is not None, timeout=5000)
    return page


def open_dialog(qtbot, page, ctx):
    qtbot.keyClick(page, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "last_household_events" in ctx.extras, timeout=3000)
    dlg = ctx.extras["last_household_events"]
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    return dlg


def choose(box, data):
    box.setCurrentIndex(box.findData(data))


def test_a_death_recorded_from_the_page(qtbot, page, ctx, store, household):
    ids = household["ids"]
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "terminate")
    assert dlg.exit_reason.isVisible() and not dlg.target.isVisible()
    choose(dlg.person, ids[PARENT])
    choose(dlg.exit_reason, "death")
    dlg.exit_date.setText("2025-03-01")
    assert not dlg.apply_button.isEnabled()  # nothing saved before a preview
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    assert "孙五" in dlg.effect.text() and "死亡" in dlg.effect.text()
    dlg.exit_date.setText("2025-03-02")  # a change after the preview asks for a new one
    assert not dlg.apply_button.isEnabled()
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.keyClick(dlg.apply_button, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)
    row = store.query_one("SELECT status, exit_date FROM person WHERE id = ?", (ids[PARENT],))
    assert row == {"status": 3, "exit_date": "2025-03-02"}
    assert "已办理家庭变更" in page.message.text()
    with pytest.raises(ValidationError) as e:
        contribution.check_payment(
            store,
            ctx.actor,
            {
                "person_id": ids[PARENT],
                "year": 2025,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2025-03-10",
            },
            today=TODAY,
        )
    assert "2025-03-02" in e.value.errors.get("person_id", ""), e.value.errors


def test_a_refused_event_shows_beside_the_field_and_saves_nothing(
    qtbot, page, ctx, store, household
):
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "change_head")
    choose(dlg.new_head, household["ids"][SPOUSE])  # no relation chosen for the old head
    before = store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: bool(dlg.form.error_text("old_head_relation")), timeout=3000)
    assert "关系" in dlg.form.error_text("old_head_relation")
    assert not dlg.apply_button.isEnabled()
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == before
    choose(dlg.old_head_relation, "spouse")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.mouseClick(dlg.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)
    qtbot.waitUntil(lambda: "户主 李四" in page.mode_label.text(), timeout=3000)


def test_ctrl_e_without_a_household_says_what_to_do(qtbot, ctx):
    from desktop.gui.pages.registration import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.show()
    settle(qtbot, ctx)
    qtbot.keyClick(p, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    assert "请先查找并打开一个家庭户" in p.message.text()
    assert "last_household_events" not in ctx.extras


def second_household(store, actor):
    from desktop.services import registration
    from desktop.services.demo import make_id

    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    return registration.create_household(
        store,
        actor,
        {"village_id": village, "address": "东村二组8号"},
        [
            {
                "name": "王芳",
                "sex": "female",
                "birth_date": "1975-05-05",
                "cert_no": make_id("140121", "1975-05-05", 11, "female"),
            }
        ],
        today=TODAY,
    )


def preview_and_apply(qtbot, ctx, dlg):
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.mouseClick(dlg.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)


def pick_target(qtbot, ctx, dlg, name):
    dlg.target_search.setText(name)
    qtbot.keyClick(dlg.target_search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dlg.target.count() > 0, timeout=3000)


def reopen(qtbot, page, ctx):
    """The 家庭变更 button (Ctrl+E is pressed in the first tests)."""
    ctx.extras.pop("last_household_events", None)
    qtbot.mouseClick(page.events_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "last_household_events" in ctx.extras, timeout=3000)
    dlg = ctx.extras["last_household_events"]
    qtbot.waitUntil(dlg.isVisible, timeout=3000)
    return dlg


def test_every_other_event_from_the_dialog(qtbot, page, ctx, store, household, admin):
    from desktop.services import household_events as ev
    from desktop.services.demo import make_id
    from desktop.store import journal

    ids, hid = household["ids"], household["household_id"]
    other = second_household(store, ctx.actor)
    person = lambda pid: store.query_one("SELECT * FROM person WHERE id = ?", (pid,))  # noqa: E731

    # 迁入其他家庭户: 张小低 → 王芳's household as 其他
    dlg = reopen(qtbot, page, ctx)
    choose(dlg.kind, "move")
    choose(dlg.person, ids[SON])
    pick_target(qtbot, ctx, dlg, "王芳")
    choose(dlg.relation, "other")
    preview_and_apply(qtbot, ctx, dlg)
    assert person(ids[SON])["household_id"] == other.household_id

    # 分户: 李四 splits off with her own 户口簿
    page.load_household(hid)
    qtbot.waitUntil(lambda: len(page.members) == 3, timeout=3000)
    dlg = reopen(qtbot, page, ctx)
    choose(dlg.kind, "split")
    dlg.movers.set_checked(ids[SPOUSE])
    choose(dlg.head, ids[SPOUSE])
    assert not dlg.movers.relations[ids[SPOUSE]].isEnabled()  # the new head needs none
    dlg.address.setText("东村四组1号")
    preview_and_apply(qtbot, ctx, dlg)
    new_hh = person(ids[SPOUSE])["household_id"]
    assert new_hh not in (hid, other.household_id)

    # 合户: 张三's household (张三, 孙五) joins 王芳's
    page.load_household(hid)
    qtbot.waitUntil(lambda: len(page.members) == 2, timeout=3000)
    dlg = reopen(qtbot, page, ctx)
    choose(dlg.kind, "merge")
    pick_target(qtbot, ctx, dlg, "王芳")
    assert dlg.movers.checked_ids() == [ids[HEAD], ids[PARENT]]  # the whole household goes
    dlg.movers.set_relation(ids[HEAD], "sibling")  # each their own relation to 王芳
    dlg.movers.set_relation(ids[PARENT], "parent")
    preview_and_apply(qtbot, ctx, dlg)
    assert person(ids[HEAD])["household_id"] == other.household_id
    assert (person(ids[HEAD])["relation"], person(ids[PARENT])["relation"]) == (
        "sibling",
        "parent",
    )
    assert (
        store.query_one("SELECT merged_into FROM household WHERE id = ?", (hid,))["merged_into"]
        == other.household_id
    )

    # 终止 then 恢复参保 for 张小低 (now in 王芳's household, which the page shows)
    ev.apply(
        store,
        ctx.actor,
        {
            "kind": "terminate",
            "person_id": ids[SON],
            "exit_reason": "military",
            "exit_date": "2025-01-02",
        },
        today=TODAY,
    )
    page.load_household(other.household_id)
    qtbot.waitUntil(lambda: page.household["id"] == other.household_id, timeout=3000)
    dlg = reopen(qtbot, page, ctx)
    choose(dlg.kind, "restore")
    choose(dlg.person, ids[SON])
    dlg.exit_date.setText("2025-03-01")
    preview_and_apply(qtbot, ctx, dlg)
    assert person(ids[SON])["status"] == 1

    # 更正身份证号 needs a supervisor: the clerk sees why, nothing is saved
    dlg = reopen(qtbot, page, ctx)
    choose(dlg.kind, "correct_id")
    choose(dlg.person, ids[HEAD])
    dlg.cert_no.setText(make_id("140121", "1970-01-01", 31, "male"))
    dlg.reason.setText("顺序码录错")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "主管" in dlg.effect.text(), timeout=3000)
    assert not dlg.apply_button.isEnabled()
    dlg.reject()
    assert journal.verify_audit(store.db) == []
    kinds = [r["kind"] for r in store.query("SELECT kind FROM person_event ORDER BY created_at")]
    assert kinds == ["move", "split", "merge", "terminate", "restore"]


def test_a_head_change_starts_with_no_one_chosen(qtbot, page, ctx, store, household):
    """户主变更 offers 请选择, not the present head (who cannot be the new one); a preview
    with no one chosen says 请选择新户主 beside the field, and nothing is saved."""
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "change_head")
    assert dlg.new_head.currentText() == "请选择" and dlg.head.currentText() == "请选择"
    assert dlg.exit_date.placeholderText() == "年-月-日"
    before = store.query_one("SELECT head_person_id FROM household WHERE id = ?",
                             (household["household_id"],))  # fmt: skip
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dlg.form.error_text("new_head_id")), timeout=3000)
    assert "请选择新户主" in dlg.form.error_text("new_head_id")
    assert not dlg.apply_button.isEnabled()
    after = store.query_one("SELECT head_person_id FROM household WHERE id = ?",
                            (household["household_id"],))  # fmt: skip
    assert after == before
    dlg.reject()


def test_a_head_change_sets_everyone_in_their_place(qtbot, page, ctx, store, household):
    """户主变更 to the son: the others' relations to him are filled in as they were to his
    father, to change where they changed — his mother 配偶 → 父母, his grandmother 父母 →
    祖父母 — in the same step (before, only the old head's could be set); the son's row
    needs none and the old head has his own row."""
    ids = household["ids"]
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "change_head")
    choose(dlg.new_head, ids[SON])
    choose(dlg.old_head_relation, "parent")
    rows = dlg.movers
    assert not rows.names[ids[HEAD]].isVisible()  # 原户主改为 is his row
    assert rows.names[ids[SPOUSE]].isVisible() and not rows.boxes[ids[SPOUSE]].isVisible()
    assert not rows.relations[ids[SON]].isEnabled()
    assert rows.relations[ids[SON]].currentText() == "新户主"
    assert [rows.relations[ids[i]].currentData() for i in (SPOUSE, PARENT)] == [
        "spouse",
        "parent",
    ]
    assert rows.chosen_relations() == {ids[SPOUSE]: "spouse", ids[PARENT]: "parent"}
    rows.set_relation(ids[SPOUSE], "parent")
    rows.set_relation(ids[PARENT], "grandparent")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    assert "李四与新户主的关系：配偶 → 父母" in dlg.effect.text()
    qtbot.mouseClick(dlg.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)
    rel = {r["id"]: r["relation"] for r in store.query("SELECT id, relation FROM person")}
    assert [rel[ids[i]] for i in (HEAD, SPOUSE, PARENT, SON)] == [
        "parent",
        "parent",
        "grandparent",
        "head",
    ]


def test_the_dialog_fits_the_rows_of_the_event_chosen(qtbot, page, ctx, household):
    """From 分户's many rows back to 迁入其他家庭户's four, the dialog shrinks to them:
    it kept the tallest height it had been, with a gap above its buttons."""
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "split")
    qtbot.waitUntil(dlg.movers.isVisible, timeout=3000)
    tall = dlg.height()
    choose(dlg.kind, "move")
    qtbot.waitUntil(lambda: dlg.height() < tall - 100, timeout=3000)
    assert dlg.height() <= dlg.minimumSizeHint().height() + 2
    dlg.reject()


def test_every_member_to_split_off_is_in_sight(qtbot, page, ctx, household):
    """分户: the members to tick are all in sight, no scrolling (the list was 90 px high
    and hid the fourth), each with their present relation beside their name."""
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "split")
    qtbot.waitUntil(dlg.movers.isVisible, timeout=3000)
    assert len(dlg.movers.boxes) == 4
    assert dlg.movers.scroll.verticalScrollBar().maximum() == 0
    assert dlg.movers.boxes[household["ids"][SPOUSE]].text() == "李四（原为配偶）"
    dlg.reject()


def test_a_son_splits_off_with_his_wife_and_child_each_in_their_place(qtbot, ctx, store, clerk):
    """分户 with three: the son heads the new household, his wife is 配偶 and his child 女
    there — each their own relation, in one step. A relation left out is named beside the
    members, and nothing is saved until it is chosen."""
    made = big_household(store, clerk, 5)  # 张甲 head, 张乙 spouse, 张丙/张丁 parents, 张戊 son
    ids = made.person_ids
    page = page_on(qtbot, ctx, made.household_id)
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "split")
    for pid in (ids[4], ids[2], ids[3]):
        dlg.movers.set_checked(pid)
    choose(dlg.head, ids[4])
    dlg.movers.set_relation(ids[2], "spouse")
    dlg.address.setText("东村五组2号")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(dlg.form.error_text("person_ids")), timeout=3000)
    assert dlg.form.error_text("person_ids").startswith("✗ 张丁：请选择")
    qtbot.waitUntil(lambda: dlg.movers.relations[ids[3]].hasFocus(), timeout=3000)
    assert not dlg.apply_button.isEnabled()
    dlg.movers.set_relation(ids[3], "daughter")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    assert "张丙（1401**********" in dlg.effect.text() and "新户的配偶" in dlg.effect.text()
    qtbot.mouseClick(dlg.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    settle(qtbot, ctx)
    rel = {
        r["id"]: (r["household_id"], r["relation"])
        for r in store.query("SELECT id, household_id, relation FROM person")
    }
    new_hh = rel[ids[4]][0]
    assert new_hh != made.household_id
    assert [rel[ids[i]] for i in (4, 2, 3)] == [
        (new_hh, "head"),
        (new_hh, "spouse"),
        (new_hh, "daughter"),
    ]
    assert rel[ids[0]] == (made.household_id, "head")


def test_a_merge_asks_for_the_household_first_then_each_relation(qtbot, page, ctx, household):
    """合户: Alt+T puts the cursor in the search for the other household (the label's
    buddy was the row's box, which took no cursor); the household comes before the
    members, and everyone goes (the ticks are fixed), each with a relation to choose."""
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "merge")
    qtbot.waitUntil(dlg.movers.isVisible, timeout=3000)
    dlg.activateWindow()
    qtbot.waitUntil(dlg.isActiveWindow, timeout=3000)
    qtbot.keyClick(dlg, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dlg.target_search.hasFocus, timeout=3000)
    assert dlg._row_of("to_household_id") < dlg._row_of("person_ids")
    assert dlg.movers.checked_ids() == household["ids"]
    rows = dlg.movers  # no ticks to make: the names, each with a relation
    assert not any(box.isVisible() for box in rows.boxes.values())
    assert all(rows.names[pid].isVisible() for pid in household["ids"])
    assert all(c.isEnabled() for c in dlg.movers.relations.values())
    assert set(dlg.event_fields()["relations"]) == set(household["ids"])
    # Enter in the search finds the household and does nothing else (it also pressed 预览,
    # whose "no household" message then stood beside the household just found)
    second_household(ctx.store, ctx.actor)
    pick_target(qtbot, ctx, dlg, "王芳")
    qtbot.waitUntil(dlg.target.hasFocus, timeout=3000)
    assert dlg.target.currentText().startswith("王芳所在户")
    assert dlg.form.error_text("to_household_id") == "" and dlg.effect.text() == ""
    qtbot.keyClick(dlg.target, Qt.Key.Key_Tab)  # on to the first member's relation
    first = dlg.movers.relations[household["ids"][HEAD]]
    qtbot.waitUntil(first.hasFocus, timeout=3000)
    dlg.reject()


def big_household(store, clerk, n: int):
    from desktop.services import registration
    from desktop.services.demo import make_id

    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    rel = ["head", "spouse", "parent", "parent", "son", "daughter", "son", "grandchild"]
    rel += ["grandchild"]
    names = ["张甲", "张乙", "张丙", "张丁", "张戊", "张己", "张庚", "张辛", "张壬"]
    members = [
        {
            "name": names[i],
            "relation": rel[i],
            "sex": ("male", "female")[i % 2],
            "birth_date": f"19{50 + i}-01-01",
            "cert_no": make_id("140121", f"19{50 + i}-01-01", 20 + i, ("male", "female")[i % 2]),
        }
        for i in range(n)
    ]
    return registration.create_household(
        store, clerk, {"village_id": village, "address": "东村一组9号"}, members, today=TODAY
    )


def test_a_large_household_split_keeps_the_dialog_on_the_screen(qtbot, ctx, store, clerk):
    """Nine in a household: the list shows eight and scrolls for the ninth; the dialog,
    opened low on the screen, grows with the list and the preview and moves up so that
    确认办理 stays in sight."""
    made = big_household(store, clerk, 9)
    page = page_on(qtbot, ctx, made.household_id)
    dlg = open_dialog(qtbot, page, ctx)
    avail = dlg.screen().availableGeometry()
    dlg.move(avail.left() + 20, avail.top() + avail.height() // 2)
    choose(dlg.kind, "split")
    qtbot.waitUntil(dlg.movers.isVisible, timeout=3000)
    bar = dlg.movers.scroll.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.maximum() > 0, timeout=3000)  # eight in sight, one below
    for pid in made.person_ids[1:]:
        dlg.movers.set_checked(pid)
        dlg.movers.set_relation(pid, "other")
    choose(dlg.head, made.person_ids[1])
    dlg.address.setText("东村新址")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.waitUntil(lambda: dlg.frameGeometry().bottom() <= avail.bottom(), timeout=3000)
    assert dlg.height() > avail.height() // 2  # it did grow past where it was opened
    assert dlg.frameGeometry().top() >= avail.top()
    dlg.reject()


def test_the_found_list_reads_as_the_store_after_an_event(qtbot, page, ctx, store, household):
    """The list a clerk searched follows a 家庭变更: the resident just terminated reads
    终止参保 there, not the 正常参保 of before (the list searched again, the form kept)."""
    ids = household["ids"]
    page.search_box.setText("孙五")
    page.search()
    settle(qtbot, ctx)
    row = [r["id"] for r in page.last_results].index(ids[PARENT])
    assert page.results.item(row, 6).text() == "正常参保"
    page.load_household(household["household_id"], ids[PARENT])
    settle(qtbot, ctx)
    dlg = open_dialog(qtbot, page, ctx)
    choose(dlg.kind, "terminate")
    choose(dlg.person, ids[PARENT])
    choose(dlg.exit_reason, "death")
    qtbot.mouseClick(dlg.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(dlg.apply_button.isEnabled, timeout=3000)
    qtbot.mouseClick(dlg.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dlg.isVisible(), timeout=3000)
    qtbot.waitUntil(lambda: page.results.item(row, 6).text() == "终止参保", timeout=3000)
    assert page.results.selectionModel().selectedRows()[0].row() == row
    assert page.inputs["name"].text() == "孙五"  # the form is the person's, not the list's
