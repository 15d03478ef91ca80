"""Remote disable end to end on the real PostgreSQL: the county disables a PC (reported
lost); at its next contact the PC pushes what the county does not hold yet, erases its keys
and copies, tells the county, and says so; after the app closes nothing of the store is
left, and a power cut in between is finished at the next start."""

from __future__ import annotations

import keyring
import pytest

from county import places
from desktop.services import backup, registration
from desktop.services import wipe as wipe_service
from desktop.services.demo import make_id
from desktop.store import StoreError, cipher, open_store
from desktop.store.db import DB_FILENAME
from desktop.sync import errors

pytestmark = pytest.mark.postgres


def _family(desk, name: str, n: int) -> str:
    result = registration.create_household(
        desk.store,
        desk.actor,
        {"village_id": desk.village(), "address": "一组"},
        [{"name": name, "cert_no": make_id("140121", "1970-01-01", n, "male"), "relation": "head"}],
    )
    return result.person_ids[0]


def _secrets(data_dir) -> list[str]:
    folder = cipher.folder_id(data_dir, create=False)
    kr = keyring.get_keyring()
    found = []
    for (service, name), _v in getattr(kr, "items", {}).items():
        if service == "township-desk" and (
            folder in name or name.startswith(("device:", "token:"))
        ):
            found.append(name)
    if folder and keyring.get_password("township-desk", cipher.key_name(folder)):
        found.append(cipher.key_name(folder))
    return found


def test_a_disabled_desk_pushes_its_pending_work_then_erases_itself(
    desks, county_server, mem_keyring
):
    desk = desks("SP01", "东乡卫生院")
    _family(desk, "张三", 1)
    desk.sync()  # a token is cached: the next contact starts with the push
    late = _family(desk, "李四", 2)  # recorded after the last sync: not at the county yet
    backup.create_backup(desk.store, desk.data_dir, kind="manual")
    from desktop.services import receipts

    receipts.mac_key(desk.store)
    assert _secrets(desk.data_dir)

    with county_server.conn() as c, c.transaction():
        places.disable_device(c, desk.device_id, "lost")
    with pytest.raises(errors.DeviceDisabled) as e:
        desk.sync()
    assert "已全部上传到县里" in e.value.message and "已清除" in e.value.message

    # the county holds everything the desk had, and knows the desk erased itself
    names = {r["name"] for r in county_server.sql("SELECT data->>'name' AS name FROM person")}
    assert names == {"张三", "李四"}
    assert county_server.sql("SELECT id FROM person WHERE id = %s", (late,))
    row = county_server.sql(
        "SELECT disabled_at, wiped_at, revoked_at FROM device WHERE id = %s", (desk.device_id,)
    )[0]
    assert row["wiped_at"] and row["revoked_at"]
    kinds = [r["kind"] for r in county_server.sql("SELECT kind FROM security_event")]
    assert "device_disabled" in kinds and "device_wiped" in kinds
    listed = {d["id"]: d["state"] for d in places.list_devices(county_server.conn())}
    assert listed[desk.device_id] == "已清除"

    # the desk: no key, no credential, no copies; the store file goes when it is closed
    assert _secrets(desk.data_dir) == []
    assert not (desk.data_dir / "backups").exists()
    assert (desk.data_dir / DB_FILENAME).exists()
    desk.store.close()
    wipe_service.finish(desk.data_dir)
    assert not (desk.data_dir / DB_FILENAME).exists()
    assert not (desk.data_dir / cipher.ID_FILENAME).exists()
    check = backup.startup_check(desk.data_dir)
    assert not check.ok and check.code == "E-STORE-WIPED" and "已被县医保局停用" in check.message
    with pytest.raises(StoreError) as opened:
        open_store(desk.data_dir)
    assert opened.value.code == "STORE-WIPED"
    desk.store = open_store(desk.data_dir / "elsewhere")  # for the fixture's close()


def test_a_power_cut_after_the_erase_is_finished_at_the_next_start(
    desks, county_server, mem_keyring
):
    desk = desks("SP01", "东乡卫生院")
    _family(desk, "王五", 3)
    with county_server.conn() as c, c.transaction():
        places.disable_device(c, desk.device_id, "retired")
    with pytest.raises(errors.DeviceDisabled):
        desk.sync()
    desk.store.close()  # the power goes before the app removed the store file
    assert (desk.data_dir / DB_FILENAME).exists()
    with pytest.raises(StoreError):
        open_store(desk.data_dir)  # the next start: the erase is finished first
    assert not (desk.data_dir / DB_FILENAME).exists()
    assert [r["name"] for r in county_server.sql("SELECT data->>'name' AS name FROM person")] == [
        "王五"
    ]
    desk.store = open_store(desk.data_dir / "elsewhere")


def test_a_disabled_desk_reads_nothing_more(desks, county_server, mem_keyring):
    import httpx

    from core import syncproto as sp

    desk = desks("SP01", "东乡卫生院")
    desk.sync()
    with county_server.conn() as c, c.transaction():
        places.disable_device(c, desk.device_id, "lost")
    folder = cipher.folder_id(desk.data_dir, create=False)
    assert folder
    token = keyring.get_password("township-desk", f"token:{desk.device_id}").split("|", 2)[2]
    r = httpx.post(
        county_server.url + sp.EP_PULL,
        json={"cursor": sp.empty_cursor(), "limit": 10},
        headers={"Authorization": f"Bearer {token}", sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION)},
    )
    assert r.status_code == 403 and r.json()["code"] == sp.ERR_DEVICE_DISABLED
