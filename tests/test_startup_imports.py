"""The desk's start imports only what its first window needs: opening the store must not
import numpy (sqlite-utils would, to map numpy types, adding ~70 ms to every start; the
home page's charts import it after the first paint), and numpy still imports afterwards."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_store_opens_without_numpy_and_numpy_still_imports_after():
    code = (
        "import sys; import desktop.store, sqlite_utils; "
        "print('numpy' in sys.modules); import numpy; print(numpy.ones(2).sum())"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "2.0"]
