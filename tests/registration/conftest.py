"""Registration fixtures. A set-up store (service point, admin, clerk1) is built once per
session and copied for each test that asks for ``admin`` or ``clerk`` — argon2 hashing and
migrations per test would dominate the run time. Tests that want an empty store get one."""

from __future__ import annotations

import shutil

import pytest

from desktop.services.demo import make_id
from desktop.store import open_store
from desktop.store.db import DB_FILENAME


@pytest.fixture(scope="session")
def setup_template(tmp_path_factory):
    from desktop.services.auth import create_operator
    from desktop.services.setup import ServicePointInput, run_setup

    folder = tmp_path_factory.mktemp("registration-template")
    s = open_store(folder)
    admin = run_setup(
        s,
        ServicePointInput(
            name="示范乡卫生院", region_code="140121", code="SP01", villages=["东村", "西村"]
        ),
        admin_username="admin",
        admin_name="王主管",
        admin_password="admin123",
    )
    create_operator(
        s, username="clerk1", display_name="李经办", password="clerk123", role="clerk", by=admin
    )
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.close()
    return folder / DB_FILENAME


@pytest.fixture
def store(request, data_dir, setup_template):
    """Same as the shared fixture, but pre-set-up (copied) when the test uses admin/clerk."""
    if {"admin", "clerk"} & set(request.fixturenames):
        shutil.copyfile(setup_template, data_dir / DB_FILENAME)
        shutil.copyfile(setup_template.with_name("desk.id"), data_dir / "desk.id")  # its key
    s = open_store(data_dir)
    yield s
    s.close()


def _actor(store, username):
    from desktop.services.demo import _actor as lookup

    return lookup(store, username)


@pytest.fixture
def admin(store):
    return _actor(store, "admin")


@pytest.fixture
def clerk(store, admin):
    return _actor(store, "clerk1")


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
