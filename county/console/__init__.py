"""The county console: a web page for the county bureau, served by the county server itself
(server-rendered Jinja2 pages, autoescaped; ECharts served from here — no internet needed).

``router`` carries every page; :func:`mount` adds it and the static files to the app."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from county.console.auth import Forbidden, NotSignedIn
from county.model import china_day, china_minute
from county.tables import AdminError

FEW_POINTS = 60  # up to this many service points: a box each; more: by county and by code

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


# {{ x|when }} 2026-12-05 12:34, {{ x|day }} 2026-12-05: every time a page shows
templates.env.filters["when"] = china_minute
templates.env.filters["day"] = china_day
PREFIX = "/console"


def mount(app: FastAPI) -> None:
    from county.console import (  # deferred: they import this module
        accounts,
        alerts,
        imports,
        pages,
        policies,
        reports,
        updates,
    )

    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(HERE / "static")), name="console")
    app.include_router(pages.router)
    app.include_router(reports.router)
    app.include_router(imports.router)
    app.include_router(policies.router)
    app.include_router(alerts.router)
    app.include_router(updates.router)
    app.include_router(accounts.router)

    app.add_middleware(ConsoleHeaders)

    @app.exception_handler(NotSignedIn)
    async def _signed_out(request: Request, exc: NotSignedIn):
        if request.method == "GET":
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        return HTMLResponse("请先登录（会话已过期或未登录）", status_code=403)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return templates.TemplateResponse(
            request,
            "message.html",
            {"title": "没有权限", "message": str(exc), "staff": exc.staff, "prefix": PREFIX},
            status_code=403,
        )


_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self';"
        b" img-src 'self' data:; frame-ancestors 'none'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]


class ConsoleHeaders:
    """The console's security headers, on its pages only. Plain ASGI: the desks' sync
    requests pass straight through (a ``BaseHTTPMiddleware`` cost every request an extra
    task and stream — a tenth of the server's time under load, issue 18)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                hs = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                hs += _HEADERS
                if not any(k.lower() == b"cache-control" for k, _ in hs):
                    hs.append((b"cache-control", b"no-store"))
                message = {**message, "headers": hs}
            await send(message)

        await self.app(scope, receive, with_headers)


_NAMES = {k for k, _ in _HEADERS}


def region_code(value: str) -> str:
    """A county's six-digit code (区划) from a form, "" for all counties (or for anything
    that is no such code)."""
    value = value.strip()
    return value if len(value) == 6 and value.isdigit() else ""


def picked_points(
    conn, ticked: list[str], codes: str, regions: list[str], county: str | None = None
) -> list[str]:
    """The service point codes a form chose (``_point_picker.html``): the boxes ticked, the
    codes typed and every point of the counties chosen; a typed code that is no service
    point — or, for an account of one ``county``, no point of that county — is refused
    with its name (nothing is half-chosen)."""
    typed = [c for c in re.split(r"[\s,，、;；]+", codes or "") if c]
    counties = set(regions)
    known = {
        r["code"]: r["region_code"]
        for r in conn.execute(
            "SELECT code, region_code FROM service_point WHERE %(c)s::text IS NULL"
            " OR region_code = %(c)s",
            {"c": county},
        ).fetchall()
    }
    unknown = [c for c in {*typed, *ticked} if c not in known]
    if unknown:
        raise AdminError(f"没有这些服务点编码：{'、'.join(sorted(unknown)[:10])}")
    whole = [c for c, r in known.items() if r in counties]
    return sorted(set(ticked) | set(typed) | set(whole))
