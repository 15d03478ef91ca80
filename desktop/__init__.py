"""Township medical-insurance service desk (乡镇医保服务窗口).

Layers (see ARCHITECTURE.md): ``core`` (pure domain, no Qt, no I/O) → ``store`` (SQLite,
owns SQL) → ``services`` (own transactions; the one way in for GUI and CLI) → ``gui`` / ``cli``.
"""

__version__ = "0.1.0"
