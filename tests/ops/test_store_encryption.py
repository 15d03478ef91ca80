"""The store, its backups and exported backups are encrypted (SQLCipher, the data folder's
key in the OS credential store): neither the ``sqlite3`` program nor Python's ``sqlite3``
reads them, the app does; a plain store of an older version is encrypted in place at the
first start without losing a row, also when the process is killed in the middle."""

from __future__ import annotations

import os
import random
import shutil
import sqlite3 as stdlib_sqlite3  # what a thief with the disk would use
import subprocess
import sys
import time
from pathlib import Path

import keyring
import pytest

from desktop.services import backup
from desktop.store import StoreError, cipher, journal, open_store
from desktop.store.db import DB_FILENAME

ROOT = Path(__file__).resolve().parents[2]


def unreadable_outside(path: Path) -> None:
    """Neither Python's sqlite3 nor the sqlite3 program can read the file."""
    conn = stdlib_sqlite3.connect(path)
    with pytest.raises(stdlib_sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT name FROM sqlite_master").fetchall()
    conn.close()
    if shutil.which("sqlite3"):
        r = subprocess.run(
            ["sqlite3", str(path), "SELECT cert_no FROM person"], capture_output=True, text=True
        )
        assert r.returncode != 0 and "not a database" in r.stderr, r
    raw = path.read_bytes()
    assert b"SQLite format 3" not in raw[:100]
    assert "张三".encode() not in raw and b"140121200001010000" not in raw


def test_store_backup_and_export_are_encrypted_and_the_app_reads_them(
    store, admin, people, data_dir, tmp_path, ops
):
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    unreadable_outside(data_dir / DB_FILENAME)
    info = backup.create_backup(store, data_dir, kind="manual")
    unreadable_outside(info.path)
    assert backup.check_database(info.path) == []
    usb = tmp_path / "usb"
    usb.mkdir()
    exported = backup.export_backup(info.path, usb)
    unreadable_outside(exported)
    # the key is in the credential store under the folder's id, never in the data folder
    folder = (data_dir / cipher.ID_FILENAME).read_text().strip()
    key_hex = keyring.get_password("township-desk", cipher.key_name(folder))
    assert key_hex and len(bytes.fromhex(key_hex)) == cipher.KEY_BYTES
    for f in data_dir.rglob("*"):
        if f.is_file():
            assert key_hex.encode() not in f.read_bytes(), f
    before = ops.dump(store.conn)
    backup.restore_backup(store, admin, exported, data_dir)  # the app reads its own export
    after = ops.dump(store.conn)
    assert after["person"] == before["person"] and len(after["person"]) == 3
    assert after["audit_log"][: len(before["audit_log"])] == before["audit_log"]


def content(dump: dict) -> dict:
    """Every row, less what the first start re-links (the audit chain's links, keyed now)
    and records (the migrations applied)."""
    out = {k: v for k, v in dump.items() if k != "_sqlite_migrations"}
    out["audit_log"] = [row[:7] for row in dump["audit_log"]]
    return out


def _make_plain(store, data_dir: Path, target: Path) -> None:
    """A plain copy of a store, as an older version of the desk left it: unencrypted, its
    audit chain linked with plain SHA-256 and the keyed-chain step not applied yet."""
    store.conn.execute("ATTACH DATABASE ? AS plain KEY ''", (str(target),))
    store.conn.execute("SELECT sqlcipher_export('plain')")
    version = store.conn.execute("PRAGMA user_version").fetchone()[0]
    store.conn.execute(f"PRAGMA plain.user_version = {version}")
    store.conn.execute("DETACH DATABASE plain")
    conn = stdlib_sqlite3.connect(target, isolation_level=None)
    rows = conn.execute(
        "SELECT seq, at, operator_id, action, entity, entity_id, detail FROM audit_log ORDER BY seq"
    ).fetchall()
    conn.execute("DROP TRIGGER audit_log_no_update")
    prev = journal.GENESIS
    for seq, *rest in rows:
        h = journal.sha256_hex(journal._entry_body(prev, seq, *rest))
        conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
        prev = h
    conn.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
        " BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )
    conn.execute("DELETE FROM _sqlite_migrations WHERE name = ?", (journal.KEYED_MIGRATION,))
    conn.close()


@pytest.fixture
def plain_folder(store, admin, people, data_dir, tmp_path):
    """A data folder of an older version: plain store, one plain backup, no key."""
    old = tmp_path / "old"
    (old / "backups").mkdir(parents=True)
    _make_plain(store, data_dir, old / DB_FILENAME)
    _make_plain(store, data_dir, old / "backups" / "desk-20261101-080000-auto.sqlite3")
    plain = stdlib_sqlite3.connect(old / DB_FILENAME)
    plain.execute("PRAGMA journal_mode=WAL")
    assert plain.execute("SELECT count(*) FROM person").fetchone()[0] == 3
    plain.close()
    return old


def test_a_plain_store_is_encrypted_at_first_start_losing_nothing(plain_folder, ops):
    path = plain_folder / DB_FILENAME
    conn = stdlib_sqlite3.connect(path)
    before = ops.dump(conn)
    conn.close()
    s = open_store(plain_folder)
    try:
        assert content(ops.dump(s.conn)) == content(before) and s.integrity_ok()
    finally:
        s.close()
    unreadable_outside(path)
    backups = sorted((plain_folder / "backups").glob("*.sqlite3"))
    assert len(backups) == 2  # the old plain backup, now encrypted, and the one made first
    for b in backups:
        unreadable_outside(b)
        assert backup.check_database(b) == []  # an old chain still verifies (SHA-256)
        # the backup made first is the plain store exactly, encrypted (checked row by row)
        assert ops.dump(b) == before or b.name.startswith("desk-20261101")
    s = open_store(plain_folder)
    try:  # the store itself: re-linked with keyed MACs, and sound
        assert journal.keyed_chain(s.conn) and journal.verify_audit(s.db) == []
    finally:
        s.close()
    assert not list(plain_folder.glob("*.encrypting*"))


def test_a_kill_in_the_middle_of_the_migration_loses_nothing(plain_folder, ops):
    path = plain_folder / DB_FILENAME
    conn = stdlib_sqlite3.connect(path)
    with conn:  # a bigger store, so that a kill lands inside the copy
        conn.executemany(
            "INSERT INTO settings(key, value) VALUES (?, ?)",
            ((f"padding.{i}", "x" * 400) for i in range(40_000)),
        )
    before = ops.dump(conn)
    conn.close()
    shutil.copyfile(path, plain_folder.parent / "pristine.sqlite3")
    rng = random.Random(20261203)
    killed_inside = 0
    for _trial in range(5):
        shutil.copyfile(plain_folder.parent / "pristine.sqlite3", path)
        for f in (plain_folder / "backups").glob("desk-2026120*"):
            f.unlink()
        code = "import sys; from desktop.store import open_store; open_store(sys.argv[1]).close()"
        proc = subprocess.Popen([sys.executable, "-c", code, str(plain_folder)], cwd=ROOT)
        time.sleep(rng.uniform(0.3, 1.5))
        if proc.poll() is None:
            killed_inside += 1
        proc.kill()
        proc.wait()
        # plain (killed before the swap) or encrypted (after): never half, never a loss
        s = open_store(plain_folder)
        try:
            assert content(ops.dump(s.conn)) == content(before)
        finally:
            s.close()
        assert not cipher.is_plain(path)
    assert killed_inside >= 1, "no kill landed before the migration ended: make the store bigger"


def test_a_lost_key_is_said_plainly_and_opens_nothing(store, admin, people, data_dir):
    store.close()
    folder = (data_dir / cipher.ID_FILENAME).read_text().strip()
    keyring.delete_password("township-desk", cipher.key_name(folder))
    cipher.forget_all()
    check = backup.startup_check(data_dir)
    assert not check.ok and check.code == "E-STORE-KEY-001" and "恢复码" in check.message
    with pytest.raises(StoreError) as e:
        open_store(data_dir)
    assert e.value.code == "STORE-KEY-001" and "数据没有丢失" in str(e.value)


def test_a_backup_of_another_pc_is_refused_with_a_clear_message(
    store, admin, people, data_dir, tmp_path
):
    other_dir = tmp_path / "other-pc"
    other = open_store(other_dir)
    other.close()
    foreign = backup.create_backup(open_store(other_dir), other_dir, kind="manual").path
    moved = tmp_path / "usb" / foreign.name
    moved.parent.mkdir()
    shutil.move(foreign, moved)
    # this process forgets the other PC's key, as a different PC never had it
    other_folder = (other_dir / cipher.ID_FILENAME).read_text().strip()
    keyring.delete_password("township-desk", cipher.key_name(other_folder))
    cipher.forget_all()
    with pytest.raises(backup.BackupError) as e:
        backup.restore_backup(store, admin, moved, data_dir)
    assert "另一台电脑" in str(e.value)
    assert os.path.exists(data_dir / DB_FILENAME)
