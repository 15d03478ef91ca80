"""Where the shipped data (resources/, db/) and the user's data live."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

APP_NAME = "TownshipDesk"
APP_AUTHOR = "TownshipDesk"

_PKG = Path(__file__).resolve().parent


def _shipped_root() -> Path:
    """The folder holding ``resources/`` and ``db/``: frozen bundle, wheel or source tree."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen)
    wheel = _PKG / "_data"
    if (wheel / "resources").is_dir():
        return wheel
    return _PKG.parent


def resources_dir() -> Path:
    return _shipped_root() / "resources"


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)


def migrations_dir(kind: str) -> Path:
    """``db/desktop`` or ``db/county``: numbered SQL migrations."""
    return _shipped_root() / "db" / kind


def font_path() -> Path:
    return resource("fonts", "wqy-microhei.ttc")


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))


def default_log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, APP_AUTHOR))
