"""Push: apply a batch of desktop operations exactly once (one transaction per batch, one savepoint per op; an op already stored answers with its stored result)."""

from __future__ import annotations

import psycopg
from psycopg import errors as pgerr

from core import syncproto as sp
from county.db import insert_rows, jsonb, log_security
from county.ingest.alerts import alert_raise
from county.ingest.common import BatchRetry, Device, _result, log
from county.ingest.enrollments import enrollment_create
from county.ingest.households import household_create
from county.ingest.payments import payment_cancel, payment_record
from county.ingest.persons import person_create
from county.ingest.updates import apply_update
from county.model import OpRejected


def push_batch(
    conn: psycopg.Connection, dev: Device, batch_id: str, ops: list[sp.Op]
) -> list[dict]:
    """Apply ops in order inside the caller's transaction; returns one result per op.
    Known op_ids are read in one query; results are stored in one round trip at the end."""
    known = {
        r["op_id"]: r
        for r in conn.execute(
            "SELECT op_id, device_id, payload_sha256, result FROM applied_op"
            " WHERE region = %s AND op_id = ANY(%s)",
            (dev.region, [o.op_id for o in ops]),
        ).fetchall()
    }
    results, store_rows = [], []
    if not known:
        from county.fastpath import (
            try_bulk,
        )  # deferred: breaks an import cycle (ytd/conflicts/fastpath import ingest)

        bulk = try_bulk(conn, dev, ops)
        if bulk is not None:
            _store_all(conn, dev, batch_id, ops, bulk)
            return bulk
    conn.execute("SAVEPOINT op")
    for op in ops:
        if op.op_id in known:
            results.append(_replay(conn, dev, op, known[op.op_id]))
            continue
        result, keep = apply_op(conn, dev, op)
        if keep:
            known[op.op_id] = {"payload_sha256": op.payload_sha256, "result": result}
            store_rows.append(
                (
                    op.op_id,
                    dev.device_id,
                    op.device_seq,
                    op.op_type,
                    op.entity_id,
                    op.payload_sha256,
                    batch_id,
                    jsonb(result),
                    dev.region,
                )
            )
        results.append(result)
    _store_rows(conn, store_rows)
    return results


def _store_all(conn, dev: Device, batch_id: str, ops: list[sp.Op], results: list[dict]) -> None:
    _store_rows(
        conn,
        [
            (
                op.op_id,
                dev.device_id,
                op.device_seq,
                op.op_type,
                op.entity_id,
                op.payload_sha256,
                batch_id,
                jsonb(r),
                dev.region,
            )
            for op, r in zip(ops, results, strict=True)
        ],
    )


def _store_rows(conn, store_rows: list[tuple]) -> None:
    if store_rows:
        try:
            with conn.transaction():
                insert_rows(
                    conn,
                    "applied_op",
                    "op_id text, device_id text, device_seq bigint, op_type text, entity_id text,"
                    " payload_sha256 text, batch_id text, result jsonb, region text",
                    store_rows,
                )
        except pgerr.UniqueViolation as e:
            raise BatchRetry(str(e)) from e


def apply_op(conn: psycopg.Connection, dev: Device, op: sp.Op) -> tuple[dict, bool]:
    """(result, store it?). Runs the op under the savepoint ``op`` (re-armed per op)."""
    body_bytes = len(sp.canonical_json(op.payload).encode("utf-8"))
    if body_bytes > sp.MAX_PAYLOAD_BYTES:
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_TOO_LARGE,
            message=f"这条操作内容过大（{body_bytes}字节，上限{sp.MAX_PAYLOAD_BYTES}字节）",
        ), True
    if sp.payload_sha256(op.payload) != op.payload_sha256:
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_HASH_MISMATCH,
            message="操作内容与其校验值不符（传输中损坏或软件错误），未保存",
        ), False
    try:
        result = _apply(conn, dev, op)
        conn.execute("RELEASE SAVEPOINT op; SAVEPOINT op")
        return result, True
    except OpRejected as r:
        conn.execute("ROLLBACK TO SAVEPOINT op")
        result = _result(op.op_id, sp.ST_REJECTED, code=r.code, message=r.message)
        if r.code == sp.R_SCOPE:
            log_security(
                conn,
                "forbidden_scope",
                device_id=dev.device_id,
                sp_id=dev.sp_id,
                detail={
                    "op_id": op.op_id,
                    "op_type": op.op_type,
                    "entity_id": op.entity_id,
                    "message": r.message,
                },
            )
            conn.execute("RELEASE SAVEPOINT op; SAVEPOINT op")
        return result, True
    except (pgerr.DeadlockDetected, pgerr.SerializationFailure, pgerr.LockNotAvailable):
        raise
    except pgerr.UniqueViolation:
        conn.execute("ROLLBACK TO SAVEPOINT op")
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_INVALID,
            message="与县里已有的记录冲突（证件号码或编号重复），未保存",
        ), True
    except (pgerr.DataError, pgerr.IntegrityError) as e:
        conn.execute("ROLLBACK TO SAVEPOINT op")
        log.info("op %s rejected by the database: %s", op.op_id, e)
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_INVALID,
            message="操作内容不符合县里数据要求，未保存",
        ), True


def _replay(conn, dev: Device, op: sp.Op, stored: dict) -> dict:
    """An op already stored answers with its stored result — only to the device that sent
    it; another device replaying its id learns nothing and the attempt is logged."""
    if stored["device_id"] != dev.device_id:
        log_security(
            conn,
            "foreign_replay",
            device_id=dev.device_id,
            sp_id=dev.sp_id,
            detail={"op_id": op.op_id, "op_type": op.op_type},
        )
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_SCOPE,
            message="该操作编号属于另一台设备，县里未处理；请联系技术人员",
        )
    if stored["payload_sha256"] != op.payload_sha256:
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_HASH_MISMATCH,
            message="该操作编号已用于另一份内容，县里保留原内容；请联系技术人员",
        )
    return {**stored["result"], "replayed": True}


def _apply(conn, dev: Device, op: sp.Op) -> dict:
    entity = sp.entity_of(op.op_type)
    if entity is None:
        raise OpRejected(sp.R_UNKNOWN_OP, f"县里不认识这种操作：{op.op_type[:40]}（请升级软件）")
    if not isinstance(op.payload, dict):
        raise OpRejected(sp.R_INVALID, "操作内容应为对象")
    pid = op.payload.get("id")
    if op.op_type.endswith((".create", ".record")) and pid is not None and pid != op.entity_id:
        raise OpRejected(sp.R_INVALID, "操作内容中的编号与操作的对象编号不一致")
    handler = {
        "household.create": household_create,
        "person.create": person_create,
        "enrollment.create": enrollment_create,
        "payment.record": payment_record,
        "payment.void": payment_cancel,
        "payment.refund": payment_cancel,
        "poverty_alert.raise": alert_raise,
    }.get(op.op_type)
    if handler is not None:
        return handler(conn, dev, op)
    return apply_update(conn, dev, op, entity)
