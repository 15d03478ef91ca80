"""Typed dependencies: the pool, the authenticated device (scope from its credential
only) and the admin key. Refusals are logged in ``security_event``."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from psycopg_pool import ConnectionPool

from core import syncproto as sp
from county.db import autocommit, log_security
from county.errors import ApiError
from county.ingest import Device
from county.ratelimit import TAKE_SQL


async def get_pool(request: Request) -> ConnectionPool:
    # async: no I/O here, and FastAPI runs a plain `def` dependency on a worker thread
    return request.app.state.pool


PoolDep = Annotated[ConnectionPool, Depends(get_pool)]


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def refuse(request: Request, status: int, code: str, message: str, kind: str, **detail) -> ApiError:
    pool: ConnectionPool = request.app.state.pool
    with pool.connection() as conn:
        log_security(
            conn,
            kind,
            device_id=detail.pop("device_id", None),
            sp_id=detail.pop("sp_id", None),
            remote=_remote(request),
            path=request.url.path,
            detail=detail,
        )
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return ApiError(status, code, message, headers=headers)


TEN_MINUTES = 600.0


def too_many(request: Request, kind: str, key: str, limit: int, window: float, count=True):
    """429 with Retry-After when ``key`` is over its limit (logged as a security event)."""
    limiter = request.app.state.limiter
    wait = (
        limiter.take(kind, key, limit, window) if count else limiter.wait(kind, key, limit, window)
    )
    if wait is not None:
        raise _limited(request, kind, wait)


def _limited(request: Request, kind: str, wait: int) -> ApiError:
    err = refuse(
        request,
        429,
        sp.ERR_RATE_LIMITED,
        f"请求过于频繁，请{wait}秒后再试",
        "rate_limited",
        limit=kind,
    )
    err.headers = {**(err.headers or {}), "Retry-After": str(wait)}
    return err


def _bearer(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_device(request: Request) -> Device:
    token = _bearer(request)
    if token is None:
        raise refuse(
            request, 401, sp.ERR_UNAUTHORIZED, "缺少访问令牌，请先登录同步", "token_missing"
        )
    claims = request.app.state.token_signer.verify(token)
    if not claims or not all(k in claims for k in ("d", "s", "o", "x")):
        raise refuse(
            request, 401, sp.ERR_UNAUTHORIZED, "访问令牌无效，请重新登录同步", "token_invalid"
        )
    if not isinstance(claims["x"], int) or claims["x"] < request.app.state.clock():
        raise refuse(
            request,
            401,
            sp.ERR_TOKEN_EXPIRED,
            "访问令牌已过期，请重新获取令牌",
            "token_expired",
            device_id=str(claims["d"])[:64],
        )
    settings = request.app.state.settings
    limit = request.app.state.limiter.args(
        "device", str(claims["d"]), settings.device_requests, settings.device_window
    )
    with autocommit(request.app.state.pool) as conn:
        # the device's request count is taken in the same round trip as its row
        row = conn.execute(
            "SELECT d.service_point_id, d.revoked_at, d.disabled_at, s.region_code,"
            " " + TAKE_SQL + " AS wait"
            " FROM device d JOIN service_point s ON s.id = d.service_point_id WHERE d.id = %s",
            (*limit, claims["d"]),
        ).fetchone()
    if row is None or row["revoked_at"] is not None or row["service_point_id"] != claims["s"]:
        raise refuse(
            request,
            401,
            sp.ERR_CREDENTIAL,
            "本机的设备凭据已被停用，请重新注册设备",
            "device_revoked",
            device_id=str(claims["d"])[:64],
        )
    if row["wait"] is not None:
        raise _limited(request, "device", row["wait"])
    return Device(
        device_id=claims["d"],
        sp_id=row["service_point_id"],
        region=row["region_code"],
        operator_id=claims["o"],
        disabled=row["disabled_at"] is not None,
    )


def refuse_disabled(request: Request, dev: Device) -> None:
    """A disabled device pushes what it holds; it reads nothing more."""
    if dev.disabled:
        raise refuse(
            request,
            403,
            sp.ERR_DEVICE_DISABLED,
            "本机已被县医保局停用：请上传未上传的数据后清除本机数据",
            "disabled_device_read",
            device_id=dev.device_id,
            sp_id=dev.sp_id,
        )


DeviceDep = Annotated[Device, Depends(current_device)]


def require_admin(request: Request) -> str:
    key = request.app.state.settings.admin_key
    token = _bearer(request)
    if key is None:
        raise refuse(
            request,
            403,
            sp.ERR_FORBIDDEN,
            "本服务器未启用管理接口（请使用 township-county 命令）",
            "admin_disabled",
        )
    where = _remote(request) or "?"
    limit = request.app.state.settings.admin_failures
    # an address that keeps guessing the key waits, even when it finally has it right
    too_many(request, "admin", where, limit, TEN_MINUTES, count=False)
    if token is None or not hmac.compare_digest(token.encode(), key.encode()):
        request.app.state.limiter.hit("admin", where, TEN_MINUTES)
        raise refuse(
            request, 403, sp.ERR_FORBIDDEN, "无权访问管理接口（已记录）", "admin_forbidden"
        )
    return "admin"


AdminDep = Annotated[str, Depends(require_admin)]
