"""Saving estimates, marking them settled, and year-to-date figures — audited, and bad input
writes nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.errors import ValidationError
from desktop.services import estimate as svc
from desktop.services.context import PermissionDenied
from desktop.store.journal import verify_audit

BILL = {"setting": "inpatient", "price_class": "class2_county", "in_policy": "20000.00"}


@pytest.fixture
def demo(store):
    from desktop.services.demo import DEMO_ADMIN, _actor, seed_demo

    clerk = seed_demo(store)
    admin = _actor(store, DEMO_ADMIN[0])
    person = store.query_one("SELECT id, insured_category FROM person ORDER BY name LIMIT 1")
    return clerk, admin, person["id"]


def counts(store):
    return (
        store.query_one("SELECT COUNT(*) AS n FROM estimate")["n"],
        store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"],
    )


def test_save_anonymous_estimate_is_audited(store, demo, data_dir):
    clerk, _, _ = demo
    saved = svc.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given=BILL,
        anon_label="窗口咨询",
        year=2025,
        data_dir=data_dir,
    )
    assert saved["person_id"] is None and saved["anon_label"] == "窗口咨询"
    assert saved["result"]["hifp_pay"] == "14700.00"  # (20000 − 400) × 75%
    fresh = svc.run("shanxi-2025", BILL, data_dir=data_dir)
    assert saved["input"] == fresh.pop("input")
    assert saved["result"] == fresh
    row = store.query_one(
        "SELECT action, operator_id FROM audit_log WHERE entity = 'estimate' AND entity_id = ?",
        (saved["id"],),
    )
    assert row == {"action": "estimate.save", "operator_id": clerk.operator_id}
    with pytest.raises(ValidationError) as e:
        svc.mark_settled(store, clerk, saved["id"])
    assert "匿名" in e.value.errors["estimate"]
    assert verify_audit(store.db) == []


def test_settled_estimates_feed_year_to_date(store, demo, data_dir):
    clerk, admin, pid = demo
    first = svc.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given=BILL,
        person_id=pid,
        year=2025,
        data_dir=data_dir,
    )
    svc.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given=BILL,
        person_id=pid,
        year=2025,
        data_dir=data_dir,
    )  # not settled: does not count
    ytd = svc.year_to_date(store, pid, 2025)
    assert ytd["fields"]["basic_paid_ytd"] == "0.00" and ytd["next_admission_no"] == 1

    settled = svc.mark_settled(store, clerk, first["id"])
    assert settled["settled"] == 1 and settled["settled_by"] == clerk.operator_id
    ytd = svc.year_to_date(store, pid, 2025)
    assert ytd["fields"]["basic_paid_ytd"] == "14700.00"
    assert ytd["fields"]["deductible_paid_ytd"] == "400.00"
    assert ytd["next_admission_no"] == 2
    assert svc.year_to_date(store, pid, 2024)["fields"]["basic_paid_ytd"] == "0.00"

    # the next estimate uses them: second admission halves the deductible (200)
    given = {
        **BILL,
        "admission_no": ytd["next_admission_no"],
        **{
            k: v for k, v in ytd["fields"].items() if k in ("basic_paid_ytd", "deductible_paid_ytd")
        },
    }
    assert svc.run("shanxi-2025", given, data_dir=data_dir)["act_pay_dedc"] == "200.00"

    with pytest.raises(ValidationError):
        svc.mark_settled(store, clerk, first["id"])  # already settled
    with pytest.raises(PermissionDenied):
        svc.mark_settled(store, clerk, first["id"], settled=False)
    svc.mark_settled(store, admin, first["id"], settled=False)
    assert svc.year_to_date(store, pid, 2025)["fields"]["basic_paid_ytd"] == "0.00"
    actions = [
        r["action"]
        for r in store.query("SELECT action FROM audit_log WHERE entity = 'estimate' ORDER BY seq")
    ]
    assert actions == ["estimate.save", "estimate.save", "estimate.settle", "estimate.unsettle"]
    assert verify_audit(store.db) == []


def test_county_figures_and_later_settled_estimates(store, demo, data_dir):
    clerk, admin, pid = demo
    early = svc.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given=BILL,
        person_id=pid,
        year=2025,
        data_dir=data_dir,
    )
    svc.mark_settled(store, clerk, early["id"])
    svc.set_county_ytd(
        store,
        admin,
        person_id=pid,
        year=2025,
        figures={"basic_paid_ytd": "30000.00"},
        as_of="9999-01-01T00:00:00+08:00",
    )
    ytd = svc.year_to_date(store, pid, 2025)
    assert ytd["fields"]["basic_paid_ytd"] == "30000.00"  # the county's figure already includes it
    assert ytd["county_as_of"].startswith("9999")
    # a county figure taken before the settlement (in another offset) adds the local one
    svc.set_county_ytd(
        store,
        admin,
        person_id=pid,
        year=2025,
        figures={"basic_paid_ytd": "30000.00"},
        as_of="2000-01-01T08:00:00+08:00",
    )
    assert svc.year_to_date(store, pid, 2025)["fields"]["basic_paid_ytd"] == "44700.00"
    with pytest.raises(ValidationError) as e:
        svc.set_county_ytd(
            store,
            admin,
            person_id=pid,
            year=2025,
            figures={"basic_paid_ytd": "1"},
            as_of="yesterday",
        )
    assert "as_of" in e.value.errors
    with pytest.raises(ValidationError) as e:
        svc.set_county_ytd(store, admin, person_id=pid, year=2025, figures={"bogus": "1"})
    assert "bogus" in e.value.errors
    with pytest.raises(PermissionDenied):
        svc.set_county_ytd(
            store,
            clerk,
            person_id=pid,
            year=2025,
            figures={"basic_paid_ytd": "1"},
            source="statement",
        )


def test_bad_input_writes_nothing(store, demo, data_dir):
    clerk, _, pid = demo
    before = counts(store)
    bad = [
        ({**BILL, "in_policy": "-1"}, "in_policy"),
        ({**BILL, "price_class": "nowhere"}, "level"),
        ({**BILL, "admission_no": 0}, "admission_no"),
    ]
    for given, field in bad:
        with pytest.raises(ValidationError) as e:
            svc.save(
                store, clerk, policy_id="shanxi-2025", given=given, person_id=pid, data_dir=data_dir
            )
        assert field in e.value.errors
    with pytest.raises(ValidationError) as e:
        svc.save(store, clerk, policy_id="no-such-policy", given=BILL, data_dir=data_dir)
    assert "找不到这个测算政策" in e.value.errors["policy"]
    assert "no-such-policy" not in e.value.errors["policy"]
    with pytest.raises(ValidationError) as e:
        svc.save(
            store, clerk, policy_id="shanxi-2025", given=BILL, person_id="nobody", data_dir=data_dir
        )
    assert "person" in e.value.errors
    with pytest.raises(ValidationError):
        svc.save(store, clerk, policy_id="shanxi-2025", given=BILL, year=1999, data_dir=data_dir)
    assert counts(store) == before


def test_list_and_find(store, demo, data_dir):
    clerk, _, pid = demo
    svc.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given=BILL,
        person_id=pid,
        year=2025,
        data_dir=data_dir,
    )
    rows = svc.list_estimates(store, person_id=pid)
    assert len(rows) == 1 and rows[0]["fund_pay_sumamt"] == "14700.00"
    name = store.query_one("SELECT name FROM person WHERE id = ?", (pid,))["name"]
    assert pid in [r["id"] for r in svc.find_persons(store, name)]


def test_a_saved_estimate_renders_as_an_estimate_sheet(store, demo, data_dir):
    """The page's 打印测算单 hands the saved id to the receipts service (issue 5)."""
    import io

    from pypdf import PdfReader

    from desktop.services import receipts

    clerk, _, pid = demo
    saved = svc.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given=BILL,
        person_id=pid,
        year=2025,
        data_dir=data_dir,
    )
    prepared = receipts.prepare(store, clerk, "estimate", saved["id"])
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(prepared.pdf)).pages)
    assert "14,700.00" in text or "14700.00" in text
    assert "报销测算" in text


def test_person_year_brings_coverage_and_the_cap_raise(store, demo):
    _, _, pid = demo
    data = svc.person_year(store, pid, 2025)
    assert data["coverage"]["status"] in ("local", "confirmed", "subsidized")
    raise_ = Decimal(data["coverage"]["incentive_raise"] or 0)
    assert data["ytd"]["fields"]["dabing_cap_raise"] == f"{raise_:.2f}"
    assert svc.person_year(store, pid, 2001)["coverage"] is None
