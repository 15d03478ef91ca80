"""The desk's SQLite driver — SQLCipher through ``sqlcipher3`` — and the data folder's key.

Every database file the desk writes (the store, its backups, copies kept aside before a
restore, backups exported to a USB stick) is encrypted with the data folder's key: 32
random bytes kept in the operating system's credential store (Windows Credential Manager)
under ``store-key:<folder id>``. The folder id is the one line of ``desk.id`` in the data
folder; it names the key and is not a secret. The key is used raw (``x'…'``), so opening a
file costs no key derivation.

A plain store left by an older version is encrypted in place at the first start
(:func:`encrypt_plain_file`): an encrypted copy is made, compared table by table with the
plain file (row counts and a checksum of every row), synced to disk and only then put in
its place, so a power cut at any moment leaves either the plain store or the encrypted
one, never half of each.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import uuid
from pathlib import Path

from sqlcipher3 import dbapi2 as sqlite3

from desktop.secrets import CredentialError, CredentialStore
from desktop.store.errors import StoreError

__all__ = ["sqlite3"]

ID_FILENAME = "desk.id"
KEY_BYTES = 32
PLAIN_HEADER = b"SQLite format 3\x00"
_held: dict[str, bytes] = {}  # folder id → key, for this process

KEY_LOST = (
    "本机数据库已加密，但在本机的系统凭据库中找不到它的钥匙（可能重装过系统或换过电脑）。"
    "数据没有丢失：请主管联系县医保局技术人员，按“换新电脑”的步骤用恢复码恢复。"
)
WRONG_KEY = (
    "这个文件是用另一台电脑的钥匙加密的，本机打不开。"
    "换新电脑时请按“换新电脑”的步骤，由县医保局协助恢复。"
)


def key_name(folder_id: str) -> str:
    return f"store-key:{folder_id}"


def folder_id(data_dir: str | Path, *, create: bool) -> str | None:
    """The data folder's id (``desk.id``), made on first use when ``create``."""
    path = Path(data_dir) / ID_FILENAME
    with contextlib.suppress(FileNotFoundError):
        text = path.read_text(encoding="ascii").strip()
        if text:
            return text
    if not create:
        return None
    new = uuid.uuid4().hex
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(new + "\n", encoding="ascii")
    os.replace(tmp, path)
    return new


def hold(folder: str, key: bytes) -> None:
    """Remember a key for this process (files of that folder open without the keyring)."""
    _held[folder] = key


def forget_all() -> None:
    """Drop every key this process holds (after a remote wipe, and between tests)."""
    _held.clear()


def stored_key(folder: str) -> bytes | None:
    if folder in _held:
        return _held[folder]
    text = CredentialStore().get(key_name(folder))
    if not text:
        return None
    key = bytes.fromhex(text)
    _held[folder] = key
    return key


def save_key(folder: str, key: bytes) -> None:
    """Put a key in the credential store and read it back (a key that is not really kept
    would lock the data away at the next start)."""
    CredentialStore().set(key_name(folder), key.hex())
    if CredentialStore().get(key_name(folder)) != key.hex():
        raise CredentialError("系统凭据库没有保存数据库钥匙，请重启电脑后重试。")
    _held[folder] = key


def folder_key(data_dir: str | Path, *, create: bool) -> bytes | None:
    """The key of a data folder: from this process, else the credential store; a new one
    (saved before any file uses it) when there is none and ``create``."""
    folder = folder_id(data_dir, create=create)
    if folder is None:
        return None
    key = stored_key(folder)
    if key is None and create:
        key = secrets.token_bytes(KEY_BYTES)
        save_key(folder, key)
    return key


def is_plain(path: str | Path) -> bool:
    """True for an unencrypted SQLite file (an empty or missing file is not plain)."""
    try:
        with open(path, "rb") as f:
            return f.read(16) == PLAIN_HEADER
    except FileNotFoundError:
        return False


def apply_key(conn: sqlite3.Connection, key: bytes | None) -> None:
    conn.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is our error, not stderr's
    if key:
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.create_function("audit_mac", 1, chain_mac(key), deterministic=True)


def chain_mac(key: bytes | None):
    """The audit chain's link function: HMAC-SHA256 under a key derived from the store's
    key (rewriting the chain needs the key; the county's anchors catch a cut), plain
    SHA-256 for a connection without a key (a plain store on its way to encryption)."""
    if not key:
        return lambda text: hashlib.sha256(text.encode("utf-8")).hexdigest()
    audit_key = hmac.new(key, b"township-desk audit chain v1", hashlib.sha256).digest()
    return lambda text: hmac.new(audit_key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def _opens(path: Path, key: bytes) -> bool:
    conn = connect(path, key, read_only=True)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def key_for(path: str | Path) -> bytes | None:
    """The key that opens an existing database file: none for a plain file; else the key of
    the data folder it lies in (the store, ``backups/``, ``set-aside/``), else any key this
    process holds (a backup brought back from a USB stick). Raises :class:`StoreError` when
    no key opens it."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0 or is_plain(path):
        return None
    tried: list[bytes] = []
    for folder_dir in (path.parent, path.parent.parent):
        folder = folder_id(folder_dir, create=False)
        key = stored_key(folder) if folder else None
        if key and key not in tried:
            tried.append(key)
    tried += [k for k in _held.values() if k not in tried]
    for key in tried:
        if _opens(path, key):
            return key
    raise StoreError(WRONG_KEY, code="STORE-KEY-002")


# Compiled statements a connection keeps. sqlcipher3 keeps pysqlite's cache (CPython's own
# sqlite3 replaced it with an LRU in 3.11): the least-used statement at its end goes first
# and a new one joins at the end, so once the cache is full two new statements run in turn
# (a pulled row's mirror upsert and its person INSERT) push each other out and each run is
# compiled again with its triggers and indexes: ~3x slower, for the rest of the
# connection's life (a new desk's first sync ran on the connection that had run the
# migrations). The desk runs ~450 different statements (~310 places in the code and the
# migrations' ~150; nested writes reuse one savepoint name, db.savepoint), so it never
# fills 1,024. A kept statement costs a few KB (18 KB for the person INSERT with its
# triggers and seven indexes): under 20 MB if full.
STATEMENT_CACHE = 1024


def connect(
    path: str | Path, key: bytes | None, *, read_only: bool = False, timeout: float = 30
) -> sqlite3.Connection:
    """One connection (autocommit; the store runs its own transactions) with ``key``."""
    common = {
        "timeout": timeout,
        "isolation_level": None,
        "check_same_thread": False,
        "cached_statements": STATEMENT_CACHE,
    }
    if read_only:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, **common)
    else:
        conn = sqlite3.connect(str(path), **common)
    apply_key(conn, key)
    return conn


def open_file(path: str | Path, *, read_only: bool = True) -> sqlite3.Connection:
    """Open an existing database file with whichever key opens it (see :func:`key_for`)."""
    return connect(path, key_for(path), read_only=read_only)


# ------------------------------------------------------------------ plain → encrypted


def fingerprint(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of every row, per table (order-independent)."""
    out: dict[str, tuple[int, str]] = {}
    names = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    for name in names:
        quoted = '"' + name.replace('"', '""') + '"'
        digests = sorted(
            hashlib.sha256(repr(row).encode("utf-8")).digest()
            for row in conn.execute(f"SELECT * FROM {quoted}")
        )
        out[name] = (len(digests), hashlib.sha256(b"".join(digests)).hexdigest())
    return out


def export_encrypted(plain: sqlite3.Connection, target: Path, key: bytes) -> None:
    """Write an encrypted copy of an open plain database to ``target`` (a new file)."""
    version = plain.execute("PRAGMA user_version").fetchone()[0]
    plain.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(target), f"x'{key.hex()}'"))
    try:
        plain.execute("SELECT sqlcipher_export('encrypted')")
        plain.execute(f"PRAGMA encrypted.user_version = {int(version)}")
    finally:
        plain.execute("DETACH DATABASE encrypted")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def encrypt_plain_file(path: Path, key: bytes, *, keep_copy: Path | None = None) -> bool:
    """Encrypt a plain database file in place; False when it was not plain. With
    ``keep_copy``, the checked encrypted copy is also kept there (the backup made before
    the store is replaced). Raises :class:`StoreError` when the copy does not match."""
    if not is_plain(path):
        return False
    work = path.with_name(path.name + ".encrypting")
    for leftover in (work, work.with_name(work.name + "-journal")):
        leftover.unlink(missing_ok=True)
    plain = sqlite3.connect(str(path), timeout=30, isolation_level=None)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = fingerprint(plain)
        export_encrypted(plain, work, key)
    finally:
        plain.close()  # the last connection: SQLite folds and removes -wal and -shm
    check = connect(work, key)
    try:
        ok = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after = fingerprint(check)
        check.execute("PRAGMA journal_mode = DELETE")
    finally:
        check.close()
    if not ok or after != before:
        work.unlink(missing_ok=True)
        raise StoreError("数据库加密后的核对没有通过，原文件未改动。", code="STORE-KEY-003")
    _fsync(work)
    if keep_copy is not None:
        keep_copy.parent.mkdir(parents=True, exist_ok=True)
        partial = keep_copy.with_name(keep_copy.name + ".partial")
        partial.write_bytes(work.read_bytes())
        _fsync(partial)
        os.replace(partial, keep_copy)
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:  # another program still writes the plain file
        work.unlink(missing_ok=True)
        raise StoreError("数据库正被另一个程序使用，请关闭后重新打开本软件。", code="STORE-KEY-004")
    for side in (wal, path.with_name(path.name + "-shm")):
        side.unlink(missing_ok=True)
    os.replace(work, path)
    return True
