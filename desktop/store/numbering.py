"""Receipt numbers without a network: ``<service point code>-<device no>-<counter>``.

Call :func:`take_receipt_no` INSIDE the write transaction that records the payment::

    with store.write() as db:
        no = take_receipt_no(store, operator_id=actor.operator_id,
                             entity="payment", entity_id=payment_id)
        db.conn.execute("INSERT INTO payment(..., receipt_no) VALUES (..., ?)", (..., no))
        record_change(db, ...)

The number is then committed together with the payment, or not at all.

Why a number is never handed out twice (the choice, documented):

* **Counter in the database** (``receipt_counter``), moved under the write lock
  (``BEGIN IMMEDIATE``), and every number issued recorded in ``receipt_number`` (unique) and in
  the audit log (``receipt.number``).
* **High-water mark outside the database file**: ``receipt-numbers.hwm`` beside the database
  in the data folder (JSON ``{scope: last_seq}``). Before the number is returned, the new mark
  is written to a temporary file, fsync'd and atomically renamed over the old one. The next
  number is ``max(counter in db, mark in file) + 1``. So:

  - a crash (or a rolled-back payment) after the mark was written leaves the database one
    behind the file: that number is skipped, and
  - restoring an older copy of the database file (a backup) leaves the database behind the
    file by all numbers issued since the backup: they are skipped too.

  Payments received from the county that carry this desk's numbers (a PC rebuilt from the
  county's data) raise the next number above theirs too.

  In all cases the next allocation writes one ``receipt.numbers_skipped`` audit entry naming
  the skipped range and the reason, so every gap in the sequence is explained by the audit
  log. Backups copy the database only; the mark file must stay on the PC (it is tiny and is
  never part of a backup). A restore onto a *different* PC (the old one lost) must first set
  the floor from the county's last received number with :func:`raise_floor` (supervisor).

An in-memory store (unit tests) has no file: only the database counter applies.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from desktop.store.cipher import sqlite3
from desktop.store.db import Store
from desktop.store.errors import StoreError
from desktop.store.journal import append_audit, now_iso

HWM_FILENAME = "receipt-numbers.hwm"
SEQ_DIGITS = 8
RECEIPT_NO_RE = re.compile(r"^(?P<code>[A-Z0-9]{1,12})-(?P<device>\d{2})-(?P<seq>\d{8})$")


@dataclass(frozen=True)
class ReceiptNo:
    scope: str  # e.g. SP01-01
    seq: int

    @property
    def text(self) -> str:
        return f"{self.scope}-{self.seq:0{SEQ_DIGITS}d}"

    def __str__(self) -> str:
        return self.text


def format_receipt_no(code: str, device_no: int, seq: int) -> str:
    return ReceiptNo(scope_of(code, device_no), seq).text


def scope_of(code: str, device_no: int) -> str:
    return f"{code.upper()}-{int(device_no):02d}"


def parse_receipt_no(text: str) -> ReceiptNo | None:
    m = RECEIPT_NO_RE.match((text or "").strip().upper())
    if not m:
        return None
    return ReceiptNo(f"{m['code']}-{m['device']}", int(m["seq"]))


def hwm_path(store: Store) -> Path | None:
    """Where the high-water mark of ``store`` lives (None for an in-memory store)."""
    if store.path is None:
        return None
    return Path(store.path).parent / HWM_FILENAME


def read_hwm(path: Path | None) -> dict[str, int]:
    if path is None or not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and v >= 0 for k, v in data.items()
        ):
            raise ValueError("not a {scope: seq} object")
    except (OSError, ValueError) as e:
        raise StoreError(
            f"收据号高水位文件 {path} 无法读取（{e}），为防止收据号重复，已停止开票。"
            "请联系县医保信息管理员核对最后一张收据号后恢复。",
            code="RECEIPT_HWM",
        ) from e
    return data


def _write_hwm(path: Path, marks: dict[str, int]) -> None:
    """Atomically replace the mark file (temp file, fsync, rename, fsync the folder)."""
    body = json.dumps(marks, sort_keys=True).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=".hwm-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with _suppress_oserror():
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # POSIX: make the rename durable; Windows has no dir fsync
        dfd = os.open(str(path.parent), os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


class _suppress_oserror:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return exc_type is not None and issubclass(exc_type, OSError)


def current_scope(store: Store) -> str:
    sp = store.conn.execute("SELECT code, device_no FROM service_point LIMIT 1").fetchone()
    if sp is None:
        raise StoreError("尚未完成服务点设置，不能开具收据", code="NO_SERVICE_POINT")
    return scope_of(sp[0], sp[1])


def _payments_last(conn, scope: str) -> int:
    """The highest counter of ``scope`` among recorded payments (0 when none, or before the
    payment table exists). Numbers have a fixed width, so text order is number order."""
    try:
        row = conn.execute(
            "SELECT MAX(receipt_no) FROM payment WHERE receipt_no BETWEEN ? AND ?",
            (ReceiptNo(scope, 0).text, ReceiptNo(scope, 10**SEQ_DIGITS - 1).text),
        ).fetchone()
    except sqlite3.OperationalError:  # no payment table in this database
        return 0
    parsed = parse_receipt_no(row[0]) if row and row[0] else None
    return parsed.seq if parsed and parsed.scope == scope else 0


def take_receipt_no(
    store: Store,
    *,
    operator_id: str | None,
    entity: str,
    entity_id: str | None,
    at: str | None = None,
) -> str:
    """The next receipt number for this service point and device. Must run inside
    ``store.write()``; the number commits (or rolls back) with the caller's transaction."""
    conn = store.conn
    if not conn.in_transaction:
        raise RuntimeError("take_receipt_no must run inside Store.write()")
    at = at or now_iso()
    scope = current_scope(store)
    row = conn.execute("SELECT last_seq FROM receipt_counter WHERE scope = ?", (scope,)).fetchone()
    db_last = row[0] if row else 0
    # also guard against a counter row older than the numbers actually recorded
    rec = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM receipt_number WHERE scope = ?", (scope,)
    ).fetchone()[0]
    db_last = max(db_last, rec)
    path = hwm_path(store)
    marks = read_hwm(path)
    file_last = marks.get(scope, 0)
    # payments received from the county may carry this desk's numbers (a PC rebuilt from
    # the county's data): never hand those out again either
    paid_last = _payments_last(conn, scope)
    top = max(file_last, paid_last)
    if top > db_last:
        reason = (
            "high-water mark ahead of the database: an allocation that did not "
            "commit (crash or cancelled payment) or a restore of an older database copy"
            if file_last >= paid_last
            else "payments received from the county already use these numbers"
        )
        append_audit(
            store.db,
            operator_id=operator_id,
            action="receipt.numbers_skipped",
            entity="receipt_counter",
            entity_id=scope,
            detail={
                "first": ReceiptNo(scope, db_last + 1).text,
                "last": ReceiptNo(scope, top).text,
                "count": top - db_last,
                "reason": reason,
            },
            at=at,
        )
    seq = max(db_last, top) + 1
    number = ReceiptNo(scope, seq).text
    conn.execute(
        "INSERT INTO receipt_counter(scope, last_seq, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(scope) DO UPDATE SET last_seq = excluded.last_seq, "
        "updated_at = excluded.updated_at",
        (scope, seq, at),
    )
    conn.execute(
        "INSERT INTO receipt_number(receipt_no, scope, seq, issued_at, operator_id, entity,"
        " entity_id) VALUES (?,?,?,?,?,?,?)",
        (number, scope, seq, at, operator_id, entity, entity_id),
    )
    append_audit(
        store.db,
        operator_id=operator_id,
        action="receipt.number",
        entity=entity,
        entity_id=entity_id,
        detail={"receipt_no": number, "scope": scope, "seq": seq},
        at=at,
    )
    if path is not None:
        marks[scope] = seq
        _write_hwm(path, marks)  # durable before the caller can commit and hand out paper
    return number


def raise_floor(store: Store, seq: int, *, operator_id: str | None, reason: str) -> None:
    """Make the next number at least ``seq + 1`` (after moving to a new PC: the county's last
    received number). Audited; never lowers the counter."""
    with store.write():
        scope = current_scope(store)
        path = hwm_path(store)
        marks = read_hwm(path)
        row = store.conn.execute(
            "SELECT last_seq FROM receipt_counter WHERE scope = ?", (scope,)
        ).fetchone()
        old = max(row[0] if row else 0, marks.get(scope, 0))
        if seq <= old:
            return
        at = now_iso()
        store.conn.execute(
            "INSERT INTO receipt_counter(scope, last_seq, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT(scope) DO UPDATE SET last_seq = excluded.last_seq, "
            "updated_at = excluded.updated_at",
            (scope, seq, at),
        )
        append_audit(
            store.db,
            operator_id=operator_id,
            action="receipt.numbers_skipped",
            entity="receipt_counter",
            entity_id=scope,
            detail={
                "first": ReceiptNo(scope, old + 1).text,
                "last": ReceiptNo(scope, seq).text,
                "count": seq - old,
                "reason": reason,
            },
            at=at,
        )
        if path is not None:
            marks[scope] = seq
            _write_hwm(path, marks)


def explain_sequence(store: Store, scope: str | None = None) -> dict:
    """Check the sequence of ``scope`` against the audit log: every number from 1 to the
    counter is either issued (``receipt.number``) or skipped (``receipt.numbers_skipped``).
    Returns {"issued", "skipped", "duplicates", "unexplained"} (lists of seqs)."""
    scope = scope or current_scope(store)
    issued: list[int] = []
    skipped: list[int] = []
    for action, detail in store.conn.execute(
        "SELECT action, detail FROM audit_log WHERE action IN "
        "('receipt.number', 'receipt.numbers_skipped') ORDER BY seq"
    ):
        d = json.loads(detail)
        if action == "receipt.number":
            if d.get("scope") == scope:
                issued.append(int(d["seq"]))
        else:
            first, last = parse_receipt_no(d["first"]), parse_receipt_no(d["last"])
            if first and last and first.scope == scope:
                skipped.extend(range(first.seq, last.seq + 1))
    seen: set[int] = set()
    duplicates = sorted({s for s in issued if s in seen or seen.add(s)})
    top = max(issued + skipped, default=0)
    covered = set(issued) | set(skipped)
    unexplained = [s for s in range(1, top + 1) if s not in covered]
    return {
        "issued": issued,
        "skipped": skipped,
        "duplicates": duplicates,
        "unexplained": unexplained,
    }
