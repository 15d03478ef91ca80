"""Push, pull and snapshot for an authenticated device (scope = its service point)."""

from __future__ import annotations

import random
import time

from fastapi import APIRouter, Request
from psycopg import errors as pgerr

from core import syncproto as sp
from county import updates
from county.audit_anchors import anchor
from county.db import autocommit
from county.deps import DeviceDep, PoolDep, refuse, refuse_disabled
from county.errors import ApiError
from county.ingest import BatchRetry, push_batch
from county.schemas import PullBody, PushBody, SnapshotBody
from county.streams import BadPageToken, pull, snapshot

router = APIRouter(tags=["sync"])


@router.post(sp.EP_PUSH, response_model=sp.PushResponse)
def push(body: PushBody, dev: DeviceDep, pool: PoolDep) -> dict:
    """Apply outbox operations exactly once; one result per op, in order."""
    if len(body.ops) > sp.MAX_BATCH_OPS:
        raise ApiError(
            413,
            sp.ERR_TOO_LARGE,
            f"一次最多上传{sp.MAX_BATCH_OPS}条操作（收到{len(body.ops)}条），请分批上传",
        )
    ops = [sp.Op.from_dict(o.model_dump()) for o in body.ops]
    for attempt in range(5):
        try:
            with pool.connection() as conn, conn.transaction():
                results = push_batch(conn, dev, body.batch_id, ops)
                conn.execute(
                    "UPDATE device SET last_seen_at = now() WHERE id = %s", (dev.device_id,)
                )
            return {"batch_id": body.batch_id, "results": results}
        except (pgerr.DeadlockDetected, pgerr.SerializationFailure, BatchRetry):
            time.sleep(random.uniform(0.02, 0.1) * (attempt + 1))
    raise ApiError(503, sp.ERR_INTERNAL, "县服务器繁忙，请稍后重试", headers={"Retry-After": "3"})


@router.post(sp.EP_PULL, response_model=sp.PullResponse)
def pull_changes(body: PullBody, request: Request, dev: DeviceDep, pool: PoolDep) -> dict:
    """Changes after the cursor of each stream, in commit order."""
    refuse_disabled(request, dev)
    unknown = sorted(set(body.cursor) - set(sp.STREAMS))
    if unknown:
        raise refuse(
            request,
            403,
            sp.ERR_FORBIDDEN,
            f"只能读取本服务点的数据流（{'、'.join(sp.STREAMS)}），请求已拒绝并记录",
            "forbidden_stream",
            device_id=dev.device_id,
            sp_id=dev.sp_id,
            streams=[s[:64] for s in unknown[:5]],
        )
    if any(v < 0 for v in body.cursor.values()):
        raise ApiError(422, sp.ERR_INVALID, "游标不能为负数")
    # two reads, each its own statement; the status and audit head a desk sends are
    # written in transactions of their own
    with autocommit(pool) as conn:
        if body.audit_head is not None:
            with conn.transaction():
                anchor(conn, request, dev, body.audit_head.seq, body.audit_head.hash)
        if body.desk_status is not None:
            with conn.transaction():
                conn.execute(
                    "UPDATE device SET reported_pending = %s, reported_error = %s,"
                    " reported_at = now(), last_seen_at = now() WHERE id = %s",
                    (body.desk_status.pending, body.desk_status.last_error, dev.device_id),
                )
                updates.record_status(
                    conn, dev.device_id, body.desk_status.app_version, body.desk_status.update
                )
        return {
            **pull(conn, dev.sp_id, body.cursor, body.limit),
            "update": updates.offer_for(conn, dev.sp_id),
        }


@router.post(sp.EP_AUDIT_ANCHORS)
def audit_anchors(dev: DeviceDep, pool: PoolDep) -> dict:
    """The audit-chain heads this device sent (newest first): its ``audit verify`` checks
    that its log still holds each of them."""
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT seq, hash, at FROM audit_anchor WHERE device_id = %s"
            " ORDER BY seq DESC LIMIT 1000",
            (dev.device_id,),
        ).fetchall()
    return {
        "anchors": [{"seq": r["seq"], "hash": r["hash"], "at": r["at"].isoformat()} for r in rows]
    }


@router.post(sp.EP_SNAPSHOT, response_model=sp.SnapshotResponse)
def snapshot_page(body: SnapshotBody, request: Request, dev: DeviceDep, pool: PoolDep) -> dict:
    """One page of the first-sync snapshot; resume with next_page_token."""
    refuse_disabled(request, dev)
    with pool.connection() as conn:
        try:
            return snapshot(
                conn,
                request.app.state.page_signer,
                dev.device_id,
                dev.sp_id,
                body.page_token,
                body.limit,
            )
        except BadPageToken as e:
            raise ApiError(400, sp.ERR_INVALID, str(e)) from None
