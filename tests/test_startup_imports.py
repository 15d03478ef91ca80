"""The desk's start imports only what its first window needs: opening the store must not
import numpy where it is installed (sqlite-utils would, to map numpy types, adding ~70 ms
to every start; the desk itself no longer ships it since issue 17), and numpy still imports
afterwards for whoever wants it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_store_opens_without_numpy_and_numpy_still_imports_after():
    code = (
        "import sys, importlib.util; import desktop.store, sqlite_utils; "
        "print('numpy' in sys.modules); has = importlib.util.find_spec('numpy') is not None; "
        "print(__import__('numpy').ones(2).sum() if has else 'absent')"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() in (["False", "2.0"], ["False", "absent"])
