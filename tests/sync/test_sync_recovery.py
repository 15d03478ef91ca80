"""A replacement PC, end to end on the real PostgreSQL: the old PC escrowed its data
folder's key at its first sync; it dies with work the county never received; the county
issues a recovery code; on the new PC a supervisor brings the backup back, and the next
sync pushes the old PC's unsent work. Without the code the backup reads as nothing; a
wrong password or a used code restores nothing; the old PC's credential is dead."""

from __future__ import annotations

import io
import shutil

import keyring
import pytest

from county import places, sealing
from desktop.cli import main as cli_main
from desktop.services import backup, recovery, registration
from desktop.services import sync as svc
from desktop.services.demo import make_id
from desktop.store import StoreError, cipher, open_store
from desktop.store.db import DB_FILENAME
from desktop.sync import errors

pytestmark = pytest.mark.postgres


def _family(desk, name: str, n: int) -> None:
    registration.create_household(
        desk.store,
        desk.actor,
        {"village_id": desk.village(), "address": "一组"},
        [{"name": name, "cert_no": make_id("140121", "1970-01-01", n, "male"), "relation": "head"}],
    )


def _old_pc_dies(desk, tmp_path):
    """Sync once (escrow), work on, back up to a USB stick, then lose the PC: its data folder
    and its keys are gone."""
    _family(desk, "张三", 1)
    desk.sync()
    _family(desk, "李四", 2)  # never reaches the county from the old PC
    info = backup.create_backup(desk.store, desk.data_dir, kind="manual")
    usb = tmp_path / "usb"
    usb.mkdir()
    stick = backup.export_backup(info.path, usb)
    desk.store.close()
    folder = cipher.folder_id(desk.data_dir, create=False)
    keyring.delete_password("township-desk", cipher.key_name(folder))
    cipher.forget_all()
    shutil.rmtree(desk.data_dir)
    return stick, folder


def test_a_replacement_pc_is_brought_back_by_a_supervisor_with_the_county(
    desks, county_server, mem_keyring, tmp_path, monkeypatch, capsys
):
    desk = desks("SP01", "东乡卫生院")
    old_device = desk.device_id
    stick, folder = _old_pc_dies(desk, tmp_path)
    old_cred = mem_keyring.items[("township-desk", f"device:{old_device}")]
    escrow = county_server.sql("SELECT escrow_folder, escrow_key FROM device")[0]
    assert escrow["escrow_folder"] == folder and sealing.is_sealed(escrow["escrow_key"])

    # a stranger with the USB stick and no code reads nothing
    with pytest.raises(StoreError):
        cipher.open_file(stick)

    with county_server.conn() as c, c.transaction():
        code = places.issue_recovery_code(c, old_device)["code"]
    new_dir = tmp_path / "new-pc"
    # a wrong supervisor password restores nothing and leaves nothing behind
    with pytest.raises(PermissionError):
        recovery.recover(
            new_dir,
            server_url=county_server.url,
            code=code,
            backup=stick,
            username="admin",
            password="wrong",
        )
    assert not (new_dir / DB_FILENAME).exists() and not (new_dir / cipher.ID_FILENAME).exists()
    # the code was spent by that try: the county issues another; the CLI does the rest
    with county_server.conn() as c, c.transaction():
        code = places.issue_recovery_code(c, old_device)["code"]
    monkeypatch.setattr("sys.stdin", io.StringIO("admin123\n"))
    rc = cli_main(
        [
            "--data-dir",
            str(new_dir),
            "recover",
            "--server",
            county_server.url,
            "--code",
            code,
            "--backup",
            str(stick),
            "--user",
            "admin",
            "--password-stdin",
        ]
    )
    out, err = capsys.readouterr()
    assert rc == 0 and "恢复完成" in out and "参保人 2 人" in out, out + err

    store = open_store(new_dir)
    try:
        assert st_pending(store) >= 2
        actor = svc.actor_by_username(store, "admin")
        summary = svc.run_sync(store, new_dir, actor)
        assert summary.pending == 0
        names = {r["name"] for r in county_server.sql("SELECT data->>'name' AS name FROM person")}
        assert names == {"张三", "李四"}
        audit = store.query("SELECT action FROM audit_log WHERE action = 'store.recovered'")
        assert len(audit) == 1
    finally:
        store.close()

    # the old PC's credential is dead; a used code is refused
    from core import syncproto as sp
    from desktop.sync.transport import HttpStatus, Transport

    t = Transport(county_server.url)
    with pytest.raises(HttpStatus) as refused:
        t.post(sp.EP_TOKEN, sp.TokenRequest(old_cred, "x").as_dict())
    assert refused.value.status == 401
    with pytest.raises(errors.RegistrationFailed):
        recovery.recover(
            tmp_path / "third",
            server_url=county_server.url,
            code=code,
            backup=stick,
            username="admin",
            password="admin123",
        )
    kinds = [r["kind"] for r in county_server.sql("SELECT kind FROM security_event")]
    assert "recovery_code_issued" in kinds and "device_recovered" in kinds


def st_pending(store) -> int:
    from desktop.store import syncstate

    return syncstate.pending_count(store)


def test_no_recovery_code_for_a_device_that_never_escrowed(county_server, mem_keyring):
    from county.tables import AdminError

    county_server.service_point("SP01", "东乡卫生院")
    with county_server.conn() as c, c.transaction():
        c.execute(
            "INSERT INTO device(id, service_point_id, secret_sha256)"
            " SELECT 'dev-x', id, 'x' FROM service_point"
        )
    with county_server.conn() as c, c.transaction(), pytest.raises(AdminError, match="托管"):
        places.issue_recovery_code(c, "dev-x")


@pytest.mark.parametrize(
    ("server", "code", "field", "words"),
    [
        ("https://ybj.example.gov.cn", "7KQM-X2PD-9TZ", "code", "恢复码是12位"),
        ("https://ybj.example.gov.cn", "7KQM-X2PD-9TZ0", "code", "没有0"),
        ("http://ybj.example.gov.cn", "7KQM-X2PD-9TZR", "server", "https://"),
    ],
)
def test_a_slip_in_the_address_or_the_code_is_said_before_the_code_is_spent(
    tmp_path, server, code, field, words
):
    """Checked on the new PC before the county is asked (nothing listens at these
    addresses: reaching out would fail differently); nothing is left in the folder."""
    from core.errors import ValidationError

    stick = tmp_path / "backup.sqlite3"
    stick.write_bytes(b"not opened before the code is checked")
    new_dir = tmp_path / "new"
    with pytest.raises(ValidationError) as e:
        recovery.recover(
            new_dir, server_url=server, code=code, backup=stick, username="admin", password="x"
        )
    assert list(e.value.errors) == [field] and words in e.value.errors[field]
    assert not new_dir.exists() or not any(new_dir.iterdir())
