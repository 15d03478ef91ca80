"""Settings checked at start-up, and the admin HTTP endpoints."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from core import syncproto as sp
from county.settings import SettingsError, load_settings

ADMIN = {"Authorization": "Bearer test-admin-key-0123456789"}


def test_settings_file_and_env(tmp_path):
    f = tmp_path / "county.toml"
    f.write_text(
        'database_url = "postgresql://u@h/db"\nsigning_key = "' + "k" * 40 + '"\n'
        'bind = "0.0.0.0:9000"\n',
        encoding="utf-8",
    )
    s = load_settings(f, env={})
    assert (s.host, s.port, s.database_url) == ("0.0.0.0", 9000, "postgresql://u@h/db")
    s2 = load_settings(f, env={"TOWNSHIP_COUNTY_BIND": "127.0.0.1:9100"})
    assert s2.port == 9100
    with pytest.raises(SettingsError, match="签名密钥太短"):
        load_settings(
            None, env={"TOWNSHIP_COUNTY_DATABASE_URL": "x", "TOWNSHIP_COUNTY_SIGNING_KEY": "short"}
        )
    with pytest.raises(SettingsError, match="缺少数据库地址"):
        load_settings(None, env={})
    f.write_text('database_url = "x"\nsigining_key = "typo"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="未知的设置项"):
        load_settings(f, env={})
    with pytest.raises(SettingsError, match="找不到设置文件"):
        load_settings(tmp_path / "missing.toml", env={})


def test_settings_for_workers_behind_pgbouncer():
    """Issue 18: workers, the pooler flag and the direct address for migrations."""
    env = {
        "TOWNSHIP_COUNTY_DATABASE_URL": "postgresql://u@127.0.0.1:6432/db",
        "TOWNSHIP_COUNTY_SIGNING_KEY": "k" * 40,
    }
    s = load_settings(None, env=env)
    assert (s.workers, s.database_pooled, s.direct_url) == (
        1,
        False,
        env["TOWNSHIP_COUNTY_DATABASE_URL"],
    )
    s = load_settings(
        None,
        env={
            **env,
            "TOWNSHIP_COUNTY_WORKERS": "4",
            "TOWNSHIP_COUNTY_DATABASE_POOLED": "true",
            "TOWNSHIP_COUNTY_DATABASE_DIRECT_URL": "postgresql://u@127.0.0.1:5432/db",
        },
    )
    assert (s.workers, s.database_pooled, s.direct_url) == (
        4,
        True,
        "postgresql://u@127.0.0.1:5432/db",
    )
    with pytest.raises(SettingsError, match="工作进程数"):
        load_settings(None, env={**env, "TOWNSHIP_COUNTY_WORKERS": "0"})
    with pytest.raises(SettingsError, match="应为 true 或 false"):
        load_settings(None, env={**env, "TOWNSHIP_COUNTY_DATABASE_POOLED": "perhaps"})


def test_the_shipped_unit_and_settings_run_instances_on_one_port(tmp_path):
    """deploy/county: the systemd template runs `serve --reuse-port` with the shipped
    settings file, which leaves the count of processes to the instances; `--reuse-port`
    beside several workers is refused with a message, before anything is touched."""
    deploy = Path(__file__).resolve().parents[2] / "deploy" / "county"
    unit = (deploy / "township-county@.service").read_text(encoding="utf-8")
    (exec_start,) = [ln for ln in unit.splitlines() if ln.startswith("ExecStart=")]
    assert " serve --reuse-port" in exec_start and "--workers" not in exec_start
    s = load_settings(deploy / "county.toml", env={"TOWNSHIP_COUNTY_SIGNING_KEY": "k" * 40})
    assert (s.workers, s.database_pooled, s.host, s.port) == (1, True, "127.0.0.1", 8780)

    env = {
        **os.environ,
        "TOWNSHIP_COUNTY_DATABASE_URL": "postgresql://u@127.0.0.1:1/nowhere",
        "TOWNSHIP_COUNTY_SIGNING_KEY": "k" * 40,
    }
    r = subprocess.run(
        [sys.executable, "-m", "county.cli", "serve", "--reuse-port", "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and "多启动几个实例" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_admin_endpoints(two_points, county, make_id, person_payload):
    a, b = two_points
    cert = make_id(seq=121)
    pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
    a.push_ok([a.op("person.create", pa, person_payload(cert))])
    b.push_ok([b.op("person.create", pb, person_payload(cert))])
    ea, eb = str(uuid.uuid4()), str(uuid.uuid4())
    a.push_ok([a.op("enrollment.create", ea, {"person_id": pa, "year": 2025})])
    b.push_ok([b.op("enrollment.create", eb, {"person_id": pb, "year": 2025})])
    c = county.client
    h = {**county.H, **ADMIN}
    r = c.get("/api/v1/admin/conflicts", headers=h)
    assert r.status_code == 200
    # the identity of B's registration waits for the county too (issue 14)
    assert sorted(x["kind"] for x in r.json()) == ["double_enrollment", "identity_confirm"]
    (conf,) = [x for x in r.json() if x["kind"] == "double_enrollment"]
    assert conf["detail"]["winner"] == ea
    bad = c.post(
        f"/api/v1/admin/conflicts/{conf['id']}/resolve", headers=h, json={"decision": "accept"}
    )
    assert bad.status_code == 400 and "keep" in bad.json()["message"]
    bad = c.post(
        f"/api/v1/admin/conflicts/{conf['id']}/resolve",
        headers=h,
        json={"decision": "winner", "winner_id": "nope"},
    )
    assert bad.status_code == 400
    missing = c.post("/api/v1/admin/conflicts/none/resolve", headers=h, json={"decision": "keep"})
    assert missing.status_code == 404
    ok = c.post(
        f"/api/v1/admin/conflicts/{conf['id']}/resolve",
        headers=h,
        json={"decision": "winner", "winner_id": eb, "note": "居民要求在西乡参保"},
    )
    assert ok.status_code == 200, ok.text
    status = {
        x["id"]: x["conflict_status"]
        for x in county.sql("SELECT id, conflict_status FROM enrollment")
    }
    assert status == {ea: "lost", eb: "won"}
    again = c.post(
        f"/api/v1/admin/conflicts/{conf['id']}/resolve", headers=h, json={"decision": "keep"}
    )
    assert again.status_code == 409
    assert [x["kind"] for x in c.get("/api/v1/admin/conflicts", headers=h).json()] == [
        "identity_confirm"
    ]
    # notices at both points say it was decided
    for dev in (a, b):
        changes, _ = dev.pull_all()
        notes = {ch["id"]: ch["data"] for ch in changes if ch["entity"] == "notice"}
        dbl = [n for n in notes.values() if n["kind"] == sp.N_DOUBLE_ENROLLMENT]
        assert dbl[0]["status"] == "resolved" and "居民要求在西乡参保" in dbl[0]["message"]
    ev = c.get("/api/v1/admin/security-events", headers=h)
    assert ev.status_code == 200
    wrong = c.get("/api/v1/admin/conflicts", headers={**county.H, "Authorization": "Bearer wrong"})
    assert wrong.status_code == 403
