"""The audit chain can no longer be cut or rewritten unnoticed (issue 14 item 7): its links
are keyed (HMAC under a key derived from the store's key, so a recomputed plain SHA-256
chain fails), and each sync anchors the chain head at the county (real PostgreSQL), so a
cut or a rewrite with the key shows in ``audit verify`` and as a county security event."""

from __future__ import annotations

import pytest

from desktop.cli import main as cli_main
from desktop.services import audit, registration
from desktop.services.demo import make_id, numbered_name
from desktop.store import journal

pytestmark = pytest.mark.postgres


def _people(desk, n: int) -> None:
    for i in range(n):
        registration.create_household(
            desk.store,
            desk.actor,
            {"village_id": desk.village(), "address": f"{i}组"},
            [
                {
                    "name": numbered_name("张", i),
                    "cert_no": make_id("140121", "1970-01-01", i, "male"),
                    "relation": "head",
                }
            ],
        )


def _relink(conn, link, edit: str) -> None:
    """Edit the log, then recompute every link with ``link`` (what a tamperer does)."""
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute(edit)
    rows = conn.execute(
        "SELECT seq, at, operator_id, action, entity, entity_id, detail FROM audit_log ORDER BY seq"
    ).fetchall()
    conn.execute("UPDATE audit_log SET hash = 'tmp:' || seq")
    prev = journal.GENESIS
    for seq, *rest in rows:
        h = link(journal._entry_body(prev, seq, *rest))
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
        prev = h


def _cut(conn, where: str) -> None:
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(f"DELETE FROM audit_log WHERE {where}")


def _events(county) -> list[str]:
    return [r["kind"] for r in county.sql("SELECT kind FROM security_event ORDER BY id")]


def test_a_chain_recomputed_with_plain_sha256_fails_verify(desks, mem_keyring):
    desk = desks("SP01", "东乡卫生院")
    _people(desk, 2)
    assert journal.verify_audit(desk.store.db) == []
    _relink(desk.store.conn, journal.sha256_hex, "UPDATE audit_log SET detail = '{}' WHERE seq = 2")
    problems = journal.verify_audit(desk.store.db)
    assert problems and all("hash does not match" in p.problem for p in problems)


def test_a_rewrite_with_the_key_is_caught_by_the_county_anchor(desks, county_server, mem_keyring):
    desk = desks("SP01", "东乡卫生院")
    _people(desk, 3)
    desk.sync()  # anchors the head
    report = audit.verify(desk.store, desk.data_dir)
    assert report.ok and report.anchors >= 1 and not report.county_note
    conn = desk.store.conn
    edit = 'UPDATE audit_log SET detail = \'{"name": "李四"}\' WHERE seq = 3'
    _relink(conn, lambda text: journal._mac(conn, text), edit)  # with the key: links fine
    assert journal.verify_audit(desk.store.db) == []
    report = audit.verify(desk.store, desk.data_dir)
    assert not report.ok
    assert any("differs from the county's anchor" in p.problem for p in report.problems)
    desk.sync()
    assert "audit_rewritten" in _events(county_server)


@pytest.mark.parametrize("where", ["seq > 3", "1 = 1"], ids=["last-rows", "all-rows"])
def test_cutting_rows_is_caught_by_the_county_anchor(
    desks, county_server, mem_keyring, where, capsys
):
    desk = desks("SP01", "东乡卫生院")
    _people(desk, 3)
    desk.sync()
    head = journal.audit_head(desk.store.conn)["seq"]
    assert head > 3
    _cut(desk.store.conn, where)
    assert journal.verify_audit(desk.store.db) == []  # what is left still links up
    report = audit.verify(desk.store, desk.data_dir)
    assert any("gone" in p.problem for p in report.problems), report
    desk.sync()  # the county sees the head go back
    assert "audit_rollback" in _events(county_server)
    desk.store.close()
    code = cli_main(["--data-dir", str(desk.data_dir), "audit", "verify"])
    out = capsys.readouterr().out
    assert code == 2 and "审计日志校验失败" in out and "锚点" in out
    from desktop.store import open_store

    desk.store = open_store(desk.data_dir)


def test_offline_verify_says_it_did_not_ask_the_county(desks, mem_keyring, capsys):
    desk = desks("SP01", "东乡卫生院")
    desk.store.close()
    code = cli_main(["--data-dir", str(desk.data_dir), "audit", "verify", "--offline"])
    out = capsys.readouterr().out
    assert code == 0 and "未与县里核对" in out
    from desktop.store import open_store

    desk.store = open_store(desk.data_dir)
