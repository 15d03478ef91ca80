"""The mirrored release repository, served as it is (issue 17). The files are signed by the
project and verified by each desk, so they are served without a token (like any software
mirror; they hold no personal data); Range requests let a desk resume a cut download."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse

from core import syncproto as sp
from county.errors import ApiError
from county.updates import SAFE_NAME

router = APIRouter(tags=["updates"])


def _file(request: Request, sub: str, name: str) -> FileResponse:
    folder = request.app.state.settings.updates_dir
    if not folder or not SAFE_NAME.match(name):
        raise ApiError(404, sp.ERR_INVALID, "没有这个更新文件")
    path = Path(folder) / sub / name
    if not path.is_file():
        raise ApiError(404, sp.ERR_INVALID, "没有这个更新文件")
    media = "application/json" if sub == "metadata" else "application/octet-stream"
    return FileResponse(path, media_type=media, headers={"Cache-Control": "no-cache"})


FILE = {
    200: {
        "description": "the file as the release process signed it",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.get(sp.EP_UPDATES + "/metadata/{name}", response_class=FileResponse, responses=FILE)
def metadata(name: str, request: Request) -> FileResponse:
    """Signed metadata (root, timestamp, snapshot, targets)."""
    return _file(request, "metadata", name)


@router.get(sp.EP_UPDATES + "/targets/{name}", response_class=FileResponse, responses=FILE)
def target(name: str, request: Request) -> FileResponse:
    """A release archive or patch (Range supported)."""
    return _file(request, "targets", name)
