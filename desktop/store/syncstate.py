"""Local sync state (migration 0060): the registered device, cursors, the resumable
snapshot, the mirror of server rows and their projection into the local tables, and the
outbox bookkeeping. The inbox (:mod:`desktop.store.inbox`) and person aliases
(:mod:`desktop.store.aliases`) have their own modules; their functions are re-exported.

Everything that writes takes an open write transaction (``db`` from ``Store.write()``) so
that the sync engine can put a whole pulled page and its cursor into ONE transaction."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlite_utils

from core import syncproto as sp
from core.names import pinyin_full, pinyin_initials
from desktop.store.aliases import RekeyClash
from desktop.store.aliases import add_alias as add_alias
from desktop.store.aliases import canonical_person_id as canonical_person_id
from desktop.store.aliases import local_person_id as local_person_id
from desktop.store.aliases import rekey_person as rekey_person
from desktop.store.cipher import sqlite3
from desktop.store.db import Store
from desktop.store.inbox import add_inbox as add_inbox
from desktop.store.inbox import inbox as inbox
from desktop.store.inbox import resolve_inbox as resolve_inbox
from desktop.store.journal import canonical_json, now_iso
from desktop.store.journal import pending_count as pending_count  # the outbox is the journal's
from desktop.store.namekeys import set_name_keys

# entity → local table projected from the mirror (only when the table exists)
PROJECTED_TABLES = {
    sp.E_HOUSEHOLD: "household",
    sp.E_PERSON: "person",
    sp.E_ENROLLMENT: "enrollment",
    sp.E_PAYMENT: "payment",
}
# local bookkeeping columns that server data never sets directly
_LOCAL_ONLY = {"version", "server_version", "origin", "created_by"}
# columns another area's service owns locally (a payment's status moves by the
# contribution service: confirmations are applied through it, see the sync engine)
_KEEP_LOCAL = {sp.E_PAYMENT: {"status", "operator_id", "supervisor_id"}}


# ------------------------------------------------------------------ device and cursors
def device(store_or_db: Store | sqlite_utils.Database) -> dict | None:
    conn = store_or_db.conn
    cur = conn.execute("SELECT * FROM sync_device WHERE id = 1")
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([c[0] for c in cur.description], row, strict=True))


def save_device(
    db: sqlite_utils.Database,
    *,
    server_url: str,
    device_id: str,
    service_point_id: str,
    service_point_code: str,
) -> None:
    db.conn.execute(
        "INSERT INTO sync_device(id, server_url, device_id, service_point_id, service_point_code,"
        " registered_at, snapshot_done, snapshot_state) VALUES (1, ?, ?, ?, ?, ?, 0, NULL)"
        " ON CONFLICT(id) DO UPDATE SET server_url = excluded.server_url,"
        " device_id = excluded.device_id, service_point_id = excluded.service_point_id,"
        " service_point_code = excluded.service_point_code,"
        " registered_at = excluded.registered_at, snapshot_done = 0, snapshot_state = NULL",
        (server_url, device_id, service_point_id, service_point_code, now_iso()),
    )
    # a (re-)registered device starts from a fresh snapshot
    db.conn.execute("DELETE FROM sync_cursor")


COUNTY_CA = "sync.county_ca"  # the county's CA certificate (PEM; public, not a secret)


def county_ca(store_or_db) -> str | None:
    row = store_or_db.conn.execute("SELECT value FROM settings WHERE key = ?", (COUNTY_CA,))
    found = row.fetchone()
    return found[0] if found and found[0] else None


def save_county_ca(db: sqlite_utils.Database, pem: str | None) -> None:
    if pem:
        db.conn.execute(
            "INSERT INTO settings(key, value) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (COUNTY_CA, pem),
        )
    else:
        db.conn.execute("DELETE FROM settings WHERE key = ?", (COUNTY_CA,))


ESCROWED = "sync.escrowed_folder"  # the data folder whose key the county keeps (an id)


def escrowed_folder(store_or_db) -> str | None:
    row = store_or_db.conn.execute("SELECT value FROM settings WHERE key = ?", (ESCROWED,))
    found = row.fetchone()
    return found[0] if found else None


def set_escrowed_folder(db: sqlite_utils.Database, folder: str) -> None:
    db.conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (ESCROWED, folder),
    )


def cursors(store_or_db) -> dict[str, int]:
    cur = sp.empty_cursor()
    for stream, value in store_or_db.conn.execute("SELECT stream, cursor FROM sync_cursor"):
        cur[stream] = int(value)
    return cur


def save_cursors(db: sqlite_utils.Database, cursor: dict[str, int]) -> None:
    now = now_iso()
    for stream, value in cursor.items():
        db.conn.execute(
            "INSERT INTO sync_cursor(stream, cursor, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(stream) DO UPDATE SET cursor = excluded.cursor,"
            " updated_at = excluded.updated_at",
            (stream, str(int(value)), now),
        )


def snapshot_state(store_or_db) -> tuple[bool, str | None]:
    dev = device(store_or_db)
    if dev is None:
        return False, None
    token = json.loads(dev["snapshot_state"])["page_token"] if dev["snapshot_state"] else None
    return bool(dev["snapshot_done"]), token


def save_snapshot_progress(
    db: sqlite_utils.Database, page_token: str | None, done: bool, cursor: dict[str, int]
) -> None:
    if done:
        db.conn.execute(
            "UPDATE sync_device SET snapshot_done = 1, snapshot_state = NULL WHERE id = 1"
        )
        save_cursors(db, cursor)
    else:
        db.conn.execute(
            "UPDATE sync_device SET snapshot_state = ? WHERE id = 1",
            (canonical_json({"page_token": page_token}),),
        )


# ------------------------------------------------------------------ outbox
def pending_ops(store: Store, limit: int) -> list[dict]:
    return store.query(
        "SELECT * FROM outbox WHERE status = 'pending' ORDER BY device_seq LIMIT ?", (limit,)
    )


def mark_first_sent(db: sqlite_utils.Database, op_ids: list[str]) -> None:
    """From now on these ops are frozen (the outbox trigger already forbids edits)."""
    now = now_iso()
    db.conn.executemany(
        "UPDATE outbox SET first_sent_at = ? WHERE op_id = ? AND first_sent_at IS NULL",
        [(now, i) for i in op_ids],
    )


def store_result(db: sqlite_utils.Database, result: sp.OpResult, *, local: bool = False) -> bool:
    """Record the county's answer for one op. Returns False for an unknown or already
    settled op (a replayed answer changes nothing)."""
    row = db.conn.execute(
        "SELECT status, op_type, entity_id FROM outbox WHERE op_id = ?", (result.op_id,)
    ).fetchone()
    if row is None or row[0] != "pending":
        return False
    doc = result.as_dict()
    if local:
        doc["local"] = True
    db.conn.execute(
        "UPDATE outbox SET status = ?, result = ?, acked_at = ? WHERE op_id = ?",
        (result.status, canonical_json(doc), now_iso(), result.op_id),
    )
    return True


def op_row(db, op_id: str) -> dict | None:
    cur = db.conn.execute("SELECT * FROM outbox WHERE op_id = ?", (op_id,))
    r = cur.fetchone()
    return dict(zip([c[0] for c in cur.description], r, strict=True)) if r else None


def has_pending_for(db, entity_id: str) -> bool:
    """A local change to this row (or to a person merged into it) is waiting to go up."""
    return (
        db.conn.execute(
            "SELECT 1 FROM outbox WHERE status = 'pending' AND (entity_id = ? OR entity_id IN"
            " (SELECT alias_id FROM person_alias WHERE canonical_id = ?)) LIMIT 1",
            (entity_id, entity_id),
        ).fetchone()
        is not None
    )


def _pinyin(name: str) -> tuple[str, str]:
    """Search keys of a name. pypinyin is the slow part of applying pulled persons and
    names repeat: :mod:`core.names` caches each name's reading once, for these keys and for
    its other readings (namekeys) alike."""
    return pinyin_full(name), pinyin_initials(name)


# ------------------------------------------------------------------ applying server rows
_columns_cache: dict[tuple[int, str], set[str]] = {}


def table_columns(conn: sqlite3.Connection, table: str) -> set[str]:
    key = (id(conn), table)
    if key not in _columns_cache:
        _columns_cache[key] = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
    return _columns_cache[key]


def mirror_version(db, entity: str, id_: str) -> int | None:
    r = db.conn.execute(
        "SELECT version FROM server_row WHERE entity = ? AND id = ?", (entity, id_)
    ).fetchone()
    return r[0] if r else None


def any_pending(db) -> bool:
    """Some local change is waiting to go up (a page with none skips the per-row check)."""
    return (
        db.conn.execute("SELECT 1 FROM outbox WHERE status = 'pending' LIMIT 1").fetchone()
        is not None
    )


def apply_change(
    db: sqlite_utils.Database, ch: sp.Change, *, pending: bool = True, now: str | None = None
) -> bool:
    """Apply one pulled/snapshot change inside the caller's transaction. Returns False when
    the change is not newer than what we hold (at-least-once delivery). ``pending``: False
    when the caller knows no local change is waiting (:func:`any_pending`); ``now``: the
    time the page arrived (one reading of the clock for a page; ~30 µs a row otherwise)."""
    removed = ch.op == "remove"
    now = now or now_iso()
    # one statement: stored unless what we hold is as new (it then changes no row)
    cur = db.conn.execute(
        "INSERT INTO server_row(entity, id, stream, version, removed, data, seq, received_at)"
        " VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(entity, id) DO UPDATE SET"
        " stream = excluded.stream, version = excluded.version, removed = excluded.removed,"
        " data = excluded.data, seq = excluded.seq, received_at = excluded.received_at"
        " WHERE excluded.version > server_row.version",
        (
            ch.entity,
            ch.id,
            ch.stream,
            ch.version,
            1 if removed else 0,
            canonical_json(ch.data or {}),
            ch.seq,
            now,
        ),
    )
    if cur.rowcount == 0:
        return False
    if ch.entity == sp.E_ALIAS and ch.data:
        if ch.data.get("entity", sp.E_PERSON) == sp.E_PERSON and not removed:
            try:
                add_alias(db, ch.id, ch.data["canonical_id"], "pull")
            except RekeyClash:
                pass  # the alias row is kept; references stay on the old id
    elif ch.entity == sp.E_NOTICE and ch.data:
        _apply_notice(db, sp.Notice.from_dict(ch.data), removed)
    elif ch.entity in PROJECTED_TABLES and not removed and ch.data:
        project_row(db, ch.entity, ch.id, ch.version, ch.data, pending=pending, now=now)
    return True


_NOTICE_ACTIONS = {
    sp.N_IDENTITY_MERGED: "无需操作：两处登记已合并为同一人，今后按合并后的记录办理。",
    sp.N_IDENTITY_REVIEW: "请核对此人的身份证件（姓名、出生日期），把正确信息报县医保局复核。",
    sp.N_DOUBLE_ENROLLMENT: "请联系参保人确认在哪个服务点参保；如两处都收了钱，按县医保局通知办理退费或转移。",
    sp.N_REFUND_TASK: "请为参保人办理退费或转移手续，完成后在此点“已处理”。",
    sp.N_CORRECTION: "修改已作为更正申请报县医保局审核，审核结果会通过同步下发，无需重复修改。",
    sp.N_STALE_UPDATE: "县里的数据已被他人修改，请打开该记录核对最新信息后再修改。",
    sp.N_MOVE_CONFLICT: "同一居民已由另一服务点迁入别的家庭户，本机的迁移未生效；请与居民核实实际所在户，需要时报县医保局裁定。",
    sp.N_RESOLVED: "县医保局已处理，无需操作。",
}


def _apply_notice(db, n: sp.Notice, removed: bool) -> None:
    add_inbox(
        db,
        id=n.id,
        kind=n.kind,
        title=n.title,
        action=n.message or _NOTICE_ACTIONS.get(n.kind, "请联系县医保局了解详情。"),
        severity="info" if n.kind in (sp.N_IDENTITY_MERGED, sp.N_RESOLVED) else "warn",
        entity=sp.E_PERSON if n.person_id else None,
        entity_id=n.person_id,
        detail=n.as_dict(),
        resolved=removed or n.status == "resolved",
    )


def project_row(
    db, entity: str, id_: str, version: int, data: dict, *, pending=True, now: str | None = None
) -> bool:
    """Copy a server row into its local table unless a local change to it is still waiting
    to go up (that row keeps the clerk's values and shows 待上传 until the county answers).
    A row whose references are not here yet stays in the mirror only (retried later)."""
    table = PROJECTED_TABLES[entity]
    conn = db.conn
    cols = table_columns(conn, table)
    if not cols:
        return False
    if pending and has_pending_for(db, id_):
        return False
    keep = _LOCAL_ONLY | _KEEP_LOCAL.get(entity, set())
    row = {k: v for k, v in data.items() if k in cols and k not in keep}
    row["id"] = id_
    if entity == sp.E_PERSON:
        if "person_id" in row:
            row.pop("person_id")
        if "name" in row and "name_pinyin" in cols and "name_pinyin" not in data:
            row["name_pinyin"], row["name_initials"] = _pinyin(row["name"])
        if row.get("household_id") and not _exists(conn, "household", row["household_id"]):
            row["household_id"] = None
    if "person_id" in row and row["person_id"]:
        row["person_id"] = canonical_person_id(db, row["person_id"])
    if entity == sp.E_HOUSEHOLD:
        row["village_id"] = _local_village(conn, data)
    for k in ("amount", "subsidy_amount"):
        if k in row and row[k] is not None:
            row[k] = str(row[k])
    if "server_version" in cols:
        row["server_version"] = version
    now = now or now_iso()
    fresh = dict(row)  # as a new row: made now, from the county
    for k in ("created_at", "updated_at"):
        if k in cols and not fresh.get(k):
            fresh[k] = now
    if "origin" in cols:
        fresh["origin"] = "county"
    # One statement each (SQLite undoes a failed statement by itself, no savepoint needed).
    # The INSERT first: a first sync's rows are all new, and it saves a look-up each; a row
    # already here is left alone by it (ON CONFLICT … DO NOTHING) and updated instead.
    try:
        inserted = (
            conn.execute(
                f"INSERT INTO {table}({', '.join(fresh)}) VALUES ({', '.join('?' * len(fresh))})"
                " ON CONFLICT(id) DO NOTHING",
                tuple(fresh.values()),
            ).rowcount
            == 1
        )
        if not inserted:
            sets = {k: v for k, v in row.items() if k != "id"}
            if "updated_at" in cols and "updated_at" not in data:
                sets["updated_at"] = now
            if sets:
                conn.execute(
                    f"UPDATE {table} SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                    (*sets.values(), id_),
                )
    except sqlite3.IntegrityError:
        return False  # a reference (person, household) arrives in a later change
    if entity == sp.E_PERSON and "name" in row:
        set_name_keys(conn, id_, row["name"], new=inserted)
    return True


def forget_tallies(db) -> None:
    """Every village's campaign tally out (the home page counts again at its next read):
    a large pulled page does this once, so the tally triggers skip each of its rows (0150)."""
    db.conn.execute("DELETE FROM campaign_tallied")


def reproject_waiting(db) -> int:
    """Project mirror rows that could not be projected before (references were missing,
    or a local change was pending and has since been answered). Returns rows projected."""
    done = 0
    for entity, table in PROJECTED_TABLES.items():
        cols = table_columns(db.conn, table)
        if not cols or "server_version" not in cols:
            continue
        rows = db.conn.execute(
            f"SELECT s.id, s.version, s.data FROM server_row s LEFT JOIN {table} t ON t.id = s.id"
            " WHERE s.entity = ? AND s.removed = 0"
            " AND (t.id IS NULL OR t.server_version IS NULL OR t.server_version < s.version)"
            " AND s.id NOT IN (SELECT alias_id FROM person_alias)",
            (entity,),
        ).fetchall()
        for id_, version, data in rows:
            if project_row(db, entity, id_, version, json.loads(data)):
                done += 1
    return done


def _exists(conn, table: str, id_: str) -> bool:
    return conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (id_,)).fetchone() is not None


def _local_village(conn, data: dict) -> str | None:
    vid = data.get("village_id")
    if vid and _exists(conn, "village", vid):
        return vid
    name = data.get("village_name")
    if name:
        r = conn.execute("SELECT id FROM village WHERE name = ?", (name,)).fetchone()
        if r:
            return r[0]
    return None


# ------------------------------------------------------------------ row state for screens
def row_state(store_or_db, entity: str, id_: str) -> str:
    """ "pending" (待上传), "confirmed" (已确认) or "local" (never sent)."""
    conn = store_or_db.conn
    if conn.execute(
        "SELECT 1 FROM outbox WHERE status = 'pending' AND entity_id = ? LIMIT 1", (id_,)
    ).fetchone():
        return "pending"
    table = PROJECTED_TABLES.get(entity)
    if table and "server_version" in table_columns(conn, table):
        r = conn.execute(f"SELECT server_version FROM {table} WHERE id = ?", (id_,)).fetchone()
        if r and r[0] is not None:
            return "confirmed"
    return "local"


def mirror_checksum(store_or_db, entities: tuple[str, ...] | None = None) -> tuple[int, str]:
    """(rows, sha256) over the server rows held here, for comparing with the county."""

    h = hashlib.sha256()
    n = 0
    q = "SELECT entity, id, version, data FROM server_row WHERE removed = 0"
    params: list[Any] = []
    if entities:
        q += f" AND entity IN ({','.join('?' * len(entities))})"
        params = list(entities)
    for entity, id_, version, data in store_or_db.conn.execute(q + " ORDER BY entity, id", params):
        h.update(f"{entity}|{id_}|{version}|{data}\n".encode())
        n += 1
    return n, h.hexdigest()
