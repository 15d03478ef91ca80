"""Fixtures for the operations tests (backups, restore, logs, full disk, settings)."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.store import cipher
from desktop.store.journal import new_id, now_iso, record_change


def add_people(store, actor, names: list[str], village: str = "东村") -> list[str]:
    """Household + persons written the way services write them (change + audit + outbox)."""
    ids = []
    vid = store.query_one("SELECT id FROM village WHERE name = ?", (village,))["id"]
    with store.write() as db:
        hid, now = new_id(), now_iso()
        db["household"].insert(
            {
                "id": hid,
                "village_id": vid,
                "address": f"{village}1号",
                "created_at": now,
                "updated_at": now,
            }
        )
        for i, name in enumerate(names):
            pid = new_id()
            row = {
                "id": pid,
                "household_id": hid,
                "relation": "head" if i == 0 else "child",
                "name": name,
                "cert_no": f"14012120000101{i:04d}",
                "sex": "male",
                "birth_date": "2000-01-01",
                "region_code": "140121",
                "created_at": now,
                "updated_at": now,
                "created_by": actor.operator_id,
            }
            db["person"].insert(row)
            record_change(
                db,
                operator_id=actor.operator_id,
                action="person.create",
                entity="person",
                entity_id=pid,
                before=None,
                after=row,
                op_payload=row,
            )
            ids.append(pid)
    return ids


def dump(path_or_conn) -> dict[str, list[tuple]]:
    """Every row of every table (sorted), to compare two databases."""
    conn = path_or_conn
    own = False
    if isinstance(path_or_conn, str | Path):
        conn = cipher.open_file(path_or_conn)
        own = True
    try:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
                " AND name NOT LIKE '%_fts%' ORDER BY name"
            )
        ]
        return {
            t: sorted(map(tuple, conn.execute(f'SELECT * FROM "{t}"')), key=repr) for t in tables
        }
    finally:
        if own:
            conn.close()


def corrupt(path: Path, first_page: int = 2, pages: int = 4, page_size: int = 4096) -> None:
    """Overwrite whole pages in the middle of a database file with junk (a bad disk sector)."""
    with open(path, "r+b") as f:
        f.seek(first_page * page_size)
        f.write(bytes([0xA5, 0x5A] * (page_size // 2)) * pages)


@pytest.fixture
def people(store, admin):
    return add_people(store, admin, ["张三", "李四", "王五"])


@pytest.fixture
def ops():
    """The helpers above, for test modules (importlib import mode: no conftest imports)."""
    from types import SimpleNamespace

    return SimpleNamespace(add_people=add_people, dump=dump, corrupt=corrupt)
