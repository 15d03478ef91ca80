"""A policy file published to chosen service points (a pilot) reaches those points' desks
only — through a pull and through a new desk's first sync — and publishing it to every
point afterwards brings all desks to one file; real PostgreSQL, real desks."""

from __future__ import annotations

import pytest

from county import admin
from desktop import paths
from desktop.store import syncstate as st
from tests.sync.sync_checks import county_checksum

pytestmark = pytest.mark.postgres

SHIPPED = paths.resource("policies", "national-2025.toml").read_text(encoding="utf-8")


def _variant(n: int) -> str:
    """The shipped file under another title (a new version of the same policy)."""
    assert 'title = "' in SHIPPED
    return SHIPPED.replace('title = "', f'title = "（第{n}稿）', 1)


def _installed(desk) -> str | None:
    f = desk.data_dir / "policies" / "national-2025.toml"
    return f.read_text(encoding="utf-8") if f.exists() else None


def _publish(county_server, text: str, points=None) -> dict:
    with county_server.conn() as c, c.transaction():
        return admin.publish_policy_text(c, text, "national-2025.toml", by="test", points=points)


def test_a_pilot_reaches_the_chosen_points_only(desks, county_server):
    west = desks("SP02", "西乡卫生院")
    west.sync()
    assert _publish(county_server, _variant(1))["version"] == 1  # every point
    pilot = _publish(county_server, _variant(2), points=["SP01"])
    assert pilot == {"id": "national-2025", "version": 2, "changed": True}
    assert _publish(county_server, _variant(2), points=["SP01"])["changed"] is False

    east = desks("SP01", "东乡卫生院")  # a new desk at the pilot point: its first sync
    east.sync()
    west.sync()
    assert _installed(east) == _variant(2)
    assert _installed(west) == _variant(1)

    _publish(county_server, _variant(3), points=["SP01"])  # a second round: by pull
    east.sync()
    west.sync()
    assert _installed(east) == _variant(3) and _installed(west) == _variant(1)
    for desk in (east, west):
        assert st.mirror_checksum(desk.store) == county_checksum(county_server, desk.sp_id)

    done = _publish(county_server, _variant(4))  # to every point: the pilot ends
    assert done["version"] == 4  # newer than every pilot the desks hold
    east.sync()
    west.sync()
    assert _installed(east) == _installed(west) == _variant(4)
    assert county_server.sql("SELECT count(*) AS n FROM policy_pilot")[0]["n"] == 0
    hist = county_server.sql("SELECT version, sp_names FROM policy_history ORDER BY version")
    assert [h["sp_names"] for h in hist] == [None, ["东乡卫生院"], ["东乡卫生院"], None]


def test_unknown_or_no_points_are_refused(desks, county_server):
    from county.tables import AdminError

    with pytest.raises(AdminError, match="没有这些服务点编码：SP99"):
        _publish(county_server, _variant(1), points=["SP01", "SP99"])
    with pytest.raises(AdminError, match="请至少选择一个服务点"):
        _publish(county_server, _variant(1), points=[" "])
    assert (
        county_server.sql("SELECT count(*) AS n FROM change_log WHERE entity = 'policy'")[0]["n"]
        == 0
    )
