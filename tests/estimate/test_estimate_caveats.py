"""The estimate never contradicts itself (issue 11 item 5): for a person not insured in the
year of care, or with a policy of another year standing in, the whole result is labelled
hypothetical on screen and on the printed sheet, with the reason."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from desktop.services import estimate as svc
from desktop.services import receipts
from desktop.services.demo import seed_demo

BILL = {"total": "20000"}


def flat(pdf: bytes) -> str:
    return "".join(
        "".join((p.extract_text() or "").split()) for p in PdfReader(io.BytesIO(pdf)).pages
    )


@pytest.fixture
def demo(store):
    return seed_demo(store)


def _person(store, name):
    return store.query_one("SELECT id FROM person WHERE name = ?", (name,))["id"]


def test_not_insured_and_a_stand_in_policy_are_said_on_screen_and_paper(store, demo, data_dir):
    pid = _person(store, "陈静")  # the demo: paid for last year, not for this one
    year = store.query_one("SELECT MAX(year) AS y FROM payment")["y"] + 1
    notes = svc.caveats(store, policy_id="shanxi-2025", person_id=pid, year=year, data_dir=data_dir)
    assert any("未参保缴费" in n and "假设" in n and "实际基金支付为0" in n for n in notes)
    assert any(f"{year}年度的报销政策尚未到达本机" in n and "2025年度" in n for n in notes)
    given = {"setting": "inpatient", "level": "class2_county", **BILL}
    saved = svc.save(
        store,
        demo,
        policy_id="shanxi-2025",
        given=given,
        person_id=pid,
        year=year,
        data_dir=data_dir,
    )
    sheet = flat(receipts.prepare(store, demo, "estimate", saved["id"]).pdf)
    assert "未参保缴费" in sheet and "实际基金支付为0" in sheet and "尚未到达本机" in sheet
    assert "shanxi-2025" not in sheet  # the policy by its title, not its id
    assert "山西省城乡居民医保住院待遇" in sheet


def test_an_insured_person_in_the_policy_year_gets_no_caveat(store, demo, data_dir):
    pid = _person(store, "张三")  # paid for 2025 in the demo (its campaign)
    assert (
        svc.caveats(store, policy_id="shanxi-2025", person_id=pid, year=2025, data_dir=data_dir)
        == []
    )
    # an anonymous estimate in the policy's own year: nothing to add
    assert (
        svc.caveats(store, policy_id="shanxi-2025", person_id=None, year=2025, data_dir=data_dir)
        == []
    )


def test_the_page_labels_the_result_hypothetical(qtbot, store, demo, data_dir):
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.estimate import Page

    create_qapplication()
    ctx = make_context(store, demo, data_dir)
    try:
        page = Page(ctx)
        qtbot.addWidget(page)
        page.show()
        qtbot.waitUntil(lambda: page.policy.count() > 0, timeout=5000)
        page.open_item(_person(store, "陈静"))
        qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)
        page.year.setValue(2027)
        qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)
        page.policy.setCurrentIndex(page.policy.findData("shanxi-2025"))
        page.setting.setCurrentIndex(page.setting.findData("inpatient"))
        page._rows["total"][1].setText("20000")
        page.compute()
        qtbot.waitUntil(lambda: page.result_table.rowCount() > 0, timeout=5000)
        assert "未参保缴费" in page.caveat_label.text() and page.caveat_label.isVisible()
        assert page.message.text().startswith("假设测算")
    finally:
        ctx.tasks.shutdown()
