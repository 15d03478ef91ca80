"""Audit-chain anchors: the head (seq, hash) of each desk's audit log, sent with every pull.
A head that goes back (a shorter log) or changes at a seq already anchored (a rewritten
log) is kept out and written to ``security_event``; the desk's ``audit verify`` compares its
log with the anchors held here."""

from __future__ import annotations

import psycopg
from fastapi import Request

from county.db import log_security
from county.deps import _remote
from county.ingest import Device


def anchor(conn: psycopg.Connection, request: Request, dev: Device, seq: int, h: str) -> None:
    last = conn.execute(
        "SELECT seq, hash FROM audit_anchor WHERE device_id = %s ORDER BY seq DESC LIMIT 1",
        (dev.device_id,),
    ).fetchone()
    same = conn.execute(
        "SELECT hash FROM audit_anchor WHERE device_id = %s AND seq = %s", (dev.device_id, seq)
    ).fetchone()
    kind = None
    if last is not None and seq < last["seq"]:
        kind = "audit_rollback"  # entries the county saw are gone
    elif same is not None and same["hash"] != h:
        kind = "audit_rewritten"  # the entry at an anchored seq changed
    if kind:
        log_security(
            conn,
            kind,
            device_id=dev.device_id,
            sp_id=dev.sp_id,
            remote=_remote(request),
            path=request.url.path,
            detail={"sent": {"seq": seq, "hash": h[:64]}, "held": dict(last) if last else None},
        )
        return
    conn.execute(
        "INSERT INTO audit_anchor(device_id, seq, hash) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (dev.device_id, seq, h),
    )
