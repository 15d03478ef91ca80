"""PostgreSQL access: a connection pool, the numbered migrations of ``db/county`` and
the per-stream change log (sequence order = commit order)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool

from core import rowids

MIGRATION_LOCK = 0x70776E73  # advisory lock key: one migrator at a time
_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migrations_dir() -> Path:
    """``db/county``: beside the package when installed from a wheel (``county/_data``),
    else in the source tree."""
    here = Path(__file__).resolve().parent
    for folder in (here / "_data" / "db" / "county", here.parent / "db" / "county"):
        if folder.is_dir():
            return folder
    raise FileNotFoundError("the county's migrations (db/county) are missing")


def migration_files() -> list[Path]:
    folder = migrations_dir()
    files = sorted(p for p in folder.glob("*.sql") if _NAME.match(p.name))
    numbers = [p.name[:4] for p in files]
    if len(numbers) != len(set(numbers)):
        raise ValueError(f"two county migrations share a number in {folder}")
    return files


def migrate(conn: psycopg.Connection) -> list[str]:
    """Apply pending migrations in number order, each in its own transaction. Returns the
    names applied. Safe to run from several processes at once (advisory lock)."""
    applied: list[str] = []
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        rows = conn.execute("SELECT version FROM schema_migrations").fetchall()
        done = {r["version"] if isinstance(r, dict) else r[0] for r in rows}
        for path in migration_files():
            version = int(path.name[:4])
            if version in done:
                continue
            with conn.transaction():
                conn.execute(path.read_text(encoding="utf-8"))
                conn.execute(
                    "INSERT INTO schema_migrations(version, name) VALUES (%s, %s)",
                    (version, path.stem),
                )
            applied.append(path.stem)
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        conn.autocommit = False
    return applied


def make_pool(
    url: str,
    min_size: int = 1,
    max_size: int = 8,
    *,
    pooled: bool = False,
    name: str = "township-county",
) -> ConnectionPool:
    """``pooled``: ``url`` is PgBouncer in transaction pooling, where a server connection
    serves another client after each transaction: no server-side prepared statements
    (psycopg's ``prepare_threshold=None``); nothing else the server does keeps session
    state (advisory locks are transaction-level; ``SET LOCAL`` only)."""
    kwargs: dict = {"row_factory": dict_row, "application_name": name}
    if pooled:
        kwargs["prepare_threshold"] = None
    return ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs=kwargs,
        open=True,
        name=name,
    )


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """One database transaction (commit on success, rollback on error)."""
    with pool.connection() as conn, conn.transaction():
        yield conn


@contextmanager
def autocommit(pool: ConnectionPool) -> Iterator[psycopg.Connection]:
    """A pooled connection whose statements each commit on their own: a read, or one
    statement that writes, without the BEGIN and COMMIT round trips psycopg sends around
    it otherwise (two of a sync request's few); ``conn.transaction()`` still groups
    statements. The connection goes back to the pool as it came (not autocommit)."""
    with pool.connection() as conn:
        conn.autocommit = True
        try:
            yield conn
        finally:
            if not conn.closed:
                conn.autocommit = False


def jsonb(value) -> Jsonb:
    return Jsonb(value, dumps=lambda v: json.dumps(v, ensure_ascii=False, default=str))


def insert_rows(conn: psycopg.Connection, table: str, columns: str, rows: list[tuple]) -> None:
    """All ``rows`` in one INSERT: each column goes as one array, unnested in the server.
    ``columns``: "name type, …" (constants of the caller). One statement parsed and
    planned for a batch, where ``executemany`` sends one per row."""
    if rows:
        conn.execute(_insert_sql(table, columns), [list(col) for col in zip(*rows, strict=True)])


@functools.cache
def _insert_sql(table: str, columns: str) -> str:
    pairs = [c.split() for c in columns.split(",")]
    names = ", ".join(name for name, _ in pairs)
    arrays = ", ".join(f"%b::{kind}[]" for _, kind in pairs)
    return f"INSERT INTO {table}({names}) SELECT * FROM unnest({arrays})"


# ------------------------------------------------------------------ partitions
# person, enrollment and payment are partitioned by county (migration 0019). PostgreSQL
# prunes partitions while planning only when the county is a value in the statement. A row
# known by id alone is read in the county its id carries (``core.rowids``: ids made from
# that version on), else through the table's ``<table>_row`` function (migration 0020):
# inside the server, its county from the key table, then the row with that county named —
# one partition planned and read, one statement from here.
KEY_TABLE = {"person": "person_key", "enrollment": "enrollment_key", "payment": "payment_key"}


def region_of(conn: psycopg.Connection, table: str, row_id: str) -> str | None:
    """The county that holds ``row_id`` of ``table`` (None: no such row)."""
    row = conn.execute(f"SELECT region FROM {KEY_TABLE[table]} WHERE id = %s", (row_id,)).fetchone()
    return None if row is None else row["region"]


def row_by_id(
    conn: psycopg.Connection,
    table: str,
    row_id: str,
    cols: str = "*",
    *,
    lock: bool = False,
    county: str | None = None,
) -> dict | None:
    """``cols`` of one row of ``table`` by id (None: no such row), locked with ``lock``.
    Read first where the row most likely is, planned like one county's table: the county
    the id carries (``core.rowids``: the rows made from that version on, whoever reads them
    — another county's desk, the console), else ``county`` — a desk's own, for the rows its
    clerks work on. Not there (or no county to try), it is looked for through the table's
    function."""
    if table not in KEY_TABLE:
        for_update = " FOR UPDATE" if lock else ""
        return conn.execute(
            f"SELECT {cols} FROM {table} WHERE id = %s{for_update}", (row_id,)
        ).fetchone()
    return _county_first(
        conn,
        rowids.region_in(row_id) or county,
        table,
        cols,
        "id = %s",
        (row_id,),
        lock,
        f"{table}_row(%s, %s)",
    )


def _county_first(
    conn, county, table, cols, where, args, lock, function, function_args=None
) -> dict | None:
    """``cols`` of the row of ``table`` matching ``where``: in ``county`` first (when
    given), else through ``function`` (a 0020 or 0025 function taking
    ``*function_args, lock``; ``function_args`` are ``args`` unless given)."""
    if county is not None:
        row = conn.execute(
            f"SELECT {cols} FROM {table} WHERE region = %s AND {where}"
            + (" FOR UPDATE" if lock else ""),
            (county, *args),
        ).fetchone()
        if row is not None:
            return row
    fargs = args if function_args is None else function_args
    return conn.execute(f"SELECT {cols} FROM {function}", (*fargs, lock)).fetchone()


def where_row(table: str, row: dict) -> tuple[str, tuple]:
    """The WHERE clause (and its parameters) naming ``row`` — read with its id and, for a
    partitioned table, its county — in an UPDATE."""
    if table in KEY_TABLE:
        return "region = %s AND id = %s", (row["region"], row["id"])
    return "id = %s", (row["id"],)


def person_by_cert(
    conn: psycopg.Connection,
    cert_type: str,
    cert_no: str,
    cols: str,
    *,
    lock: bool = False,
    county: str | None = None,
) -> dict | None:
    """The person holding a certificate (``cols`` of its row), locked with ``lock``;
    ``county`` as for ``row_by_id`` (the desk's, the roster's service point's), read there
    first. Not given, or missed there, a resident ID number is read in one statement by
    ``person_with_resident_id`` (migration 0025): in the county ``resident_elsewhere``
    names for the few insured outside the county that issued their number, else in that
    county (its first six digits, GB 11643-1999) — one partition, and no key table. Other
    certificates carry no county: through the key table (``person_with_cert``)."""
    resident = cert_type == "resident_id"
    return _county_first(
        conn,
        county,
        "person",
        cols,
        "cert_type = %s AND cert_no = %s",
        (cert_type, cert_no),
        lock,
        "person_with_resident_id(%s, %s)" if resident else "person_with_cert(%s, %s, %s)",
        (cert_no,) if resident else (cert_type, cert_no),
    )


# ------------------------------------------------------------------ streams
def sp_stream(sp_id: str) -> str:
    return f"sp:{sp_id}"


def notice_stream(sp_id: str) -> str:
    return f"notices:{sp_id}"


def emit(
    conn: psycopg.Connection,
    stream: str,
    entity: str,
    entity_id: str,
    version: int,
    data: dict | None,
    op: str = "upsert",
) -> int:
    """Append a change to a stream. Bumping the head row takes its lock until commit, so
    another writer to the same stream waits: seq order equals commit order."""
    row = conn.execute(
        "WITH h AS (INSERT INTO stream_head(stream, last_seq) VALUES (%(s)s, 1)"
        " ON CONFLICT (stream) DO UPDATE SET last_seq = stream_head.last_seq + 1"
        " RETURNING last_seq)"
        " INSERT INTO change_log(stream, seq, entity, entity_id, op, version, data)"
        " SELECT %(s)s, last_seq, %(e)s, %(i)s, %(o)s, %(v)s, %(d)s FROM h RETURNING seq",
        {
            "s": stream,
            "e": entity,
            "i": entity_id,
            "o": op,
            "v": version,
            "d": jsonb(data) if data is not None else None,
        },
    ).fetchone()
    seq = row["seq"] if isinstance(row, dict) else row[0]
    return seq


def log_security(
    conn: psycopg.Connection,
    kind: str,
    *,
    device_id: str | None = None,
    sp_id: str | None = None,
    remote: str | None = None,
    path: str | None = None,
    detail: dict | None = None,
) -> None:
    conn.execute(
        "INSERT INTO security_event(kind, device_id, sp_id, remote, path, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (kind, device_id, sp_id, remote, path, jsonb(detail or {})),
    )
