"""Registration fixtures (the set-up store, ``admin`` and ``clerk`` are tests/conftest.py's)."""

from __future__ import annotations

import pytest

from desktop.services.demo import make_id


@pytest.fixture
def village_id(store, admin):
    return store.query_one("SELECT id FROM village WHERE name = '东村'")["id"]


@pytest.fixture
def idno():
    """idno(birth 'YYYY-MM-DD', seq, sex) → valid 18-character number in region 140121."""

    def make(birth: str = "1980-01-01", seq: int = 1, sex: str = "male") -> str:
        return make_id("140121", birth, seq, sex)

    return make


def table_counts(store) -> dict[str, int]:
    return {
        t: store.query_one(f"SELECT COUNT(*) AS n FROM {t}")["n"]
        for t in ("household", "person", "audit_log", "outbox")
    }


@pytest.fixture
def counts():
    """counts(store) → rows in household, person, audit_log and outbox."""
    return table_counts
