"""Connections, numbered migrations from ``db/desktop`` and write transactions.

Every connection gets ``journal_mode=WAL``, ``synchronous=FULL`` and ``foreign_keys=ON``
so that a committed registration or payment survives a power cut. Writes go through
:meth:`Store.write`, which takes the write lock up front (``BEGIN IMMEDIATE``) and nests
as savepoints.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlite_utils

from desktop import paths
from desktop.store import cipher, wipe
from desktop.store.cipher import sqlite3
from desktop.store.errors import StoreError
from desktop.store.upgrades import PYTHON_STEPS

DB_FILENAME = "desk.sqlite3"
_MIGRATION_RE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def connect(path: str | Path, key: bytes | None = None) -> sqlite_utils.Database:
    """Open one connection (encrypted with ``key``) with the durability pragmas the product
    relies on."""
    conn = cipher.connect(path, key)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA secure_delete=ON")  # a deleted row's bytes are overwritten, not left
    # Up to 256 MB of decrypted pages, filled only as far as the store is read (a township
    # store is 20-60 MB): a page SQLite has to fetch again is decrypted and its HMAC checked
    # again, so the store keeps more pages itself (bench/bench_encryption.py: 64 MB left
    # the name search at 1,000,000 residents at 2x a plain store, 256 MB brings it to ~1x).
    conn.execute("PRAGMA cache_size=-262144")
    # sorts and groupings of a whole township (home page, reports) in memory: never a plain
    # temporary file with residents' data on the disk, and faster
    conn.execute("PRAGMA temp_store=MEMORY")
    return sqlite_utils.Database(conn)


def split_sql(script: str) -> list[str]:
    """Split a migration script into statements (triggers with BEGIN … END stay whole)."""
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        if not buf and (not line.strip() or line.lstrip().startswith("--")):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        raise ValueError(f"incomplete SQL statement at end of migration: {buf[:80]!r}")
    return statements


def migration_files(kind: str = "desktop") -> list[Path]:
    folder = paths.migrations_dir(kind)
    files = sorted(p for p in folder.iterdir() if _MIGRATION_RE.match(p.name))
    numbers = [p.name[:4] for p in files]
    if len(numbers) != len(set(numbers)):
        raise ValueError(f"two migrations share a number in {folder}: {numbers}")
    return files


def _sql_step(statements: list[str]) -> Callable[[sqlite_utils.Database], None]:
    def apply(db: sqlite_utils.Database) -> None:
        for stmt in statements:
            db.conn.execute(stmt)

    return apply


def _steps(kind: str) -> dict[str, Callable[[sqlite_utils.Database], None]]:
    steps = {
        path.stem: _sql_step(split_sql(path.read_text(encoding="utf-8")))
        for path in migration_files(kind)
    }
    if kind == "desktop":
        numbers = {name[:4] for name in steps}
        for name, step in PYTHON_STEPS.items():
            if name[:4] in numbers:
                raise ValueError(f"migration number {name[:4]} used twice ({name})")
            steps[name] = step
    return dict(sorted(steps.items()))


def migration_names(kind: str = "desktop") -> list[str]:
    """Every migration this build knows (SQL files and Python steps), in order."""
    return list(_steps(kind))


def build_migrations(kind: str = "desktop") -> sqlite_utils.Migrations:
    """The numbered SQL files of ``db/<kind>`` and, for the desk, the Python steps of
    :mod:`desktop.store.upgrades`, in number order."""
    migrations = sqlite_utils.Migrations(f"township-{kind}")
    for name, step in _steps(kind).items():
        migrations(name=name)(step)
    return migrations


def insert_row(conn: sqlite3.Connection, table: str, row: dict) -> None:
    """INSERT one row given as a dict (one statement per table and set of columns)."""
    cols = ", ".join(row)
    conn.execute(
        f"INSERT INTO {table}({cols}) VALUES ({', '.join('?' * len(row))})", tuple(row.values())
    )


@contextlib.contextmanager
def savepoint(conn: sqlite3.Connection) -> Iterator[None]:
    """A nested transaction inside the caller's. Always the same name (SQLite nests
    savepoints of one name, innermost first): sqlite-utils' ``atomic()`` names each one
    anew, and every new name is a new statement for the connection's statement cache
    (:data:`desktop.store.cipher.STATEMENT_CACHE`), which a day of nested writes filled."""
    conn.execute("SAVEPOINT nested")
    try:
        yield
    except BaseException:
        # a RAISE(ROLLBACK) trigger may have ended the whole transaction, savepoint and all
        if conn.in_transaction:
            conn.execute("ROLLBACK TO SAVEPOINT nested")
            conn.execute("RELEASE SAVEPOINT nested")
        raise
    else:
        conn.execute("RELEASE SAVEPOINT nested")


class Store:
    """One SQLite database file. Thread-safe: one writer at a time within the process."""

    def __init__(self, db: sqlite_utils.Database, path: Path | None, key: bytes | None = None):
        self.db = db
        self.path = path
        self.key = key  # the data folder's key (never logged, never written to a file)
        self._lock = threading.RLock()

    @property
    def conn(self) -> sqlite3.Connection:
        return self.db.conn

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction (``BEGIN IMMEDIATE``); nested calls become savepoints."""
        with self._lock:
            if self.conn.in_transaction:
                with savepoint(self.conn):
                    yield self.db
                return
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """A consistent read snapshot (one deferred transaction)."""
        with self._lock:
            if self.conn.in_transaction:
                yield self.db
                return
            self.conn.execute("BEGIN")
            try:
                yield self.db
            finally:
                if self.conn.in_transaction:
                    self.conn.execute("COMMIT")

    def query(self, sql: str, params: tuple | list | dict = ()) -> list[dict]:
        with self._lock:
            cur = self.conn.execute(sql, params)
            if cur.description is None:
                return []
            keys = [d[0] for d in cur.description]
            return [dict(zip(keys, r, strict=True)) for r in cur.fetchall()]

    def query_one(self, sql: str, params: tuple | list | dict = ()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def setting(self, key: str, default: str | None = None) -> str | None:
        row = self.query_one("SELECT value FROM settings WHERE key = ?", (key,))
        return row["value"] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self.write() as db:
            db.conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def integrity_ok(self) -> bool:
        with self._lock:
            row = self.conn.execute("PRAGMA integrity_check").fetchone()
        return row is not None and row[0] == "ok"

    def close(self) -> None:
        with self._lock:
            self.conn.close()


def migrate(db: sqlite_utils.Database, kind: str = "desktop") -> None:
    build_migrations(kind).apply(db)


def open_store(
    data_dir: str | Path | None = None, *, filename: str = DB_FILENAME, key: bytes | None = None
) -> Store:
    """Open (creating if needed) the encrypted store in ``data_dir`` and apply pending
    migrations. The key is the data folder's (:mod:`desktop.store.cipher`), unless given;
    a plain store of an older version is encrypted first (an encrypted backup is kept)."""
    folder = Path(data_dir) if data_dir else paths.default_data_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / filename
    erased = wipe.marked(folder)
    if erased:  # disabled by the county: finish the erase a power cut may have interrupted
        wipe.remove_data_files(folder)
        raise StoreError(erased, code="STORE-WIPED")
    if key is None:
        encrypted = path.is_file() and path.stat().st_size > 0 and not cipher.is_plain(path)
        key = cipher.folder_key(folder, create=not encrypted)
        if key is None:
            raise StoreError(cipher.KEY_LOST, code="STORE-KEY-001")
    if cipher.is_plain(path):
        encrypt_plain_store(folder, path, key)
    db = connect(path, key)
    try:
        db.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as e:
        db.conn.close()
        if "not a database" in str(e):
            raise StoreError(cipher.WRONG_KEY, code="STORE-KEY-002") from e
        raise
    migrate(db)
    return Store(db, path, key)


def encrypt_plain_store(folder: Path, path: Path, key: bytes) -> None:
    """The first start after the update: an encrypted backup of the plain store is kept in
    ``backups/``, the store is encrypted in place, then plain backups and copies kept aside
    are encrypted too (each checked row by row before it replaces the plain file)."""
    from datetime import datetime  # deferred: only the one-time migration needs it

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = folder / "backups" / f"desk-{stamp}-manual.sqlite3"
    cipher.encrypt_plain_file(path, key, keep_copy=backup)
    for sub in ("backups", "set-aside"):
        d = folder / sub
        if d.is_dir():
            for f in sorted(d.glob("*.sqlite3")):
                cipher.encrypt_plain_file(f, key)
