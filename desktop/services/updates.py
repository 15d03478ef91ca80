"""The application's own updates (issue 17). The county says at each pull which version
this desk may install (``PullResponse.update``); when that is newer than the running one,
``fetch_offered`` downloads it from the county's mirror of the project's signed release
repository with tufup — TUF metadata checked against the root this build trusts (tampered,
expired, rolled-back or mixed metadata and tampered files are refused), a binary patch from
the archive of the version before when it has one, the download resumed after a cut and kept
to a byte rate — and unpacks it beside the data as a **staged** version. It is installed at
the next start, never in the middle of a clerk's work. What happened is reported to the
county with the next pull (``desk_status.update``). The download itself (tufup, python-tuf)
is in ``update_download`` and loads only when there is a version to fetch."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from core import syncproto as sp
from desktop import __version__, paths, starter
from desktop.store.db import Store

log = logging.getLogger(__name__)

APP = "township-desk"
K_OFFER, K_STATE = "update_offer", "update_state"  # settings: nothing secret
K_RATE = "update_download_kbps"  # setting: the download's cap in KB a second
DEFAULT_KBPS = 256  # a 60 MB release in about four minutes, the rest of a 3G line left free


folder = starter.updates_dir  # <data folder>/updates: one definition for both


def staged_dir(data_dir: Path, version: str) -> Path:
    return folder(data_dir) / "staged" / version


def trusted_root() -> Path | None:
    """The root metadata this build ships (the release process writes it); None: a build
    made without one, which never updates itself."""
    p = paths.resource("updates", "root.json")
    return p if p.is_file() else None


def note_offer(store: Store, offer: dict | None) -> None:
    """Keep what the county said at this pull (None: stay on this version)."""
    version = str((offer or {}).get("version") or "")
    if store.setting(K_OFFER, "") != version:
        store.set_setting(K_OFFER, version)


def state(store: Store) -> str:
    """ "<state>:<version>" (``sp.UPDATE_STATES``) or ""."""
    return store.setting(K_STATE, "") or ""


def _set_state(store: Store, st: str, version: str) -> None:
    store.set_setting(K_STATE, f"{st}:{version}")
    log.info("update %s: %s", version, st)


def wanted(store: Store) -> str | None:
    """The offered version when it is newer than this one and not already staged."""
    offer = store.setting(K_OFFER, "") or ""
    try:
        if not offer or Version(offer) <= Version(__version__):
            return None
    except InvalidVersion:
        return None
    done = (f"staged:{offer}", f"installed:{offer}", f"rolled_back:{offer}")
    return None if state(store) in done else offer


NOTES = {
    "downloading": "新版本 {v} 正在后台下载（断了会接着下载）",
    "staged": "新版本 {v} 已下载并通过校验，下次启动软件时安装",
    "installed": "已于启动时升级到 {v}",
    "refused": "新版本 {v} 校验不通过，已拒绝并告知县里；下次同步时重新下载",
    "rolled_back": "新版本 {v} 启动自检未通过，已自动退回本版本并告知县里",
}


def note(store: Store) -> str:
    """The 同步 page's line about this program's version and its update, in words."""
    st_, _, version = state(store).partition(":")
    text = NOTES.get(st_, "").format(v=version)
    return f"{__version__}（{text}）" if text else __version__


def fetch_offered(
    store: Store,
    data_dir: Path,
    server_url: str,
    *,
    ca_pem: str | None = None,
    root: Path | None = None,
    cancel: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_rate: int | None = None,
) -> str:
    """Download, verify and stage the offered version; returns the new state ("" when
    there is nothing to do, or the line dropped: tried again at the next sync)."""
    version = wanted(store)
    base = folder(data_dir)
    meta = base / "metadata"
    root = root or trusted_root()
    if version is None or (root is None and not (meta / "root.json").exists()):
        return ""
    meta.mkdir(parents=True, exist_ok=True)
    if not (meta / "root.json").exists():  # later roots come signed by this one (TUF)
        shutil.copyfile(root, meta / "root.json")
    _set_state(store, "downloading", version)
    from desktop.services import update_download  # deferred: tufup loads only to download

    outcome = update_download.download(
        base,
        server_url.rstrip("/") + sp.EP_UPDATES,
        version,
        ca_pem=ca_pem,
        max_rate=max_rate or int(store.setting(K_RATE, "") or DEFAULT_KBPS) * 1024,
        cancel=cancel,
        progress=progress,
    )
    if not outcome:
        return ""
    _set_state(store, outcome, version)
    return state(store)


def absorb_outcome(store: Store, data_dir: Path) -> str:
    """What the starter did at this start (installed / rolled back a version) becomes the
    update state the next pull reports. Returns it ("" when nothing happened)."""
    path = folder(data_dir) / "outcome.json"
    try:
        o = json.loads(path.read_text(encoding="utf-8"))
        st, version = str(o["state"]), str(o["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return ""
    if st in sp.UPDATE_STATES:
        _set_state(store, st, version)
    path.unlink(missing_ok=True)
    return state(store)
