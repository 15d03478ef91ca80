"""A person's and a household's fields are declared once (core.records.persons): the store's
tables, the sync protocol and the registration service all follow that declaration."""

from __future__ import annotations

import dataclasses

import pytest

from core import syncproto as sp
from core.records import persons as rec
from desktop.services import registration as reg
from desktop.store import open_store


def _columns(store, table):
    return tuple(r["name"] for r in store.query(f"PRAGMA table_info({table})"))


def test_declarations_match_the_store_tables(tmp_path):
    store = open_store(tmp_path)
    try:
        assert _columns(store, "person") == rec.PERSON_COLUMNS
        assert _columns(store, "household") == rec.HOUSEHOLD_COLUMNS
    finally:
        store.close()


def test_the_sync_protocol_and_the_service_use_the_declarations():
    assert sp.ENTITY_FIELDS[sp.E_PERSON] == rec.PERSON_WIRE_FIELDS
    assert sp.ENTITY_FIELDS[sp.E_HOUSEHOLD] == rec.HOUSEHOLD_WIRE_FIELDS
    assert "village_name" in rec.HOUSEHOLD_WIRE_FIELDS
    assert reg.PERSON_FIELDS == rec.PERSON_FIELDS
    assert set(rec.PERSON_FIELDS) <= set(rec.PERSON_WIRE_FIELDS)
    assert "name_pinyin" not in rec.PERSON_WIRE_FIELDS  # derived locally, never sent
    assert all(reg.FIELD_LABELS[f] for f in rec.PERSON_FIELDS)


def test_typed_rows_are_frozen_and_round_trip(store, clerk, village_id, idno):
    done = reg.create_household(
        store, clerk, {"village_id": village_id}, [{"name": "张三", "cert_no": idno()}]
    )
    p = reg.person_record(store, done.person_ids[0])
    assert isinstance(p, rec.Person) and p.name == "张三" and p.relation == "head"
    assert p.as_row() == {k: v for k, v in reg.get_person(store, p.id).items() if k in p.as_row()}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "李四"  # type: ignore[misc]
    h = reg.household_record(store, done.household_id)
    assert isinstance(h, rec.Household) and h.head_person_id == p.id
    assert reg.person_record(store, "nobody") is None
