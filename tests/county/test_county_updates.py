"""The county's side of application updates (issue 17): which version each service point
may install (everyone, a pilot, held back, back to the rule for everyone) reaches each desk
with its pull; a desk of the version before — no update fields in its status, the old
reading of the pull answer — keeps working; what desks say of their version and update is
kept and listed; the command line does the same; a broken copy of a release is refused at
import; the files are served with Range, and nothing outside the updates folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core import syncproto as sp
from county import cli, updates
from county.app import create_app
from county.places import list_devices
from county.settings import Settings
from tests.county.conftest import SIGNING_KEY


def _pull(county, device, status: dict | None = None):
    body = {"cursor": sp.empty_cursor(), **({"desk_status": status} if status else {})}
    r = county.post(sp.EP_PULL, body, device.token)
    assert r.status_code == 200, r.text
    return r.json()


def _release(folder: Path, versions=("0.2.0",)) -> Path:
    """A repository as the release process leaves it (files listed with length and SHA-256
    in targets.json; the signatures are the desks' business, not the county's)."""
    (folder / "metadata").mkdir(parents=True)
    (folder / "targets").mkdir()
    listed = {}
    for v in versions:
        data = f"archive {v}".encode() * 1000
        name = f"township-desk-{v}.tar.gz"
        (folder / "targets" / name).write_bytes(data)
        listed[name] = {"length": len(data), "hashes": {"sha256": hashlib.sha256(data).hexdigest()}}
    for role in updates.ROLES:
        doc = {"signed": {"targets": listed} if role == "targets" else {}, "signatures": []}
        (folder / "metadata" / f"{role}.json").write_text(json.dumps(doc))
    return folder


@pytest.fixture
def offered(county, two_points, tmp_path):
    with county.conn() as c, c.transaction():
        updates.import_repository(
            c, tmp_path / "served", _release(tmp_path / "rel", ("0.2.0", "0.3.0"))
        )
    return two_points


def _offer(county, version, codes=None):
    with county.conn() as c, c.transaction():
        updates.set_offer(c, version, codes, "test")


def test_offers_reach_each_point_with_its_pull(county, offered):
    a, b = offered
    assert _pull(county, a)["update"] is None  # nothing offered yet: stay
    _offer(county, "0.2.0")
    assert _pull(county, a)["update"] == _pull(county, b)["update"] == {"version": "0.2.0"}
    _offer(county, "0.3.0", ["SP01"])  # a pilot goes first
    assert _pull(county, a)["update"] == {"version": "0.3.0"}
    assert _pull(county, b)["update"] == {"version": "0.2.0"}
    _offer(county, None)  # everyone else held back
    assert _pull(county, b)["update"] is None and _pull(county, a)["update"]["version"] == "0.3.0"
    with county.conn() as c, c.transaction():
        updates.clear_offer(c, ["SP01"])
    assert _pull(county, a)["update"] is None  # follows the rule for everyone again
    with pytest.raises(updates.UpdateError, match="没有 0.9.0 版"):
        _offer(county, "0.9.0")
    with pytest.raises(updates.UpdateError, match="没有这些服务点：SP09"):
        _offer(county, "0.2.0", ["SP09"])


def test_a_desk_of_the_version_before_keeps_working(county, offered):
    a, _ = offered
    _offer(county, "0.2.0")
    doc = _pull(county, a, {"pending": 3, "last_error": ""})  # no app_version, no update

    def old_reading(d: dict) -> tuple:  # PullResponse.from_dict before issue 17
        return (
            [sp.Change.from_dict(c) for c in d["changes"]],
            {k: int(v) for k, v in d["next_cursor"].items()},
            bool(d["has_more"]),
        )

    changes, cursor, more = old_reading(doc)
    assert set(cursor) == set(sp.STREAMS) and more is False
    row = county.sql("SELECT reported_pending, reported_update FROM device WHERE id = %s",
                     (a.reg["device_id"],))[0]  # fmt: skip
    assert row == {"reported_pending": 3, "reported_update": ""}


def test_what_desks_say_is_kept_listed_and_checked(county, offered):
    a, b = offered
    _pull(
        county,
        a,
        {"pending": 0, "last_error": "", "app_version": "0.2.0", "update": "installed:0.2.0"},
    )
    _pull(
        county,
        b,
        {"pending": 0, "last_error": "", "app_version": "0.1.0", "update": "rolled_back:0.2.0"},
    )
    with county.conn() as c:
        listed = {d["sp_code"]: d for d in list_devices(c)}
        o = updates.overview(c)
    assert (
        listed["SP01"]["app_version"] == "0.2.0"
        and listed["SP01"]["update_state"] == "已安装 0.2.0"
    )
    assert listed["SP02"]["update_state"] == "自检失败，已退回原版本 0.2.0"
    assert [(d["app_version"], d["n"]) for d in o["desks"]] == [("0.2.0", 1), ("0.1.0", 1)]
    for bad in ("staged:0.2.0;DROP TABLE device", "<script>:1", "x" * 61):
        r = county.post(
            sp.EP_PULL,
            {"cursor": sp.empty_cursor(), "desk_status": {"pending": 0, "update": bad}},
            a.token,
        )
        assert r.status_code == 422, bad


def test_the_command_line(county, two_points, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TOWNSHIP_COUNTY_DATABASE_URL", county.dsn)
    monkeypatch.setenv("TOWNSHIP_COUNTY_SIGNING_KEY", SIGNING_KEY)
    monkeypatch.setenv("TOWNSHIP_COUNTY_UPDATES_DIR", str(tmp_path / "served"))
    rel = _release(tmp_path / "rel")
    assert cli.main(["updates", "import", str(rel)]) == 0
    assert "0.2.0" in capsys.readouterr().out
    assert cli.main(["updates", "offer", "--version", "0.2.0", "--service-points", "SP01"]) == 0
    assert "东乡卫生院：可升级到 0.2.0 版" in capsys.readouterr().out
    assert cli.main(["updates", "offer", "--hold"]) == 0
    assert cli.main(["updates", "status"]) == 0
    out = capsys.readouterr().out
    assert "全部服务点：暂不升级" in out and "东乡卫生院（SP01）：可升级到 0.2.0" in out
    assert cli.main(["updates", "offer", "--version", "9.9.9"]) == 2
    assert "没有 9.9.9 版" in capsys.readouterr().err


def test_a_broken_copy_is_refused_at_import_and_nothing_recorded(county, tmp_path):
    rel = _release(tmp_path / "rel")
    p = rel / "targets" / "township-desk-0.2.0.tar.gz"
    p.write_bytes(p.read_bytes()[:-10])  # cut short on the USB stick
    with county.conn() as c, c.transaction(), pytest.raises(updates.UpdateError, match="大小"):
        updates.import_repository(c, tmp_path / "served", rel)
    assert county.sql("SELECT count(*) AS n FROM update_release")[0]["n"] == 0
    assert not (tmp_path / "served").exists()


def test_files_are_served_with_range_and_nothing_else(county, tmp_path):
    served = tmp_path / "served"
    with county.conn() as c, c.transaction():
        updates.import_repository(c, served, _release(tmp_path / "rel"))
    (tmp_path / "secret.txt").write_text("not for desks")
    app = create_app(Settings(database_url=county.dsn, signing_key=SIGNING_KEY,
                              updates_dir=str(served)))  # fmt: skip
    H = {sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION)}
    with TestClient(app) as client:
        url = sp.EP_UPDATES + "/targets/township-desk-0.2.0.tar.gz"
        whole = client.get(url, headers=H)
        assert whole.status_code == 200 and whole.content.startswith(b"archive 0.2.0")
        part = client.get(url, headers={**H, "Range": "bytes=100-"})
        assert part.status_code == 206 and part.content == whole.content[100:]
        assert client.get(sp.EP_UPDATES + "/metadata/timestamp.json", headers=H).status_code == 200
        for bad in ("..%2Fsecret.txt", "..%2F..%2Fsecret.txt", ".hidden", "a%00b"):
            assert client.get(sp.EP_UPDATES + "/targets/" + bad, headers=H).status_code == 404


def test_the_console_page_lists_and_offers_by_role(county, offered):
    from county.console.auth import create_staff

    a, b = offered
    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李管理", "admin", "admin-pass-1")
        create_staff(c, "case", "王经办", "clerk", "clerk-pass-1")
        create_staff(c, "look", "赵科员", "viewer", "viewer-pass-1")
    _pull(
        county,
        a,
        {"pending": 0, "last_error": "", "app_version": "0.1.0", "update": "staged:0.2.0"},
    )
    page, csrf = county.console_login("boss", "admin-pass-1", then="/console/updates")
    assert page.status_code == 200 and "0.3.0" in page.text and "还没有安排" in page.text
    assert "已下载，待重启安装 0.2.0" in page.text  # what the desk said, in words
    form = {"csrf": csrf, "what": "offer", "version": "0.3.0", "point": ["SP01"]}
    r = county.client.post("/console/updates/offer", data=form)
    assert r.status_code == 200 and "安排已保存" in r.text
    offers = r.text[r.text.index('id="offers"') :]
    assert "东乡卫生院（SP01）</td>\n      <td>0.3.0" in offers
    assert _pull(county, a)["update"] == {"version": "0.3.0"} and _pull(county, b)["update"] is None
    r = county.client.post(
        "/console/updates/offer", data={"csrf": csrf, "what": "offer", "version": "7.0.0"}
    )
    assert "没有 7.0.0 版" in r.text and _pull(county, b)["update"] is None  # nothing written
    r = county.client.post("/console/updates/offer", data={"what": "hold"})  # no CSRF token
    assert r.status_code in (400, 403)
    assert county.sql("SELECT count(*) AS n FROM update_offer")[0]["n"] == 1
    audit = county.sql("SELECT action FROM staff_audit ORDER BY id")
    assert [r["action"] for r in audit if r["action"].startswith("update.")] == ["update.offer"]
    page, csrf = county.console_login("case", "clerk-pass-1", then="/console/updates")
    assert page.status_code == 200 and 'id="offer"' not in page.text  # a clerk only looks
    r = county.client.post("/console/updates/offer", data={"csrf": csrf, "what": "hold"})
    assert r.status_code == 403
    page, _ = county.console_login("look", "viewer-pass-1", then="/console/updates")
    assert page.status_code == 403


def test_a_provinces_update_pilot_by_county_and_code(county, offered):
    """Past 60 service points the 程序更新 form offers whole counties and typed codes instead
    of a box each; a hold for one county reaches exactly its points."""
    from county.console.auth import create_staff

    with county.conn() as c, c.transaction():
        create_staff(c, "boss", "李管理", "admin", "admin-pass-1")
    county.many_points(80, second_county_from=71)
    page, csrf = county.console_login("boss", "admin-pass-1", then="/console/updates")
    assert 'id="pointpick"' in page.text and 'type="checkbox"' not in page.text
    form = {"csrf": csrf, "what": "hold", "pick_region": ["140122"], "pick_codes": "SP9"}
    assert "没有这些服务点编码：SP9" in county.client.post("/console/updates/offer", data=form).text
    assert county.sql("SELECT count(*) AS n FROM update_offer")[0]["n"] == 0
    form["pick_codes"] = "SP01"
    assert "安排已保存" in county.client.post("/console/updates/offer", data=form).text
    held = county.sql(
        "SELECT sp.code FROM update_offer o JOIN service_point sp ON sp.id = o.scope"
        " WHERE o.version IS NULL ORDER BY sp.code"
    )
    assert [h["code"] for h in held] == [*[f"P{n:04d}" for n in range(71, 81)], "SP01"]
