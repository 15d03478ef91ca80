"""Township medical-insurance service desk (乡镇医保服务窗口).

Layers (see ARCHITECTURE.md): ``core`` (pure domain, no Qt, no I/O) → ``store`` (SQLite,
owns SQL) → ``services`` (own transactions; the one way in for GUI and CLI) → ``gui`` / ``cli``.
"""

import sys as _sys
from pathlib import Path as _Path

__version__ = "0.1.0"

if getattr(_sys, "frozen", False):  # a bundle: the version its release stamped on it
    _stamp = _Path(getattr(_sys, "_MEIPASS", ".")) / "VERSION"
    if _stamp.is_file():
        __version__ = _stamp.read_text(encoding="ascii").strip() or __version__
