"""Shared by the benchmark scripts: a one-line description of the machine they ran on."""

from __future__ import annotations

import os
import platform
import sqlite3
from pathlib import Path


def use_dev_keyring() -> None:
    """Benchmarks open encrypted stores: on a machine without an OS keyring, keep their keys
    in the developer keyring file (scripts/devkeyring), as scripts/run does."""
    import sys
    import tempfile

    import keyring

    if not type(keyring.get_keyring()).__module__.startswith("keyring.backends.fail"):
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts" / "devkeyring"))
    os.environ.setdefault(
        "TOWNSHIP_DEV_KEYRING", str(Path(tempfile.gettempdir()) / "township-bench-keyring.json")
    )
    import township_devkeyring

    keyring.set_keyring(township_devkeyring.FileKeyring())


use_dev_keyring()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 1024 / 1024:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{mem}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; SQLite {sqlite3.sqlite_version}"
    )


def plain_store(folder: Path):
    """A store WITHOUT encryption (same schema, pragmas and services): the baseline the
    encrypted store is compared with. Never used by the product."""
    from desktop.store.db import DB_FILENAME, Store, connect, migrate

    folder.mkdir(parents=True, exist_ok=True)
    db = connect(folder / DB_FILENAME, None)
    migrate(db)
    return Store(db, folder / DB_FILENAME, None)
