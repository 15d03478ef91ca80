"""The county console: a web page for the county bureau, served by the county server itself
(server-rendered Jinja2 pages, autoescaped; ECharts served from here — no internet needed).

``router`` carries every page; :func:`mount` adds it and the static files to the app."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from county.console.auth import Forbidden, NotSignedIn

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
PREFIX = "/console"


def mount(app: FastAPI) -> None:
    from county.console import (  # deferred: they import this module
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

    @app.middleware("http")
    async def _console_headers(request: Request, call_next):
        response = await call_next(request)
        if request.url.path.startswith(PREFIX):
            response.headers["Content-Security-Policy"] = (
                "default-src 'self'; script-src 'self'; style-src 'self';"
                " img-src 'self' data:; frame-ancestors 'none'; form-action 'self'"
            )
            response.headers["X-Frame-Options"] = "DENY"
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(NotSignedIn)
    async def _signed_out(request: Request, exc: NotSignedIn):
        if request.method == "GET":
            return RedirectResponse(f"{PREFIX}/login", status_code=303)
        return HTMLResponse("请先登录（会话已过期或未登录）", status_code=403)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return templates.TemplateResponse(
            request, "message.html", {"title": "没有权限", "message": str(exc)}, status_code=403
        )
