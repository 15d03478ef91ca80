"""查询留痕 (issue 14 item 4, begun): opening a person's record and exporting a list are
written with operator and time into the hash-chained audit log; only a supervisor lists
them, by person or by operator (service, CLI and the 参保登记 page)."""

from __future__ import annotations

import io
import sys

import pytest

from desktop.cli import main as cli_main
from desktop.services import contribution, views
from desktop.services.context import PermissionDenied
from desktop.store.journal import verify_audit

from .conftest import TODAY


def test_opening_and_exporting_are_logged_and_only_a_supervisor_lists_them(
    store, clerk, admin, household, tmp_path
):
    hh = views.open_household(store, clerk, household["household_id"])
    assert len(hh["members"]) == 4
    camp = contribution.campaign(store, year=2025, village_id=household["village_id"], today=TODAY)
    path = contribution.export_csv(camp, tmp_path / "未缴.csv")
    views.exported_list(
        store, clerk, what="2025参保年度未缴名单", rows=camp["unpaid_count"], path=path
    )
    assert verify_audit(store.db) == []
    with pytest.raises(PermissionDenied):
        views.listing(store, clerk)
    everything = views.listing(store, admin)
    assert [r["label"] for r in everything][:2] == ["导出名单", "查看参保人信息"]
    assert sum(r["action"] == "person.view" for r in everything) == 4
    assert all(r["username"] == "clerk1" for r in everything)
    zhang = store.query_one("SELECT id, cert_no FROM person WHERE name = '张三'")
    mine = views.listing(store, admin, person=zhang["cert_no"])
    assert [r["entity_id"] for r in mine] == [zhang["id"]]
    assert views.listing(store, admin, operator="admin") == []


def test_the_cli_lists_views_for_a_supervisor(
    store, clerk, admin, household, data_dir, monkeypatch, capsys
):
    views.open_household(store, clerk, household["household_id"])
    monkeypatch.setattr(sys, "stdin", io.StringIO("admin123\n"))
    code = cli_main(
        ["--data-dir", str(data_dir), "audit", "views", "--user", "admin", "--password-stdin"]
    )
    out = capsys.readouterr().out
    assert code == 0 and "查看参保人信息" in out and "共 4 条" in out and "李经办" in out
    monkeypatch.setattr(sys, "stdin", io.StringIO("clerk123\n"))
    code = cli_main(
        ["--data-dir", str(data_dir), "audit", "views", "--user", "clerk1", "--password-stdin"]
    )
    assert code == 1 and "主管" in capsys.readouterr().err


def test_the_registration_page_logs_the_household_it_opens(
    qtbot, store, clerk, household, data_dir
):
    pytest.importorskip("pytestqt")
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.registration import Page

    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    try:
        page = Page(ctx)
        qtbot.addWidget(page)
        page.show()
        page.load_household(household["household_id"])
        qtbot.waitUntil(lambda: ctx.tasks.idle and len(page.members) == 4, timeout=5000)
        rows = store.query("SELECT operator_id FROM audit_log WHERE action = 'person.view'")
        assert len(rows) == 4 and {r["operator_id"] for r in rows} == {clerk.operator_id}
    finally:
        ctx.tasks.shutdown()


def test_lists_mask_phone_numbers():
    from core.ids import mask_phone

    assert mask_phone("13811112222") == "138****2222"
    assert mask_phone("0351-1234567") == "035*****4567"
    assert mask_phone("") == "" and mask_phone("12345") == "*****"


def test_lists_mask_resident_ids_and_show_other_certificates():
    from core.ids import mask_cert

    assert mask_cert("resident_id", "14012119750520091x") == "1401**********091X"
    assert mask_cert("passport", "E12345678") == "E12345678"  # no rule hides its digits
    assert mask_cert("resident_id", "") == ""


def test_the_payment_and_estimate_pages_log_whom_they_open(
    qtbot, store, clerk, household, data_dir
):
    pytest.importorskip("pytestqt")
    from desktop.gui.app import create_qapplication, make_context
    from desktop.gui.pages.contribution import Page as Payments
    from desktop.gui.pages.estimate import Page as Estimate

    create_qapplication()
    ctx = make_context(store, clerk, data_dir)
    ctx.extras["today"] = TODAY
    zhang = store.query_one("SELECT id FROM person WHERE name = '张三'")["id"]
    try:
        pay = Payments(ctx)
        qtbot.addWidget(pay)
        pay.load_person(zhang)
        qtbot.waitUntil(lambda: ctx.tasks.idle and pay.person_id == zhang, timeout=5000)
        pay.load_person(zhang)  # a refresh after a payment is not another look
        qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)
        est = Estimate(ctx)
        qtbot.addWidget(est)
        est.open_item(zhang)
        qtbot.waitUntil(lambda: ctx.tasks.idle and est._person is not None, timeout=5000)
        qtbot.waitUntil(lambda: ctx.tasks.idle, timeout=5000)
    finally:
        ctx.tasks.shutdown()
    rows = store.query(
        "SELECT entity_id, detail FROM audit_log WHERE action = 'person.view' ORDER BY seq"
    )
    pages = [r["detail"] for r in rows if r["entity_id"] == zhang]
    assert len(pages) == 2 and "缴费查询" in pages[0] and "报销测算" in pages[1]
