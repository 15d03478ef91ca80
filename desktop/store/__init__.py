"""The local SQLite store: connections, migrations, transactions. Owns all desktop SQL."""

import sys as _sys


def _import_sqlite_utils_without_numpy() -> None:
    """sqlite-utils imports numpy and pandas, when they are installed, only to map their
    number types to column types; the desk never stores either, and numpy (in a developer's
    environment, where other tools install it) would add ~70 ms to every start. So
    sqlite-utils is imported with them hidden; numpy imports normally afterwards."""
    if "sqlite_utils" in _sys.modules:
        return
    hidden = [n for n in ("numpy", "pandas") if n not in _sys.modules]
    for name in hidden:
        _sys.modules[name] = None  # `import numpy` raises ImportError while this holds
    try:
        import sqlite_utils  # noqa: F401  # deferred: imported here with numpy hidden
    finally:
        for name in hidden:
            if _sys.modules.get(name, 0) is None:
                del _sys.modules[name]


_import_sqlite_utils_without_numpy()

from desktop.store.db import Store, connect, open_store  # noqa: E402
from desktop.store.errors import StoreError  # noqa: E402

__all__ = ["Store", "StoreError", "connect", "open_store"]
