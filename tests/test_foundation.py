"""The store foundation: pragmas, migrations, transactions, audit chain, outbox."""

from __future__ import annotations

import json

import pytest

from core.errors import ValidationError
from desktop.services import auth
from desktop.store import open_store
from desktop.store.journal import enqueue_op, verify_audit


def test_every_connection_has_durability_pragmas(store):
    assert store.query_one("PRAGMA journal_mode")["journal_mode"] == "wal"
    assert store.query_one("PRAGMA synchronous")["synchronous"] == 2  # FULL
    assert store.query_one("PRAGMA foreign_keys")["foreign_keys"] == 1


def test_nested_writes_undo_only_their_own_part_and_reuse_one_savepoint_name(store):
    """A nested write is a savepoint: its failure undoes its rows only, and every nested
    write uses the same savepoint name, so a day of them adds no new statement to the
    connection's statement cache (see desktop.store.cipher.STATEMENT_CACHE)."""
    seen = []
    store.conn.set_trace_callback(seen.append)
    try:
        with store.write() as db:
            db.conn.execute("INSERT INTO settings(key, value) VALUES ('outer', '1')")
            with pytest.raises(ValueError):
                with store.write() as inner:
                    inner.conn.execute("INSERT INTO settings(key, value) VALUES ('inner', '1')")
                    raise ValueError("the inner part fails")
            for n in range(3):
                with store.write() as inner:
                    inner.conn.execute(
                        "INSERT INTO settings(key, value) VALUES (?, '1')", (f"kept{n}",)
                    )
    finally:
        store.conn.set_trace_callback(None)
    assert store.setting("outer") == "1" and store.setting("inner") is None
    assert [store.setting(f"kept{n}") for n in range(3)] == ["1", "1", "1"]
    savepoints = {s for s in seen if "SAVEPOINT" in s}
    assert savepoints == {
        "SAVEPOINT nested",
        "RELEASE SAVEPOINT nested",
        "ROLLBACK TO SAVEPOINT nested",
    }


def test_migrations_apply_once(data_dir):
    s1 = open_store(data_dir)
    n = len(s1.query("SELECT * FROM _sqlite_migrations"))
    s1.close()
    s2 = open_store(data_dir)
    assert len(s2.query("SELECT * FROM _sqlite_migrations")) == n >= 1
    s2.close()


def test_setup_and_login(store, admin):
    assert admin.is_supervisor
    actor = auth.login(store, "admin", "admin123")
    assert actor.operator_id == admin.operator_id
    with pytest.raises(auth.LoginFailed):
        auth.login(store, "admin", "wrong")
    row = store.query_one("SELECT password_hash FROM operator WHERE username='admin'")
    assert row["password_hash"].startswith("$argon2id$")
    actions = [r["action"] for r in store.query("SELECT action FROM audit_log ORDER BY seq")]
    assert "operator.login" in actions and "operator.login_failed" in actions


def test_clerk_cannot_create_operators(store, clerk):
    with pytest.raises(PermissionError):
        auth.create_operator(
            store, username="x", display_name="某某", password="secret1", role="clerk", by=clerk
        )


def test_bad_operator_input_writes_nothing(store, admin):
    before = store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    with pytest.raises(ValidationError) as e:
        auth.create_operator(
            store, username="a b;--", display_name="", password="1", role="boss", by=admin
        )
    assert set(e.value.errors) == {"username", "display_name", "password", "role"}
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == before


def test_audit_chain_detects_tampering(store, admin):
    assert verify_audit(store.db) == []
    # bypass the append-only trigger the way an attacker with the file would
    store.conn.execute("DROP TRIGGER audit_log_no_update")
    store.conn.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 1")
    problems = verify_audit(store.db)
    assert problems and problems[0].seq == 1


def test_audit_log_is_append_only(store, admin):
    with pytest.raises(Exception, match="append-only"):
        with store.write() as db:
            db.conn.execute("DELETE FROM audit_log")


def test_outbox_is_gapless_and_rolls_back_with_the_change(store, admin):
    with store.write() as db:
        enqueue_op(db, op_type="t.a", entity_id="e1", payload={"a": 1}, operator_id=None)
    with pytest.raises(RuntimeError):
        with store.write() as db:
            enqueue_op(db, op_type="t.b", entity_id="e2", payload={"b": 2}, operator_id=None)
            raise RuntimeError("power cut")
    with store.write() as db:
        enqueue_op(db, op_type="t.c", entity_id="e3", payload={"c": "三"}, operator_id=None)
    rows = store.query("SELECT device_seq, op_type, payload FROM outbox ORDER BY device_seq")
    assert [r["device_seq"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["op_type"] for r in rows] == ["t.a", "t.c"]
    assert json.loads(rows[-1]["payload"]) == {"c": "三"}
    with pytest.raises(Exception, match="immutable"):
        with store.write() as db:
            db.conn.execute("UPDATE outbox SET payload = '{}' WHERE device_seq = 1")
