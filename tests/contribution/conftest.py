"""Contribution fixtures: a household in 东村 (region 140121 → national-2025 applies to
参保年度 2025) and row counters to prove that refused input wrote nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from desktop.services import registration
from desktop.services.demo import make_id

TODAY = dt.date(2025, 3, 20)


@pytest.fixture
def household(store, clerk):
    village = store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]
    made = registration.create_household(
        store,
        clerk,
        {"village_id": village, "address": "东村一组1号"},
        [
            {
                "name": "张三",
                "relation": "head",
                "sex": "male",
                "birth_date": "1970-01-01",
                "cert_no": make_id("140121", "1970-01-01", 1, "male"),
            },
            {
                "name": "李四",
                "relation": "spouse",
                "sex": "female",
                "birth_date": "1972-02-02",
                "cert_no": make_id("140121", "1972-02-02", 2, "female"),
            },
            {
                "name": "孙五",
                "relation": "parent",
                "sex": "female",
                "birth_date": "1945-03-03",
                "cert_no": make_id("140121", "1945-03-03", 3, "female"),
                "insured_category": "tekun",
                "subsidy_category": "full",
            },
            {
                "name": "张小低",
                "relation": "son",
                "sex": "male",
                "birth_date": "2000-04-04",
                "cert_no": make_id("140121", "2000-04-04", 4, "male"),
                "insured_category": "dibao",
                "subsidy_category": "fixed",
            },
        ],
        today=TODAY,
    )
    return {"household_id": made.household_id, "ids": made.person_ids, "village_id": village}


def _counts(store) -> dict[str, int]:
    return {
        t: store.query_one(f"SELECT COUNT(*) AS n FROM {t}")["n"]
        for t in ("payment", "enrollment", "audit_log", "outbox", "receipt_number")
    }


@pytest.fixture
def counts():
    return _counts
