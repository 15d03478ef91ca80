"""pytest-qt: the 报销测算 page — enter an estimate, read the result table and the steps,
save it for a registered person and mark it settled."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

pytest.importorskip("pytestqt")


@pytest.fixture
def ctx(qtbot, store, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.services.demo import seed_demo

    create_qapplication()
    clerk = seed_demo(store)
    c = make_context(store, clerk, data_dir)
    yield c
    c.tasks.shutdown()


@pytest.fixture
def page(qtbot, ctx):
    from desktop.gui.pages.estimate import Page

    p = Page(ctx)
    qtbot.addWidget(p)
    p.resize(1366, 740)
    p.show()
    qtbot.waitUntil(lambda: p.policy.count() > 0, timeout=5000)
    return p


def idle(qtbot, ctx):
    qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)


def choose(combo, data):
    i = combo.findData(data)
    assert i >= 0, data
    combo.setCurrentIndex(i)


def table(t):
    """{settlement field: amount}; the field is kept behind the row (the clerk sees words)."""
    return {
        t.item(r, 0).data(Qt.ItemDataRole.UserRole): t.item(r, 1).text()
        for r in range(t.rowCount())
    }


def test_no_settlement_codes_or_policy_ids_on_screen(page):
    """Issue 11 item 10: no national field codes as a column, no policy ids in the list."""
    headers = [
        page.result_table.horizontalHeaderItem(c).text()
        for c in range(page.result_table.columnCount())
    ]
    assert headers == ["项目", "金额（元）"]
    texts = [page.policy.itemText(i) for i in range(page.policy.count())]
    assert texts and not any(re.search(r"[a-z]+-\d{4}|reprint|national", t) for t in texts)


def steps(page):
    s = page.steps_table
    return [[s.item(r, c).text() for c in range(4)] for r in range(s.rowCount())]


def type_amount(qtbot, page, field, text):
    w = page.amounts[field]
    w.setFocus()
    w.selectAll()
    qtbot.keyClicks(w, text)


def test_enter_an_inpatient_estimate_and_read_result_and_steps(qtbot, ctx, page, tmp_path):
    # the demo service point is in Shanxi (region 14xxxx): shanxi-2025 is chosen for 2025
    page.year.setValue(2025)
    choose(page.policy, "shanxi-2025")
    choose(page.setting, "inpatient")
    choose(page.level, "class2_county")
    type_amount(qtbot, page, "total", "3000")
    type_amount(qtbot, page, "in_policy", "3000")
    qtbot.keyClick(page.amounts["in_policy"], Qt.Key.Key_Return)
    idle(qtbot, ctx)
    got = table(page.result_table)
    # the names and order of the printed 测算单 (the bill first, then 政策范围内, 起付 …)
    labels = [page.result_table.item(r, 0).text() for r in range(page.result_table.rowCount())]
    assert labels[:3] == ["医疗费用总额", "政策范围内费用", "起付标准（本次实付）"]
    assert labels[-2:] == ["基金支付合计", "个人负担"]
    assert got["act_pay_dedc"] == "400.00"
    assert got["hifp_pay"] == "1,950.00"  # sx25-02
    assert got["psn_part_amt"] == "1,050.00"
    rows = steps(page)
    assert any(r[1] == "起付线" and "400.00" in r[2] for r in rows)
    # a step that is its own rule is named once (环节 政策范围内费用, 规则 left empty)
    assert rows[0][0] == "政策范围内费用" and rows[0][1] == ""
    assert not any(r[0] and r[0] == r[1] for r in rows)
    # the step cites the document a resident can look up, not an archive file name (issue 11)
    assert any(r[1] == "支付比例" and "75%" in r[2] and "太原日报" in r[3] for r in rows)
    assert not any(re.search(r"\d{3}_[0-9a-f]{16}\.txt", r[3]) for r in rows)
    assert page.save_button.isEnabled()
    page.grab().save(str(tmp_path / "estimate.png"))


def test_enter_in_a_number_box_or_a_list_computes_too(qtbot, ctx, page):
    """The clerk changes 本年第几次住院 (a number box) or 就医类别 (a list) and presses Enter,
    as in the amount boxes: the estimate is computed again. Enter on the list of people
    found computes nothing."""
    choose(page.policy, "shanxi-2025")
    choose(page.setting, "inpatient")
    page.year.setValue(2025)
    type_amount(qtbot, page, "total", "3000")
    type_amount(qtbot, page, "in_policy", "3000")
    page.admission_no.setFocus()
    page.admission_no.selectAll()
    qtbot.keyClicks(page.admission_no, "2")
    with qtbot.waitSignal(page.computed, timeout=5000) as sig:
        qtbot.keyClick(page.admission_no, Qt.Key.Key_Return)
    idle(qtbot, ctx)
    assert page.admission_no.value() == 2 and sig.args[0]
    assert any(r[1] == "多次住院起付线" for r in steps(page))
    page.level.setFocus()
    with qtbot.waitSignal(page.computed, timeout=5000):
        qtbot.keyClick(page.level, Qt.Key.Key_Return)
    idle(qtbot, ctx)
    page.result_table.setRowCount(0)
    page.found.setFocus()
    with qtbot.assertNotEmitted(page.computed, wait=300):
        qtbot.keyClick(page.found, Qt.Key.Key_Return)
    assert page.result_table.rowCount() == 0


def test_the_service_points_policy_is_chosen_first(page):
    # demo service point in Shanxi: the newest Shanxi policy not after the year shown
    assert page.policy.currentData() == "shanxi-2025"
    assert page.setting.currentData() == "inpatient"


def test_bad_amount_shows_message_beside_the_field(qtbot, ctx, page):
    choose(page.policy, "shanxi-2025")
    choose(page.setting, "inpatient")
    type_amount(qtbot, page, "total", "abc")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert "不是数字" in page._rows["total"][2].text()
    assert page.result_table.rowCount() == 0 and not page.save_button.isEnabled()


def test_registered_person_save_print_settle_and_ytd(qtbot, ctx, page, monkeypatch):
    store = ctx.store
    person = store.query_one("SELECT id, name FROM person ORDER BY name LIMIT 1")
    page.search.setText(person["name"])
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    idle(qtbot, ctx)
    assert person["name"] in page.person_label.text() and not page.anonymous.isChecked()
    page.year.setValue(2025)
    idle(qtbot, ctx)
    # the demo residents paid for 2025 (contribution records): shown in words
    assert "2025参保年度：已缴" in page.coverage_label.text()
    assert "待遇期 2025-01-01 至 2025-12-31" in page.coverage_label.text()
    choose(page.policy, "shanxi-2025")
    choose(page.setting, "inpatient")
    choose(page.level, "class1")
    type_amount(qtbot, page, "in_policy", "20000")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert table(page.result_table)["hifp_pay"] == "11,400.00"  # (20000 − 1000) × 60%
    page.activateWindow()
    page.amounts["in_policy"].setFocus()
    qtbot.waitUntil(lambda: page.amounts["in_policy"].hasFocus())
    qtbot.keyClick(page.amounts["in_policy"], Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    idle(qtbot, ctx)
    assert "已保存" in page.message.text() and "打印测算单" in page.message.text()
    # the time as the clerk reads it (like the year list), not an ISO stamp with its offset
    assert re.search(r"已保存测算（\d{4}-\d\d-\d\d \d\d:\d\d）", page.message.text())
    assert page.settle_button.isEnabled() and page.print_button.isEnabled()
    printed = []
    from desktop.gui import print_support

    monkeypatch.setattr(
        print_support,
        "print_document",
        lambda parent, c, kind, key, **kw: printed.append((kind, key)),
    )
    qtbot.mouseClick(page.print_button, Qt.MouseButton.LeftButton)
    saved_id = store.query_one("SELECT id FROM estimate")["id"]
    assert printed == [("estimate", saved_id)]
    qtbot.mouseClick(page.settle_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert page.ytd["basic_paid_ytd"].text() == "11400.00"
    assert page.admission_no.value() == 2
    # the next estimate of the year uses them: 2nd admission halves the deductible
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert table(page.result_table)["act_pay_dedc"] == "500.00"
    row = store.query_one("SELECT settled, person_id FROM estimate")
    assert row == {"settled": 1, "person_id": person["id"]}


def test_dabing_only_policy_and_broken_policy_warning(qtbot, ctx, page, caplog):
    d = ctx.data_dir / "policies"
    d.mkdir(exist_ok=True)
    (d / "broken-one.toml").write_text('[policy]\nid = "broken-one"\n', encoding="utf-8")
    page._policyset = None
    with caplog.at_level("WARNING", logger="desktop.services.policies"):
        page.reload_policies()
        idle(qtbot, ctx)
    warning = page.policy_warning.text()
    assert page.policy_warning.isVisible() and "有1个政策文件有错误" in warning
    # the file, its key and the checker's words: in the log for the technician, not on screen
    assert "broken-one" not in warning and not re.search(r"[A-Za-z]{3,}", warning)
    assert any("broken-one.toml" in r.getMessage() for r in caplog.records)
    choose(page.policy, "tianjin-2016")
    choose(page.setting, "layer:dabing")
    type_amount(qtbot, page, "burden", "150000")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert table(page.result_table)["hifmi_pay"] == "70,000.00"  # tj16-01
    assert any("分段" in r[1] for r in steps(page))


def test_settle_an_earlier_estimate_from_the_year_list(qtbot, ctx, page):
    from desktop.services import estimate as svc

    store = ctx.store
    person = store.query_one("SELECT id, name FROM person ORDER BY name LIMIT 1")
    bill = {"setting": "inpatient", "price_class": "class3", "in_policy": "10000.00"}
    saved = svc.save(
        store,
        ctx.actor,
        policy_id="shanxi-2025",
        given=bill,
        person_id=person["id"],
        year=2025,
        data_dir=ctx.data_dir,
    )
    page.year.setValue(2025)
    page.open_item(person["id"])
    idle(qtbot, ctx)
    assert page.history.rowCount() == 1
    assert page.history.item(0, 4).text() == "未结算"
    page.tabs.setCurrentIndex(1)
    page.history.selectRow(0)
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert table(page.result_table)["hifp_pay"] == "8,415.00"  # the saved result, sx25-01
    assert not page.save_button.isEnabled() and page.settle_button.isEnabled()
    page.tabs.setCurrentIndex(1)
    page.history.selectRow(0)
    qtbot.mouseClick(page.settle_selected_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert page.history.item(0, 4).text() == "已结算"
    assert page.ytd["basic_paid_ytd"].text() == "8415.00"
    assert svc.get(store, saved["id"])["settled"] == 1


def test_a_policy_corrected_between_compute_and_save_is_flagged(qtbot, ctx, page):
    from pathlib import Path

    shipped = Path(__file__).resolve().parents[2] / "resources" / "policies" / "shanxi-2025.toml"
    choose(page.policy, "shanxi-2025")
    choose(page.setting, "inpatient")
    choose(page.level, "class3")
    type_amount(qtbot, page, "in_policy", "10000")
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert table(page.result_table)["hifp_pay"] == "8,415.00"
    d = ctx.data_dir / "policies"
    d.mkdir(exist_ok=True)
    text = shipped.read_text("utf-8").replace('deductible = "100.00"', 'deductible = "200.00"')
    (d / "shanxi-2025.toml").write_text(text, encoding="utf-8")
    qtbot.mouseClick(page.save_button, Qt.MouseButton.LeftButton)
    idle(qtbot, ctx)
    assert "政策文件在测算后有更新" in page.message.text()
    assert table(page.result_table)["hifp_pay"] == "8,330.00"  # (10000 − 200) × 85%
    assert (
        ctx.store.query_one("SELECT fund_pay_sumamt FROM estimate")["fund_pay_sumamt"] == "8330.00"
    )


AWAY_POLICY = """
[policy]
id = "away-page"
region = "140121"
year = 2025
title = "异地就医页面测试政策"
source = "测试"

[inpatient]
source = "住院待遇"
counter = "inpatient"
deductible_basis = "per_admission"
band_basis = "amount"
cap = "150000.00"

[inpatient.levels.city]
label = "市级医院"
deductible = "1000.00"
ratio = "0.70"

[[inpatient.out_of_area]]
status = "filed"
ratio_cut = "0.10"
source = "异地就医 第八条"
"""


def test_out_of_area_care_on_the_page(qtbot, ctx, page):
    """The 异地就医 choice shows only where the policy states its rules, and lowers the ratio:
    (11000 − 1000) × (70% − 10%) = 6,000.00."""
    choose(page.policy, "shanxi-2025")
    choose(page.setting, "inpatient")
    assert not page.out_of_area.isVisible()  # the shipped policy states no such rule
    (ctx.data_dir / "policies").mkdir(exist_ok=True)
    (ctx.data_dir / "policies" / "away-page.toml").write_text(AWAY_POLICY, encoding="utf-8")
    page.reload_policies()
    qtbot.waitUntil(lambda: page.policy.findData("away-page") >= 0, timeout=5000)
    choose(page.policy, "away-page")
    choose(page.setting, "inpatient")
    assert page.out_of_area.isVisible()
    choose(page.out_of_area, "filed")
    type_amount(qtbot, page, "total", "11000")
    type_amount(qtbot, page, "in_policy", "11000")
    qtbot.keyClick(page.amounts["in_policy"], Qt.Key.Key_Return)
    idle(qtbot, ctx)
    assert table(page.result_table)["hifp_pay"] == "6,000.00"
    assert any(r[1] == "异地就医支付比例" for r in steps(page))
