"""The admin CLI and the real server process (uvicorn) on the test PostgreSQL; pull order
under concurrent commits."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import httpx
import openpyxl

from core import syncproto as sp
from county import cli, tables
from county.testing import ServerProcess

KEY = "cli-signing-key-0123456789abcdef0123456789"


def _env(monkeypatch, dsn):
    monkeypatch.setenv("TOWNSHIP_COUNTY_DATABASE_URL", dsn)
    monkeypatch.setenv("TOWNSHIP_COUNTY_SIGNING_KEY", KEY)


def test_cli_end_to_end_with_real_server(county_dsn, monkeypatch, capsys, tmp_path, make_id):
    _env(monkeypatch, county_dsn)
    assert cli.main(["migrate"]) == 0
    assert (
        cli.main(
            [
                "service-point",
                "create",
                "--code",
                "sp01",
                "--name",
                "东乡卫生院",
                "--region",
                "140121",
            ]
        )
        == 0
    )
    assert (
        cli.main(
            ["service-point", "create", "--code", "SP01", "--name", "重复", "--region", "140121"]
        )
        == 2
    )
    assert "已存在" in capsys.readouterr().err
    assert cli.main(["device-code", "issue", "--service-point", "SP01"]) == 0
    code = capsys.readouterr().out.split("：")[1].split("（")[0]
    # roster from Excel, with one bad row reported and the rest imported
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["身份证号", "姓名", "服务点编码", "户号", "资助类别", "参保状态"])
    ws.append([make_id(seq=101), "王五", "SP01", "H01", "全额资助", 1])
    ws.append([make_id(seq=103), "赵六", "SP01", "H01", "无资助", 1])
    ws.append(["140121198001010000", "坏号", "SP01", "H02", "", ""])
    wb.save(tmp_path / "roster.xlsx")
    monkeypatch.setattr(tables, "IMPORT_CHUNK", 2)  # committed in chunks; row numbers still right
    assert cli.main(["import-roster", str(tmp_path / "roster.xlsx")]) == 1
    out = capsys.readouterr().out
    assert "新增 2" in out and "第4行" in out and "校验码" in out
    pol = Path(__file__).resolve().parents[2] / "resources" / "policies" / "national-2025.toml"
    assert cli.main(["publish-policy", str(pol)]) == 0
    assert cli.main(["publish-policy", str(pol)]) == 0
    assert "未重复发布" in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy]\nid = 'x'\n", encoding="utf-8")
    assert cli.main(["publish-policy", str(bad)]) == 2
    pilot = tmp_path / "national-2025.toml"  # a pilot version for SP01 only
    pilot.write_text(
        pol.read_text(encoding="utf-8").replace('title = "', 'title = "（试点）', 1), "utf-8"
    )
    assert cli.main(["publish-policy", str(pilot), "--service-points", "SP01"]) == 0
    assert "第2版到服务点 SP01" in capsys.readouterr().out
    assert cli.main(["publish-policy", str(pilot), "--service-points", "SP09"]) == 2
    assert "没有这些服务点编码：SP09" in capsys.readouterr().err
    assert cli.main(["conflicts", "list"]) == 0
    assert "没有待处理的冲突" in capsys.readouterr().out

    with ServerProcess(county_dsn, KEY) as server:
        h = {sp.PROTOCOL_HEADER: "1"}
        with httpx.Client(base_url=server.url, headers=h) as c:
            reg = c.post(sp.EP_REGISTER, json={"code": code}).json()
            tok = c.post(
                sp.EP_TOKEN, json={"credential": reg["credential"], "operator_id": "o"}
            ).json()["token"]
            snap = c.post(sp.EP_SNAPSHOT, json={}, headers={"Authorization": f"Bearer {tok}"})
            body = snap.json()
            assert body["done"] is True
            ents = [ch["entity"] for ch in body["changes"]]
            assert ents.count("person") == 2 and "policy" in ents and "household" in ents
            server.restart()  # killed hard and started again: the token still works
            r = c.post(
                sp.EP_PULL,
                json={"cursor": body["cursor"]},
                headers={"Authorization": f"Bearer {tok}"},
            )
            assert r.status_code == 200 and r.json()["changes"] == []


def test_pull_order_equals_commit_order_under_concurrency(
    two_points, county, make_id, person_payload
):
    """Writers commit concurrently while a reader pulls with its cursor: the reader must
    end with every change exactly once (no row skipped behind its cursor)."""
    a, _ = two_points
    n_writers, per_writer = 4, 15
    done = threading.Event()
    errors: list[str] = []

    def writer(w: int):
        try:
            for i in range(per_writer):
                pid = str(uuid.uuid4())
                op = a.op("person.create", pid, person_payload(make_id(seq=200 + w * 50 + i)))
                r = a.push([op])
                if r.status_code != 200:
                    errors.append(r.text)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(n_writers)]
    for t in threads:
        t.start()
    got: list[str] = []
    cursor = sp.empty_cursor()

    def poll():
        nonlocal cursor
        page = a.pull(cursor, limit=7)
        got.extend(c["id"] for c in page["changes"] if c["entity"] == "person")
        cursor = page["next_cursor"]

    while any(t.is_alive() for t in threads):
        poll()
    for t in threads:
        t.join()
    done.set()
    for _ in range(50):
        poll()
    assert not errors
    expected = {r["id"] for r in county.sql("SELECT id FROM person")}
    assert len(expected) == n_writers * per_writer
    assert sorted(got) == sorted(expected)  # each exactly once
