"""The county server: ``create_app(settings)`` builds the FastAPI application."""

from __future__ import annotations

import json
import logging
import threading
import time
import zlib
from collections.abc import Callable
from contextlib import asynccontextmanager

import anyio.to_thread
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from core import syncproto as sp
from county import console, db, sealing
from county.console import jobs
from county.console.summary import Refresher
from county.errors import ApiError
from county.ratelimit import RateLimiter, forget_old
from county.receipt_keys import seal_plain_keys
from county.routers import admin, devices, health, recovery, sync, updates
from county.security import Signer
from county.settings import Settings, load_settings

log = logging.getLogger("county")


def _json_error(status: int, code: str, message: str, details=None, headers=None) -> JSONResponse:
    body = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    h = {sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION), **(headers or {})}
    return JSONResponse(body, status_code=status, headers=h)


class WireMiddleware:
    """For /api/v1: checks the protocol header, limits the body, and un-gzips requests
    (a bounded decompression, so a gzip bomb is refused with 413)."""

    def __init__(self, app, max_body: int = sp.MAX_BODY_BYTES):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(sp.API_PREFIX):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self._check_version(headers.get(sp.PROTOCOL_HEADER.lower()))
        if problem is not None:
            return await problem(scope, receive, send)
        length = headers.get("content-length")
        if length and length.isdigit() and int(length) > self.max_body:
            return await self._too_large()(scope, receive, send)
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                return
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return await self._too_large()(scope, receive, send)
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        body = b"".join(chunks)
        enc = headers.get("content-encoding", "").strip().lower()
        if enc in ("gzip", "x-gzip"):
            try:
                d = zlib.decompressobj(16 + zlib.MAX_WBITS)
                body = d.decompress(body, self.max_body + 1)
                if len(body) > self.max_body or d.unconsumed_tail:
                    return await self._too_large()(scope, receive, send)
                if not d.eof:
                    raise zlib.error("truncated")
            except zlib.error:
                return await _json_error(
                    400, sp.ERR_INVALID, "请求内容的gzip压缩数据已损坏，请重新发送"
                )(scope, receive, send)
            scope = dict(scope)
            scope["headers"] = [
                (k, v)
                for k, v in scope["headers"]
                if k.lower() not in (b"content-encoding", b"content-length")
            ] + [(b"content-length", str(len(body)).encode())]
        elif enc not in ("", "identity"):
            return await _json_error(
                415, sp.ERR_INVALID, f"不支持的内容编码：{enc[:20]}（只支持gzip）"
            )(scope, receive, send)
        sent = False

        async def replay():
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send_with_version(message):
            if message["type"] == "http.response.start":
                hs = list(message.get("headers", []))
                hs.append((sp.PROTOCOL_HEADER.lower().encode(), str(sp.PROTOCOL_VERSION).encode()))
                message = {**message, "headers": hs}
            await send(message)

        await self.app(scope, replay, send_with_version)

    @staticmethod
    def _check_version(value: str | None):
        if value is None:
            return _json_error(
                400,
                sp.ERR_PROTOCOL,
                f"缺少协议版本请求头 {sp.PROTOCOL_HEADER}，请使用本县发布的服务窗口软件",
            )
        v = value.strip()
        if not (v.isascii() and v.isdigit() and len(v) < 6):
            return _json_error(
                400, sp.ERR_PROTOCOL, f"协议版本请求头 {sp.PROTOCOL_HEADER} 格式不正确"
            )
        if int(v) < sp.MIN_PROTOCOL_VERSION:
            return _json_error(426, sp.ERR_PROTOCOL, "服务窗口软件版本过旧，请升级后再同步")
        if int(v) > sp.PROTOCOL_VERSION:
            return _json_error(
                400, sp.ERR_PROTOCOL, "县服务器版本较旧，请联系县医保信息科升级服务器"
            )
        return None

    def _too_large(self):
        return _json_error(
            413,
            sp.ERR_TOO_LARGE,
            f"请求内容过大（上限{self.max_body // 1024 // 1024}MB），请分批发送",
        )


def prepare_database(settings: Settings) -> None:
    """Once per start of the service, before any worker serves: migrations (on PostgreSQL
    itself, they hold a session lock), keys still plain sealed, imports a stopped server
    left running marked."""
    with psycopg.connect(settings.direct_url) as conn:
        db.migrate(conn)
        with conn.transaction():
            seal_plain_keys(conn)
            jobs.mark_interrupted(conn)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], float] = time.time,
    migrate: bool = True,
) -> FastAPI:
    """Build the app: a connection pool, migrations applied at start, routers per resource."""
    settings.validate()
    sealing.configure(settings.sealing_secret)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if migrate:
            prepare_database(settings)
        pool = db.make_pool(
            settings.database_url,
            settings.pool_min,
            settings.pool_max,
            pooled=settings.database_pooled,
        )
        app.state.pool = pool
        app.state.read_pool = None
        if settings.database_read_url:  # the console's reports read from a replica
            app.state.read_pool = db.make_pool(
                settings.database_read_url, 1, 4, pooled=True, name="township-county-reports"
            )
        # FastAPI runs the sync endpoints (every sync request) on anyio's threads, 40 by
        # default. Each needs a pooled connection, so threads beyond the pool's only wait for
        # one while taking turns at the interpreter: as many threads as connections cost
        # ~10% less CPU per sync under load (BENCHMARKS.md, issue 18)
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.pool_max
        refresher = Refresher(
            pool, settings.report_refresh_minutes, chores=lambda conn: _chores(conn, clock)
        ).start()
        try:
            yield
        finally:
            refresher.stop()
            pool.close()
            if app.state.read_pool is not None:
                app.state.read_pool.close()

    app = FastAPI(
        title="乡镇医保服务窗口 · 县级同步服务",
        version=str(sp.PROTOCOL_VERSION),
        description="Township medical-insurance service desk — county sync server. "
        "Protocol: docs/sync-protocol.md.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.limiter = RateLimiter(lambda: app.state.pool, clock)
    app.state.pool_checking = threading.Lock()  # one check of the pool at a time
    app.state.token_signer = Signer(settings.signing_key, "device-token")
    app.state.page_signer = Signer(settings.signing_key, "snapshot-page")
    _install_error_handlers(app)
    app.openapi = lambda: _openapi_with_wire(app)
    app.include_router(health.router)
    app.include_router(devices.router)
    app.include_router(recovery.router)
    app.include_router(sync.router)
    app.include_router(updates.router)
    app.include_router(admin.router)
    console.mount(app)  # the web console for the county bureau (/console)
    app.add_middleware(WireMiddleware)
    app.add_middleware(GZipMiddleware, minimum_size=512)
    return app


def from_environment() -> FastAPI:
    """One worker's app (``township-county serve --workers N``): settings from the
    environment and the settings file, as the parent read them; the parent migrated."""
    return create_app(load_settings(), migrate=False)


def _chores(conn: psycopg.Connection, clock: Callable[[], float]) -> None:
    """A worker's housekeeping each minute: rate-limit logs past their window; imports
    whose worker stopped."""
    forget_old(conn, clock())
    jobs.mark_interrupted(conn)


def _check_pool_soon(app: FastAPI) -> None:
    """After PgBouncer or PostgreSQL went away (a restart, a failover) the pool's idle
    connections are dead: test them all now and replace the broken ones, in the background,
    so the next requests do not each meet one of them (and send a desk back to wait)."""
    pool, checking = getattr(app.state, "pool", None), app.state.pool_checking
    if pool is None or not checking.acquire(blocking=False):
        return

    def run() -> None:
        try:
            pool.check()
        except Exception:  # the database is still away: the next failure checks again
            log.warning("database connections not checked", exc_info=True)
        finally:
            checking.release()

    threading.Thread(target=run, name="pool-check", daemon=True).start()


def _install_error_handlers(app: FastAPI) -> None:
    """Every error leaves the server as ``{"code", "message" (Chinese), "details"}``."""

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        return _json_error(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        details = [
            {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))[:200]}
            for e in exc.errors()[:20]
        ]
        where = "、".join(".".join(d["loc"][1:]) or d["loc"][0] for d in details[:5] if d["loc"])
        return _json_error(422, sp.ERR_INVALID, f"请求格式不正确：{where or '请求体'}", details)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        messages = {404: "没有这个接口", 405: "接口不支持该请求方法"}
        return _json_error(
            exc.status_code, "http_error", messages.get(exc.status_code, str(exc.detail))
        )

    @app.exception_handler(psycopg.DataError)
    async def data_error(request: Request, exc: psycopg.DataError):
        return _json_error(400, sp.ERR_INVALID, "请求中含有无法保存的字符或数值，请检查后重试")

    @app.exception_handler(psycopg.OperationalError)
    async def db_down(request: Request, exc: psycopg.OperationalError):
        log.warning("database unavailable: %s", exc)
        _check_pool_soon(request.app)
        return _json_error(
            503,
            sp.ERR_INTERNAL,
            "县服务器数据库暂时不可用，请稍后重试",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.exception("unhandled error on %s", request.url.path)
        return _json_error(
            500, sp.ERR_INTERNAL, "县服务器内部错误，请稍后重试；多次失败请联系县医保信息科"
        )


def _openapi_with_wire(app: FastAPI) -> dict:
    """The published spec also names the protocol header and the bearer token."""
    if app.openapi_schema:
        return app.openapi_schema
    spec = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    spec.setdefault("components", {})["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "device token (POST /api/v1/auth/token) or admin key",
        }
    }
    for path, item in spec.get("paths", {}).items():
        if not path.startswith(sp.API_PREFIX):
            continue
        for operation in item.values():
            operation.setdefault("parameters", []).append(
                {
                    "name": sp.PROTOCOL_HEADER,
                    "in": "header",
                    "required": True,
                    "schema": {
                        "type": "string",
                        "enum": [str(v) for v in sp.SUPPORTED_PROTOCOL_VERSIONS],
                    },
                    "description": "sync protocol version",
                }
            )
            if path not in (sp.EP_REGISTER, sp.EP_TOKEN):
                operation["security"] = [{"bearer": []}]
    app.openapi_schema = spec
    return spec


def dumps(value) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
