"""The audit log (append-only, hash-chained) and the outbox, written inside the caller's
write transaction so that a change, its audit entry and its operation for the county
commit together or not at all."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from desktop.store.cipher import sqlite3

GENESIS = "0" * 64


def now_iso() -> str:
    """Local wall-clock time with offset, to the second (for display and audit only;
    no ordering decision depends on it)."""
    return datetime.now().astimezone().isoformat(timespec="seconds")


def new_id() -> str:
    return str(uuid.uuid4())


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no spaces, UTF-8 kept, Decimals and dates as strings."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


KEYED_MIGRATION = "0110_audit_keyed"  # from this migration on, links are keyed MACs


def _entry_body(
    prev_hash: str,
    seq: int,
    at: str,
    operator_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: str,
) -> str:
    return prev_hash + canonical_json([seq, at, operator_id, action, entity, entity_id, detail])


def _mac(conn, text: str) -> str:
    """The keyed link (``audit_mac``, registered on every store connection)."""
    return conn.execute("SELECT audit_mac(?)", (text,)).fetchone()[0]


def keyed_chain(conn) -> bool:
    """True once the chain of this database was re-linked with keyed MACs."""
    try:
        return (
            conn.execute(
                "SELECT 1 FROM _sqlite_migrations WHERE name = ?", (KEYED_MIGRATION,)
            ).fetchone()
            is not None
        )
    except sqlite3.OperationalError:
        return False


def append_audit(
    db: sqlite_utils.Database,
    *,
    operator_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None,
    detail: dict | None = None,
    at: str | None = None,
    detail_json: str | None = None,
) -> int:
    """Append one audit entry; must run inside a write transaction. Returns its seq.
    ``detail_json``: the detail already serialised with :func:`canonical_json`."""
    if not db.conn.in_transaction:
        raise RuntimeError("append_audit must run inside Store.write()")
    at = at or now_iso()
    last = db.conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    if detail_json is None:
        detail_json = canonical_json(detail or {})
    h = _mac(
        db.conn, _entry_body(prev, seq, at, operator_id, action, entity, entity_id, detail_json)
    )
    db.conn.execute(
        "INSERT INTO audit_log(seq, at, operator_id, action, entity, entity_id, detail, prev_hash, hash)"
        " VALUES (?,?,?,?,?,?,?,?,?)",
        (seq, at, operator_id, action, entity, entity_id, detail_json, prev, h),
    )
    return seq


def audit_count(store_or_db) -> int:
    """Entries in the audit log."""
    return store_or_db.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]


@dataclass(frozen=True)
class AuditProblem:
    seq: int
    problem: str


def audit_head(conn) -> dict:
    """The newest entry of the chain as {"seq", "hash"} (what the county anchors)."""
    row = conn.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return {"seq": row[0], "hash": row[1]} if row else {"seq": 0, "hash": GENESIS}


def check_anchors(conn, anchors: list[dict]) -> list[AuditProblem]:
    """Anchors the county holds that this log no longer matches: an entry cut off (the log
    is shorter than an anchor) or changed (a different link at an anchored seq)."""
    problems: list[AuditProblem] = []
    head = audit_head(conn)
    for a in anchors:
        seq, want = int(a["seq"]), str(a["hash"])
        row = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        if row is None:
            last = head["seq"]
            problems.append(
                AuditProblem(seq, f"entry anchored at the county is gone (log ends at {last})")
            )
        elif row[0] != want:
            problems.append(AuditProblem(seq, "entry differs from the county's anchor"))
    return problems


def verify_audit(db: sqlite_utils.Database) -> list[AuditProblem]:
    """Recompute the hash chain; an empty list means the log is intact."""
    problems: list[AuditProblem] = []
    prev, expected_seq = GENESIS, 1
    link = (lambda text: _mac(db.conn, text)) if keyed_chain(db.conn) else sha256_hex
    for row in db.conn.execute(
        "SELECT seq, at, operator_id, action, entity, entity_id, detail, prev_hash, hash"
        " FROM audit_log ORDER BY seq"
    ):
        seq, at, op, action, entity, entity_id, detail, prev_hash, h = row
        if seq != expected_seq:
            problems.append(
                AuditProblem(seq, f"entries missing before seq {seq} (expected {expected_seq})")
            )
        if prev_hash != prev:
            problems.append(AuditProblem(seq, "prev_hash does not match the previous entry"))
        if link(_entry_body(prev_hash, seq, at, op, action, entity, entity_id, detail)) != h:
            problems.append(AuditProblem(seq, "content changed: hash does not match"))
        prev, expected_seq = h, seq + 1
    return problems


def enqueue_op(
    db: sqlite_utils.Database,
    *,
    op_type: str,
    entity_id: str,
    payload: dict,
    operator_id: str | None,
    base_version: int | None = None,
    at: str | None = None,
    body: str | None = None,
) -> str:
    """Write one operation for the county into the outbox; must run inside a write
    transaction. ``device_seq`` is max+1 under the write lock, so it has no gaps.
    ``body``: the payload already serialised with :func:`canonical_json`."""
    if not db.conn.in_transaction:
        raise RuntimeError("enqueue_op must run inside Store.write()")
    op_id = new_id()
    if body is None:
        body = canonical_json(payload)
    seq = db.conn.execute("SELECT COALESCE(MAX(device_seq), 0) + 1 FROM outbox").fetchone()[0]
    db.conn.execute(
        "INSERT INTO outbox(device_seq, op_id, op_type, entity_id, base_version, payload,"
        " payload_sha256, operator_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            seq,
            op_id,
            op_type,
            entity_id,
            base_version,
            body,
            sha256_hex(body),
            operator_id,
            at or now_iso(),
        ),
    )
    return op_id


def record_change(
    db: sqlite_utils.Database,
    *,
    operator_id: str | None,
    action: str,
    entity: str,
    entity_id: str,
    before: dict | None,
    after: dict | None,
    op_payload: dict | None = None,
    base_version: int | None = None,
    extra: dict | None = None,
) -> str | None:
    """Audit a change and, when ``op_payload`` is given, queue it for the county under the
    op type ``action``. Returns the op_id (or None when nothing is queued)."""
    at = now_iso()
    detail: dict[str, Any] = {"before": before, "after": after}
    if extra:
        detail.update(extra)
    op_id = None
    body = None
    if op_payload is not None:
        body = canonical_json(op_payload)
        op_id = enqueue_op(
            db,
            op_type=action,
            entity_id=entity_id,
            payload=op_payload,
            operator_id=operator_id,
            base_version=base_version,
            at=at,
            body=body,
        )
        detail["op_id"] = op_id
    append_audit(
        db,
        operator_id=operator_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        at=at,
        detail_json=_detail_json(detail, after if after is op_payload else None, body),
    )
    return op_id


def audit_event(
    db: sqlite_utils.Database,
    *,
    operator_id: str | None,
    action: str,
    entity: str,
    entity_id: str | None,
    before: dict | None = None,
    after: dict | None = None,
    extra: dict | None = None,
) -> None:
    """Audit something done at this desk that changes no synced row (a log-in, a backup, a
    setting, a resolved inbox item): one hash-chained entry, nothing queued for the county.
    Row changes go through :func:`write_journaled` (or a store module) instead."""
    record_change(
        db,
        operator_id=operator_id,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
        extra=extra,
    )


def _detail_json(detail: dict[str, Any], same: Any, same_json: str | None) -> str:
    """``canonical_json(detail)``, reusing the op payload's JSON for ``after`` when they
    are the same object (the common case: the row is both audited and queued)."""
    if same is None or same_json is None:
        return canonical_json(detail)
    parts = (
        f"{canonical_json(k)}:{same_json if k == 'after' else canonical_json(v)}"
        for k, v in sorted(detail.items())
    )
    return "{" + ",".join(parts) + "}"


_UNSET: Any = object()


def write_journaled(
    db: sqlite_utils.Database,
    table: str,
    values: dict[str, Any],
    *,
    operator_id: str | None,
    action: str,
    before: dict | None = None,
    entity: str | None = None,
    queue: bool = True,
    hide: tuple[str, ...] = (),
    op_extra: dict | None = None,
    op_payload: Any = _UNSET,
    base_version: Any = _UNSET,
    read_back: bool = True,
    extra: dict | None = None,
) -> dict:
    """Write one row, its audit entry and (when ``queue``) its outbox op, in the caller's
    write transaction — the one way a service records a change.

    ``before is None``: INSERT ``values`` into ``table``. Otherwise UPDATE the row
    ``before["id"]`` with ``values`` (exactly the columns given: the caller sets
    ``updated_at`` and ``version``). ``read_back`` returns the whole stored row (``RETURNING
    *``, no extra query) and uses it as the audit's ``after`` and the op payload; without
    it the row is ``values`` (merged over ``before``). Columns in ``hide`` stay out of the
    audit entry and the op; ``op_extra`` is added to the op payload only; ``op_payload``
    replaces the payload whole. ``base_version`` defaults to ``before["server_version"]``.
    The op type and audit action are ``action``; ``entity`` defaults to ``table``.
    Returns the row as written (hidden columns included)."""
    if not db.conn.in_transaction:
        raise RuntimeError("write_journaled must run inside Store.write()")
    cols = list(values)
    params = [values[c] for c in cols]
    ret = " RETURNING *" if read_back else ""
    if before is None:
        sql = f"INSERT INTO {table}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        cur = db.conn.execute(sql + ret, params)
        entity_id = values["id"]
    else:
        entity_id = before["id"]
        sets = ", ".join(f"{c} = ?" for c in cols)
        cur = db.conn.execute(f"UPDATE {table} SET {sets} WHERE id = ?{ret}", (*params, entity_id))
    if read_back:
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
        cur.fetchall()  # finish the statement
    else:
        row = {**(before or {}), **values}
    shown = {k: v for k, v in row.items() if k not in hide} if hide else row
    shown_before = (
        {k: v for k, v in before.items() if k not in hide} if (before and hide) else before
    )
    payload: dict | None = None
    if queue:
        payload = shown if op_payload is _UNSET else op_payload
        if op_extra:
            payload = {**payload, **op_extra}
    if base_version is _UNSET:
        base_version = before.get("server_version") if before else None
    record_change(
        db,
        operator_id=operator_id,
        action=action,
        entity=entity or table,
        entity_id=entity_id,
        before=shown_before,
        after=shown,
        op_payload=payload,
        base_version=base_version,
        extra=extra,
    )
    return row


def pending_count(store_or_db) -> int:
    """Operations in the outbox not yet accepted by the county (the status bar's 待上传)."""
    return store_or_db.conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE status = 'pending'"
    ).fetchone()[0]
