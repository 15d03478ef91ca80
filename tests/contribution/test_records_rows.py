"""Enrollments, payments and saved estimates are declared once (core.records): the store's
tables, the sync protocol's field lists and the typed rows the store returns follow them."""

from __future__ import annotations

import dataclasses

import pytest

from core import syncproto as sp
from core.records import contributions as crec
from core.records import estimates as erec
from desktop.services import contribution
from desktop.store import enrollments, estimates, open_store, payments
from tests.contribution.conftest import TODAY


def _columns(store, table):
    return tuple(r["name"] for r in store.query(f"PRAGMA table_info({table})"))


def test_declarations_match_the_store_tables(tmp_path):
    store = open_store(tmp_path)
    try:
        assert _columns(store, "enrollment") == crec.ENROLLMENT_COLUMNS
        assert _columns(store, "payment") == crec.PAYMENT_COLUMNS
        assert _columns(store, "estimate") == erec.ESTIMATE_COLUMNS
    finally:
        store.close()


def test_the_sync_protocol_derives_its_field_lists_from_the_declarations():
    assert sp.ENTITY_FIELDS[sp.E_ENROLLMENT] == crec.ENROLLMENT_WIRE_FIELDS
    assert sp.ENTITY_FIELDS[sp.E_PAYMENT] == crec.PAYMENT_WIRE_FIELDS
    assert "terms_json" not in crec.ENROLLMENT_WIRE_FIELDS  # stays on the desk
    assert not set(crec.PAYMENT_WIRE_ONLY) & set(crec.PAYMENT_COLUMNS)
    assert all(crec.PAYMENT_LABELS.values()) and all(crec.ENROLLMENT_LABELS.values())


def test_a_recorded_payment_reads_back_as_typed_rows(store, clerk, household):
    person_id = household["ids"][0]
    out = contribution.record_payment(
        store,
        clerk,
        {
            "person_id": person_id,
            "year": 2025,
            "amount": "400",
            "channel": "cash",
            "paid_on": "2024-10-10",
        },
        today=TODAY,
    )
    pay = payments.record(store, out["payment"]["id"])
    assert isinstance(pay, crec.Payment) and pay.live and pay.amount == "400.00"
    assert pay.as_row() == payments.by_id(store, pay.id)
    assert payments.live_records(store, person_id) == {2025: pay}
    enr = enrollments.records(store, person_id)[2025]
    assert isinstance(enr, crec.Enrollment) and enr.id == pay.enrollment_id
    assert enr.benefits_from == "2025-01-01" and not enr.subsidized_in_full
    with pytest.raises(dataclasses.FrozenInstanceError):
        pay.amount = "0.00"  # type: ignore[misc]
    assert estimates.record(store, "nothing") is None
