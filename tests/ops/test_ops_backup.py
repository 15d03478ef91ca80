"""Backups: online copy, rotation, daily schedule, supervisor restore, start-up check."""

from __future__ import annotations

import os
from datetime import datetime, timedelta

import pytest

from desktop.services import backup
from desktop.services.context import PermissionDenied
from desktop.store import cipher, open_store
from desktop.store.journal import verify_audit


def test_backup_is_a_checked_copy_made_while_the_store_is_open(store, admin, people, data_dir, ops):
    info = backup.create_backup(store, data_dir, kind="auto")
    assert info.path.parent == data_dir / "backups"
    assert info.path.name.startswith("desk-") and info.path.name.endswith("-auto.sqlite3")
    assert backup.check_database(info.path) == []
    assert not info.path.with_name(info.path.name + "-wal").exists()  # single self-contained file
    assert ops.dump(info.path) == ops.dump(store.conn)
    assert not list((data_dir / "backups").glob("*.partial"))


def test_backup_now_needs_a_supervisor_and_is_audited(store, admin, clerk, data_dir):
    with pytest.raises(PermissionDenied):
        backup.backup_now(store, clerk, data_dir)
    assert backup.list_backups(data_dir) == []
    info = backup.backup_now(store, admin, data_dir)
    assert info.kind == "manual"
    row = store.query_one("SELECT * FROM audit_log WHERE action = 'backup.create'")
    assert row["operator_id"] == admin.operator_id and row["entity_id"] == info.path.name


def test_rotation_keeps_the_newest_fourteen(store, admin, data_dir):
    start = datetime(2026, 1, 1, 8, 0, 0)
    made = [
        backup.create_backup(store, data_dir, kind="auto", now=start + timedelta(days=i))
        for i in range(17)
    ]
    kept = backup.list_backups(data_dir)
    assert len(kept) == backup.KEEP == 14
    assert [b.path for b in kept] == [b.path for b in reversed(made[3:])]
    assert all(not b.path.exists() for b in made[:3])
    # a leftover .partial of a cut-off backup is swept away, never listed
    (data_dir / "backups" / "desk-20260201-080000-auto.sqlite3.partial").write_bytes(b"half")
    assert backup.rotate(data_dir)[-1].name.endswith(".partial")


def test_daily_backup_runs_once_a_day(store, admin, data_dir):
    day1 = datetime(2026, 3, 1, 9, 0, 0)
    assert backup.auto_backup(store, data_dir, now=day1) is not None
    assert backup.auto_backup(store, data_dir, now=day1 + timedelta(hours=5)) is None
    assert backup.auto_backup(store, data_dir, now=day1 + timedelta(days=1)) is not None
    assert len(backup.list_backups(data_dir)) == 2


def test_round_trip_restore_brings_back_the_backup_and_keeps_the_current_store_aside(
    store, admin, clerk, people, data_dir, ops
):
    info = backup.backup_now(store, admin, data_dir)
    held = ops.dump(info.path)
    later = ops.add_people(store, admin, ["赵六"], village="西村")
    before_restore = ops.dump(store.conn)
    with pytest.raises(PermissionDenied):
        backup.restore_backup(store, clerk, info.path, data_dir)
    assert ops.dump(store.conn) == before_restore  # refused: nothing changed

    result = backup.restore_backup(store, admin, info.path, data_dir)
    now = ops.dump(store.conn)
    for table, rows in held.items():
        if table == "audit_log":
            assert now[table][: len(rows)] == rows
        else:
            assert now[table] == rows, table
    assert store.query_one("SELECT 1 AS x FROM person WHERE id = ?", (later[0],)) is None
    # the store as it was before the restore is kept aside, whole
    (aside,) = result.set_aside
    assert aside.parent == data_dir / "set-aside"
    assert ops.dump(aside) == before_restore
    # the restore itself is audited and the hash chain still verifies
    last = store.query_one("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert last["action"] == "store.restore" and last["operator_id"] == admin.operator_id
    assert verify_audit(store.db) == []
    assert store.integrity_ok()
    assert store.query_one("PRAGMA journal_mode")["journal_mode"] == "wal"
    # the store keeps working after the restore, and survives a reopen
    ops.add_people(store, admin, ["孙七"])
    store.close()
    again = open_store(data_dir)
    assert again.query_one("SELECT COUNT(*) AS n FROM person")["n"] == len(people) + 1
    again.close()


def test_a_damaged_backup_is_refused_and_the_store_is_untouched(
    store, admin, people, data_dir, ops
):
    info = backup.create_backup(store, data_dir)
    ops.corrupt(info.path)
    assert backup.check_database(info.path) != []
    before = ops.dump(store.conn)
    with pytest.raises(backup.BackupError) as e:
        backup.restore_backup(store, admin, info.path, data_dir)
    assert "损坏" in str(e.value) and e.value.code == "BACKUP-004"
    assert ops.dump(store.conn) == before
    assert not (data_dir / "set-aside").exists()


def test_a_backup_with_a_tampered_audit_log_is_refused(store, admin, people, data_dir):
    info = backup.create_backup(store, data_dir)
    conn = cipher.open_file(info.path, read_only=False)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET detail = '{}' WHERE seq = 2")
    conn.commit()
    conn.close()
    assert any("audit" in p for p in backup.check_database(info.path))
    with pytest.raises(backup.BackupError):
        backup.restore_backup(store, admin, info.path, data_dir)


def test_a_backup_of_another_service_point_is_refused(tmp_path, store, admin, data_dir):
    from desktop.services.setup import ServicePointInput, run_setup

    other_dir = tmp_path / "other"
    other = open_store(other_dir)
    run_setup(
        other,
        ServicePointInput(
            name="别的乡卫生院", region_code="140122", code="SP02", villages=["北村"]
        ),
        admin_username="boss",
        admin_name="赵主管",
        admin_password="boss1234",
    )
    info = backup.create_backup(other, other_dir)
    other.close()
    with pytest.raises(backup.BackupError) as e:
        backup.restore_backup(store, admin, info.path, data_dir)
    assert e.value.code == "BACKUP-005"


def test_startup_check_passes_a_sound_store_and_a_new_one(tmp_path, store, admin, data_dir):
    assert backup.startup_check(tmp_path / "empty").new_store
    store.close()
    check = backup.startup_check(data_dir)
    assert check.ok and not check.new_store and check.message == ""


def test_corrupted_store_is_detected_at_startup_and_restored_from_the_last_backup(
    store, admin, people, data_dir, ops
):
    backup.create_backup(store, data_dir, now=datetime.now() - timedelta(days=2))
    newest = backup.create_backup(store, data_dir, now=datetime.now() - timedelta(days=1))
    held = ops.dump(newest.path)
    store.close()
    db_path = data_dir / "desk.sqlite3"
    assert not db_path.with_name("desk.sqlite3-wal").exists()  # checkpointed on close
    ops.corrupt(db_path)

    check = backup.startup_check(data_dir)
    assert not check.ok
    assert check.code == "E-STORE-002"
    assert "损坏" in check.message and newest.label in check.message
    assert check.last_good == newest
    assert check.detail  # what integrity_check said, for the log

    with pytest.raises(PermissionError):
        backup.restore_at_startup(data_dir, newest.path, username="admin", password="wrong")
    assert backup.startup_check(data_dir).ok is False  # nothing moved on a refused password

    result = backup.restore_at_startup(data_dir, newest.path, username="admin", password="admin123")
    assert [p.name.endswith("-damaged.sqlite3") for p in result.set_aside][0]
    assert result.set_aside[0].read_bytes()[2 * 4096 : 2 * 4096 + 2] == b"\xa5\x5a"  # kept as found
    check = backup.startup_check(data_dir)
    assert check.ok
    restored = open_store(data_dir)
    now = ops.dump(restored.conn)
    for table, rows in held.items():  # nothing the backup held is lost
        if table == "audit_log":
            assert now[table][: len(rows)] == rows
        else:
            assert now[table] == rows, table
    last = restored.query_one("SELECT * FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert last["action"] == "store.restore" and last["operator_id"] == admin.operator_id
    assert verify_audit(restored.db) == []
    restored.close()


def test_startup_skips_a_damaged_newest_backup_and_offers_the_one_before(
    store, admin, people, data_dir, ops
):
    good = backup.create_backup(store, data_dir, now=datetime.now() - timedelta(days=2))
    bad = backup.create_backup(store, data_dir, now=datetime.now() - timedelta(days=1))
    ops.corrupt(bad.path)
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3")
    check = backup.startup_check(data_dir)
    assert not check.ok and check.last_good == good
    assert [b.path for b in check.backups] == [bad.path, good.path]


def test_damaged_store_without_backups_says_to_call_the_county(store, admin, data_dir, ops):
    store.close()
    ops.corrupt(data_dir / "desk.sqlite3", first_page=1)
    check = backup.startup_check(data_dir)
    assert not check.ok and check.last_good is None
    assert "没有可用的备份" in check.message


def test_a_file_that_is_not_a_database_is_reported(data_dir):
    (data_dir / "desk.sqlite3").write_bytes(os.urandom(8192))
    check = backup.startup_check(data_dir)
    assert not check.ok and "database" in check.detail.lower()


def _take(store, admin, n):
    from desktop.store.numbering import take_receipt_no

    out = []
    for _ in range(n):
        with store.write():
            out.append(
                take_receipt_no(
                    store, operator_id=admin.operator_id, entity="payment", entity_id=None
                )
            )
    return out


@pytest.mark.parametrize("how", ["supervisor", "startup"])
def test_receipt_numbers_are_never_reused_after_a_restore(store, admin, data_dir, ops, how):
    pytest.importorskip("desktop.store.numbering")
    first = _take(store, admin, 2)
    info = backup.create_backup(store, data_dir)
    issued_after_backup = _take(store, admin, 3)
    if how == "supervisor":
        backup.restore_backup(store, admin, info.path, data_dir)
        s = store
    else:
        store.close()
        ops.corrupt(data_dir / "desk.sqlite3")
        backup.restore_at_startup(data_dir, info.path, username="admin", password="admin123")
        s = open_store(data_dir)
    (nxt,) = _take(s, admin, 1)
    assert nxt not in first + issued_after_backup
    assert nxt > max(issued_after_backup)  # same scope, zero-padded: text order = number order
    skipped = s.query_one("SELECT detail FROM audit_log WHERE action = 'receipt.numbers_skipped'")
    assert skipped is not None and issued_after_backup[0] in skipped["detail"]
    if s is not store:
        s.close()


def test_a_backup_from_a_newer_version_is_refused(store, admin, people, data_dir, ops):
    info = backup.create_backup(store, data_dir)
    conn = cipher.open_file(info.path, read_only=False)
    conn.execute(
        "INSERT INTO _sqlite_migrations(migration_set, name, applied_at)"
        " VALUES ('township-desktop', '9999_from_the_future', '2030-01-01')"
    )
    conn.commit()
    conn.close()
    before = ops.dump(store.conn)
    with pytest.raises(backup.BackupError) as e:
        backup.restore_backup(store, admin, info.path, data_dir)
    assert e.value.code == "BACKUP-010" and "更新版本" in str(e.value)
    assert ops.dump(store.conn) == before


def test_export_to_a_usb_stick_and_restore_from_it(tmp_path, store, admin, people, data_dir, ops):
    info = backup.create_backup(store, data_dir)
    usb = tmp_path / "usb"
    usb.mkdir()
    copy = backup.export_backup(info.path, usb)
    again = backup.export_backup(info.path, usb)  # never overwrites
    assert copy.name == info.path.name and again != copy
    assert ops.dump(copy) == ops.dump(info.path)
    assert not list(usb.glob("*.partial"))
    with pytest.raises(backup.BackupError):
        backup.export_backup(info.path, tmp_path / "no-such-stick")
    ops.add_people(store, admin, ["赵六"])
    backup.restore_backup(store, admin, copy, data_dir)
    assert store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == len(people)
