"""The installers, built and checked on Linux (marked ``bundle``; scripts/test runs them,
``-m 'not bundle'`` deselects them):

* the PyInstaller one-folder bundle builds (cached by a hash of its sources in
  build/bundle-cache/) and passes ``--self-test`` offscreen;
* the NSIS installer script compiles with makensis against a stub folder;
* every runtime dependency (and what it needs on Windows) has a win_amd64 wheel on PyPI.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parents[2]
SIZE_BUDGET_MB = (
    330  # Linux bundle (sqlcipher3 added ~1 MB; pyqtgraph + numpy + the Qt OpenGL/Svg/Test
    # modules pyqtgraph imports, for the home page's charts, ~60 MB:
    # bench/results/bundle-change.md); bench/results/installers.md has the size
)


def _load():
    name = "township_installers_build_bundle"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "installers" / "build_bundle.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # dataclasses look their module up while the file runs
    spec.loader.exec_module(mod)
    return mod


bb = _load()


@pytest.fixture(scope="module")
def bundle():
    return bb.build_bundle(log=lambda m: None)


def test_bundle_builds_and_passes_self_test(bundle):
    r = bb.self_test(bundle)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "frozen=True" in r.stdout
    assert "SELF-TEST PASSED" in r.stdout
    for check in ("store", "backup", "keyring", "every page renders", "receipt PDF"):
        assert any(line.startswith("ok") and check in line for line in r.stdout.splitlines()), check


def test_console_exe_shares_the_bundle(bundle):
    console = bundle.folder / "township-desk-console"
    r = subprocess.run([str(console), "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "township-desk" in r.stdout


def test_bundle_ships_resources_and_leaves_out_unused_qt(bundle):
    internal = bundle.folder / "_internal"
    assert (internal / "resources" / "fonts" / "wqy-microhei.ttc").is_file()
    assert (internal / "resources" / "fonts" / "wqy-microhei.LICENSE.txt").is_file()
    assert (internal / "db" / "desktop" / "0001_initial.sql").is_file()
    translations = sorted(p.name for p in internal.rglob("*.qm"))
    assert translations and all(n.endswith("_zh_CN.qm") for n in translations), translations
    assert "qtbase_zh_CN.qm" in translations
    names = {p.name for p in internal.rglob("*") if p.is_file()}
    for unused in ("QtQml", "QtQuick", "QtNetwork", "QtSql", "Qt6Qml", "Qt6Quick", "Qt6Pdf"):
        assert not any(unused in n for n in names), unused
    assert not any(n.startswith(("county", "fastapi", "uvicorn", "psycopg")) for n in names)
    size_mb = bundle.size_bytes / 1e6
    assert size_mb < SIZE_BUDGET_MB, f"bundle grew to {size_mb:.0f} MB"


def test_nsis_script_compiles(tmp_path):
    out = bb.compile_nsis(tmp_path)
    data = out.read_bytes()
    assert data[:2] == b"MZ" and len(data) > 50_000


def test_uninstaller_leaves_the_data_folder():
    script = (ROOT / "installers" / "township-desk.nsi").read_text(encoding="utf-8")
    uninstall = script[script.index('Section "Uninstall"') :]
    assert "$INSTDIR" in uninstall
    for data_var in ("$LOCALAPPDATA", "$APPDATA", "$PROFILE", "$DOCUMENTS"):
        assert data_var not in uninstall.replace("%LOCALAPPDATA%", ""), data_var
    assert 'InstallDir "$PROGRAMFILES64' in script
    assert 'CreateShortCut "$SMPROGRAMS' in script


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def test_every_runtime_dependency_has_a_windows_wheel():
    if not _pypi_reachable():
        pytest.skip("pypi.org is not reachable from this machine")
    wheels = bb.windows_wheels()
    from packaging.requirements import Requirement

    for req in bb.runtime_requirements():
        name = bb._norm(Requirement(req).name)
        assert name in wheels, (name, sorted(wheels))
    # the compiled ones, and what keyring needs only on Windows
    for name in (
        "pyside6-essentials",
        "shiboken6",
        "argon2-cffi-bindings",
        "cffi",
        "pywin32-ctypes",
        "numpy",
        "pyqtgraph",
    ):
        assert name in wheels, name
    for name in ("pyside6-essentials", "shiboken6", "argon2-cffi-bindings", "cffi", "numpy"):
        assert wheels[name].endswith("win_amd64.whl"), wheels[name]
