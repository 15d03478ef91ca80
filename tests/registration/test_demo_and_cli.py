"""Demo seed (valid numbers, rare name, extension hook) and the audit verify command."""

from __future__ import annotations

from core.ids import check_id
from desktop.cli import main
from desktop.services import demo
from desktop.services.auth import login
from desktop.store import open_store
from desktop.store.journal import verify_audit


def test_seed_demo_creates_service_point_operators_and_residents(store, monkeypatch):
    calls = []
    monkeypatch.setattr(demo, "DEMO_SEEDERS", [lambda s, a: calls.append((s, a))])
    clerk = demo.seed_demo(store)
    assert clerk.username == "clerk1" and clerk.role == "clerk"
    assert login(store, "admin", "admin123").is_supervisor
    assert login(store, "clerk1", "clerk123").operator_id == clerk.operator_id
    sp = store.query_one("SELECT * FROM service_point")
    assert (sp["name"], sp["region_code"], sp["code"]) == ("示范乡卫生院", "140121", "SP01")
    assert {v["name"] for v in store.query("SELECT name FROM village")} == {"东村", "西村", "南村"}
    people = store.query("SELECT * FROM person")
    assert 25 <= len(people) <= 40
    assert store.query_one("SELECT COUNT(*) AS n FROM household")["n"] == 10
    for p in people:
        if p["cert_type"] == "resident_id":
            chk = check_id(p["cert_no"])
            assert chk.valid, p
            assert (chk.sex, chk.birth_date.isoformat()) == (p["sex"], p["birth_date"])
    assert any(ord(ch) > 0xFFFF for p in people for ch in p["name"])  # rare name kept
    assert any(p["cert_type"] == "birth_cert" for p in people)  # newborn without ID card
    assert calls == [(store, clerk)]
    # idempotent: a second call adds nothing and does not re-run the seeders
    n = store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"]
    assert demo.seed_demo(store) == clerk
    assert store.query_one("SELECT COUNT(*) AS n FROM audit_log")["n"] == n
    assert len(calls) == 1
    assert verify_audit(store.db) == []


def test_audit_verify_command(data_dir, capsys):
    s = open_store(data_dir)
    demo.seed_demo(s)
    s.close()
    assert main(["--data-dir", str(data_dir), "audit", "verify"]) == 0
    assert "完好" in capsys.readouterr().out
    s = open_store(data_dir)
    s.conn.execute("DROP TRIGGER audit_log_no_update")
    seq = s.query_one(
        "SELECT a.seq FROM audit_log a JOIN person p ON p.id = a.entity_id"
        " WHERE p.name = '张三' AND a.action = 'person.create'"
    )["seq"]
    s.conn.execute(
        "UPDATE audit_log SET detail = replace(detail, '张三', '张四') WHERE seq = ?", (seq,)
    )
    s.close()
    assert main(["--data-dir", str(data_dir), "audit", "verify"]) == 2
    out = capsys.readouterr().out
    assert f"seq {seq}:" in out and "校验失败" in out


def test_audit_verify_without_a_database(tmp_path, capsys):
    assert main(["--data-dir", str(tmp_path / "none"), "audit", "verify"]) == 1
    assert "找不到数据库" in capsys.readouterr().out


def test_check_id_json_output(data_dir, capsys):
    import json

    assert main(["--data-dir", str(data_dir), "check-id", "--json", "11010519491231002x"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["valid"] is True and got["normalized"] == "11010519491231002X"
    assert (got["sex"], got["birth_date"], got["region"]) == ("female", "1949-12-31", "110105")
    assert main(["--data-dir", str(data_dir), "check-id", "--json", "1101051949123100"]) == 1
    got = json.loads(capsys.readouterr().out)
    assert got["valid"] is False and got["reason"] == "length" and "18位" in got["message"]
