"""Each pull tells the county how the desk is doing (pending operations, the code of its
last failed sync) for the console's device list; real PostgreSQL, a real server killed."""

from __future__ import annotations

import pytest

from county import places
from desktop.services import registration
from desktop.services.demo import make_id
from desktop.sync import errors

pytestmark = pytest.mark.postgres


def test_pending_and_last_failure_reach_the_county(desks, county_server, mem_keyring):
    desk = desks("SP01", "东乡卫生院")
    desk.sync()
    row = places.list_devices(county_server.conn())[0]
    assert row["reported_pending"] == 0 and row["reported_error"] == ""
    registration.create_household(
        desk.store,
        desk.actor,
        {"village_id": desk.village(), "address": "一组"},
        [
            {
                "name": "张三",
                "cert_no": make_id("140121", "1970-01-01", 1, "male"),
                "relation": "head",
            }
        ],
    )
    county_server.kill()
    with pytest.raises(errors.Offline):
        desk.sync()
    county_server.start()
    desk.sync()
    row = places.list_devices(county_server.conn())[0]
    # reported at the start of the pull, after the push: nothing left, the last failure named
    assert row["reported_pending"] == 0 and row["reported_error"] == "E-SYNC-OFFLINE"
    desk.sync()
    assert places.list_devices(county_server.conn())[0]["reported_error"] == ""
