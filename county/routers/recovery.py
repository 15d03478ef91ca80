"""A replacement PC (issue 14): desks escrow their data folder's key (sealed at rest); a
one-time recovery code issued by the county (``township-county device recovery-code``)
hands the key and a new credential for the old device to the replacement PC, which then
opens the old PC's encrypted backup. Without the code, the backup stays unreadable."""

from __future__ import annotations

from fastapi import APIRouter, Request

from core import synccustody as sc
from core import syncproto as sp
from county import sealing
from county.db import log_security
from county.deps import TEN_MINUTES, DeviceDep, PoolDep, _remote, refuse, too_many
from county.receipt_keys import wire_key
from county.schemas import EscrowBody, RecoverBody
from county.security import new_credential, normalize_code, sha256_hex

router = APIRouter(tags=["devices"])


@router.post(sp.EP_ESCROW)
def escrow(body: EscrowBody, dev: DeviceDep, pool: PoolDep) -> dict:
    """Keep (sealed) the key of this device's data folder."""
    with pool.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE device SET escrow_folder = %s, escrow_key = %s, escrowed_at = now()"
            " WHERE id = %s",
            (body.folder_id, sealing.seal(body.store_key), dev.device_id),
        )
    return {"ok": True}


@router.post(sp.EP_RECOVER, response_model=sc.RecoverResponse)
def recover(body: RecoverBody, request: Request, pool: PoolDep) -> dict:
    """Exchange a one-time recovery code for the old device's key and a new credential
    (the old credential stops working; a disabled device becomes usable again)."""
    limit = request.app.state.settings.register_tries
    too_many(request, "register", _remote(request) or "?", limit, TEN_MINUTES)
    code_hash = sha256_hex(normalize_code(body.code))
    with pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "SELECT r.device_id, r.used_at, r.expires_at < now() AS expired, d.escrow_folder,"
            " d.escrow_key, d.service_point_id, s.code, s.name, s.region_code"
            " FROM recovery_code r JOIN device d ON d.id = r.device_id"
            " JOIN service_point s ON s.id = d.service_point_id"
            " WHERE r.code_sha256 = %s FOR UPDATE OF r",
            (code_hash,),
        ).fetchone()
        refused = None
        if row is None or row["used_at"] is not None or row["expired"]:
            refused = "unknown" if row is None else ("used" if row["used_at"] else "expired")
        else:
            credential, secret_hash = new_credential(row["device_id"])
            conn.execute(
                "UPDATE device SET secret_sha256 = %s, name = %s, app_version = %s,"
                " revoked_at = NULL, disabled_at = NULL, disabled_reason = NULL,"
                " wiped_at = NULL WHERE id = %s",
                (secret_hash, body.device_name, body.app_version, row["device_id"]),
            )
            conn.execute(
                "UPDATE recovery_code SET used_at = now() WHERE code_sha256 = %s", (code_hash,)
            )
            log_security(
                conn,
                "device_recovered",
                device_id=row["device_id"],
                sp_id=row["service_point_id"],
                remote=_remote(request),
                path=request.url.path,
            )
            store_key = sealing.unseal(row["escrow_key"])
            receipt_key = wire_key(conn, row["service_point_id"])
    if refused is not None:
        raise refuse(
            request,
            400,
            sp.ERR_CODE_INVALID,
            {
                "unknown": "恢复码不正确，请核对后重新输入",
                "used": "该恢复码已被使用过；请向县医保信息科申请新的恢复码",
                "expired": "该恢复码已过期；请向县医保信息科申请新的恢复码",
            }[refused],
            "recovery_refused",
            reason=refused,
        )
    return {
        "device_id": row["device_id"],
        "credential": credential,
        "service_point": {
            "id": row["service_point_id"],
            "code": row["code"],
            "name": row["name"],
            "region_code": row["region_code"],
        },
        "folder_id": row["escrow_folder"],
        "store_key": store_key,
        "receipt_key": receipt_key,
    }
