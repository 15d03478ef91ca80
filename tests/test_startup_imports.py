"""The desk's start imports only what its first window needs: opening the store must not
import numpy where it is installed (sqlite-utils would, to map numpy types, adding ~70 ms
to every start; the desk itself no longer ships it since issue 17), and numpy still imports
afterwards for whoever wants it."""

from __future__ import annotations

import os
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


def test_the_first_page_loads_the_code_behind_its_figures_only_when_it_counts_them():
    """首页, the page the desk opens on, shows before its figures are counted: the code that
    counts them and makes the reports (services.home, services.reports and the contribution
    rules behind them, ~65 ms of a 440 ms start here) is loaded by the first count, on the
    store worker, not by the page's module."""
    code = (
        "import sys; import desktop.gui.main_window, desktop.gui.pages.home; "
        "print(sorted(m for m in ('desktop.services.home', 'desktop.services.reports', "
        "'desktop.services.contribution') if m in sys.modules))"
    )
    r = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
