"""Device registration (one-time code → credential) and tokens (credential → token)."""

from __future__ import annotations

import hmac
import uuid

from fastapi import APIRouter, Request

from core import syncproto as sp
from county import places
from county.db import log_security
from county.deps import TEN_MINUTES, DeviceDep, PoolDep, _remote, refuse, too_many
from county.receipt_keys import wire_key
from county.schemas import RegisterBody, TokenBody
from county.security import new_credential, normalize_code, sha256_hex, split_credential

router = APIRouter(tags=["devices"])


@router.post(sp.EP_REGISTER, response_model=sp.RegisterResponse)
def register(body: RegisterBody, request: Request, pool: PoolDep) -> dict:
    """Exchange a one-time registration code for a device credential."""
    limit = request.app.state.settings.register_tries
    too_many(request, "register", _remote(request) or "?", limit, TEN_MINUTES)
    code_hash = sha256_hex(normalize_code(body.code))
    refused = None
    with pool.connection() as conn, conn.transaction():
        row = conn.execute(
            "SELECT c.service_point_id, c.used_at, c.expires_at < now() AS expired,"
            " s.code, s.name, s.region_code FROM registration_code c"
            " JOIN service_point s ON s.id = c.service_point_id"
            " WHERE c.code_sha256 = %s FOR UPDATE OF c",
            (code_hash,),
        ).fetchone()
        if row is None or row["used_at"] is not None or row["expired"]:
            refused = "unknown" if row is None else ("used" if row["used_at"] else "expired")
        else:
            device_id = str(uuid.uuid4())
            credential, secret_hash = new_credential(device_id)
            conn.execute(
                "INSERT INTO device(id, service_point_id, name, app_version, secret_sha256)"
                " VALUES (%s, %s, %s, %s, %s)",
                (
                    device_id,
                    row["service_point_id"],
                    body.device_name,
                    body.app_version,
                    secret_hash,
                ),
            )
            conn.execute(
                "UPDATE registration_code SET used_at = now(), used_by_device = %s"
                " WHERE code_sha256 = %s",
                (device_id, code_hash),
            )
            receipt_key = wire_key(conn, row["service_point_id"])
    if refused is not None:
        msg = {
            "unknown": "注册码不正确，请核对后重新输入",
            "used": "该注册码已被使用过，每个注册码只能用一次；请向县医保信息科申请新的注册码",
            "expired": "该注册码已过期，请向县医保信息科申请新的注册码",
        }[refused]
        raise refuse(
            request,
            400,
            sp.ERR_CODE_INVALID,
            msg,
            "registration_refused",
            reason=refused,
            sp_id=row["service_point_id"] if row else None,
        )
    return {
        "device_id": device_id,
        "credential": credential,
        "service_point": {
            "id": row["service_point_id"],
            "code": row["code"],
            "name": row["name"],
            "region_code": row["region_code"],
        },
        "receipt_key": receipt_key,
    }


@router.post(sp.EP_TOKEN, response_model=sp.TokenResponse)
def token(body: TokenBody, request: Request, pool: PoolDep) -> dict:
    """A short-lived signed token for this device and operator."""
    parts = split_credential(body.credential)
    row = None
    if parts is not None:
        with pool.connection() as conn:
            row = conn.execute(
                "SELECT id, service_point_id, secret_sha256, revoked_at, disabled_at"
                " FROM device WHERE id = %s",
                (parts[0],),
            ).fetchone()
    if (
        row is None
        or row["revoked_at"] is not None
        or not hmac.compare_digest(row["secret_sha256"], sha256_hex(parts[1]))
    ):
        raise refuse(
            request,
            401,
            sp.ERR_CREDENTIAL,
            "设备凭据无效或已停用，请重新注册本机（township-desk register-device）",
            "credential_refused",
            device_id=parts[0][:64] if parts else None,
        )
    ttl = request.app.state.settings.token_ttl
    now = request.app.state.clock()
    tok = request.app.state.token_signer.sign(
        {"d": row["id"], "s": row["service_point_id"], "o": body.operator_id, "x": int(now) + ttl}
    )
    with pool.connection() as conn:
        conn.execute("UPDATE device SET last_seen_at = now() WHERE id = %s", (row["id"],))
        if body.operator_id != sp.SCHEDULED_OPERATOR:
            places.seen_operator(
                conn, row["service_point_id"], body.operator_id, body.operator_name, row["id"]
            )
    return {
        "token": tok,
        "expires_in": ttl,
        "device_id": row["id"],
        "service_point_id": row["service_point_id"],
        "disabled": row["disabled_at"] is not None,
    }


@router.post(sp.EP_WIPED)
def wiped(request: Request, dev: DeviceDep, pool: PoolDep) -> dict:
    """A disabled device reports that it pushed what it held and erased its personal data:
    from now on it is revoked (its credential opens nothing)."""
    if not dev.disabled:
        raise refuse(
            request,
            409,
            sp.ERR_FORBIDDEN,
            "本机没有被停用，不需要清除数据",
            "wipe_not_requested",
            device_id=dev.device_id,
            sp_id=dev.sp_id,
        )
    with pool.connection() as conn, conn.transaction():
        conn.execute(
            "UPDATE device SET wiped_at = now(), revoked_at = coalesce(revoked_at, now())"
            " WHERE id = %s",
            (dev.device_id,),
        )
        log_security(
            conn,
            "device_wiped",
            device_id=dev.device_id,
            sp_id=dev.sp_id,
            remote=_remote(request),
            path=request.url.path,
        )
    return {"ok": True}
