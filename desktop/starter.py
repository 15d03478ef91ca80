"""Start the newest verified version of the desk (issue 17), before anything else loads.

The installer puts version N in Program Files (read-only for a clerk). A newer version the
county offered is downloaded, checked against the project's signed metadata and unpacked by
``services.updates`` into the data folder (``updates/staged/<version>``, marked verified).
At the next start the installed program — before Qt, the store or the window — finds it:

* the first time, it runs the new version's ``--self-test``; passed → recorded as installed,
  and that version runs from now on; failed (or it would not start) → **rolled back**: it
  is recorded as failed, never tried again, and this version goes on as if nothing happened;
* the outcome is written to ``updates/outcome.json``; the next sync tells the county.

A clerk's work is never interrupted: nothing is switched while the desk runs. Only the
frozen bundle switches (``installers/entry.py``); a copy run from source never does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

from desktop import __version__, paths

VERIFIED = ".verified"  # written into a staged version once TUF verified and unpacked it
SELF_TEST_SECONDS = 300
STARTED_BY = "TOWNSHIP_DESK_STARTED_BY"  # set for the version a starter runs (no loops)
STARTED_BY_CONSOLE = "TOWNSHIP_DESK_CONSOLE"  # set by township-desk-console (same name there)
ATTACH_PARENT_PROCESS = 0xFFFFFFFF  # (DWORD)-1: the console of the program that started us


def _version_key(v: str) -> Version:
    """PEP 440, as tufup orders releases; a name that is no version is never chosen."""
    try:
        return Version(v)
    except InvalidVersion:
        return Version("0")


def _read(path: Path, default):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def _write(path: Path, value) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value), encoding="utf-8")
    os.replace(tmp, path)


def updates_dir(data_dir: Path) -> Path:
    return Path(data_dir) / "updates"


def candidates(data_dir: Path, own: str) -> list[tuple[str, Path]]:
    """Verified staged versions above ``own`` that have not failed, newest first."""
    base = updates_dir(data_dir)
    failed = set(_read(base / "failed.json", []))
    found = []
    for d in (base / "staged").glob("*"):
        mark = d / VERIFIED
        if (
            mark.is_file()
            and mark.read_text(encoding="ascii").strip() == d.name
            and d.name not in failed
            and _version_key(d.name) > _version_key(own)
        ):
            found.append((d.name, d))
    return sorted(found, key=lambda c: _version_key(c[0]), reverse=True)


def _console(name: str) -> str:
    stem, dot, ext = name.partition(".")
    return name if stem.endswith("-console") else f"{stem}-console{dot}{ext}"


def _no_window() -> dict:
    """On Windows the self-test's console program runs without a console window: started
    from the windowed desk, it would otherwise open a black window in front of the clerk."""
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NO_WINDOW}
    return {}


def _failed(base: Path, version: str) -> None:
    _write(base / "failed.json", sorted(set(_read(base / "failed.json", [])) | {version}))
    _write(base / "outcome.json", {"state": "rolled_back", "version": version})


def start_newest(
    argv: list[str],
    *,
    own_version: str,
    exe: Path,
    data_dir: Path,
    run=subprocess.call,
) -> int | None:
    """Run the newest verified version instead of this one (its exit code), or None to go on
    as this version. A version not yet installed runs its self-test first; one that fails
    (or will not start) is rolled back and the next newest is tried. ``exe``: this program's
    executable (its name is looked up in the staged folder); ``run``: how a program is run."""
    if os.environ.get(STARTED_BY):  # started by a starter already: never switch twice
        return None
    base = updates_dir(data_dir)
    for version, folder in candidates(data_dir, own_version):
        installed = set(_read(base / "installed.json", []))
        target = folder / exe.name
        if version not in installed:
            tester = folder / _console(exe.name)
            try:
                command = [str(tester if tester.exists() else target), "--self-test"]
                ok = run(command, timeout=SELF_TEST_SECONDS, **_no_window()) == 0
            except (OSError, subprocess.SubprocessError):
                ok = False
            if not ok:
                _failed(base, version)
                continue
            _write(base / "installed.json", sorted(installed | {version}))
            _write(base / "outcome.json", {"state": "installed", "version": version})
        os.environ[STARTED_BY] = own_version  # the version run inherits it: it will not switch
        try:
            return int(run([str(target), *argv[1:]]))
        except (OSError, subprocess.SubprocessError):
            _failed(base, version)
    return None


def data_dir_from(argv: list[str], default: Path) -> Path:
    """``--data-dir X`` / ``--data-dir=X`` from the command line, else ``default``."""
    for i, a in enumerate(argv):
        if a == "--data-dir" and i + 1 < len(argv):
            return Path(argv[i + 1])
        if a.startswith("--data-dir="):
            return Path(a.split("=", 1)[1])
    return default


def console_output(environ=os.environ, platform: str = sys.platform, kernel32=None) -> bool:
    """Started by ``township-desk-console`` (installers/console_entry.py), which reads our
    output through pipes: write it as UTF-8, a line at a time, so Chinese text and progress
    arrive as written; on Windows also attach to its console, where ``getpass`` reads a
    typed password (a windowed program has none of its own). False when not started so."""
    if not environ.get(STARTED_BY_CONSOLE):
        return False
    for stream in (sys.stdout, sys.stderr):
        if stream is not None and hasattr(stream, "reconfigure"):
            stream.reconfigure(encoding="utf-8", errors="replace", line_buffering=True)
    if platform == "win32":
        import ctypes  # deferred: Windows only

        if kernel32 is None:
            kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
        # fails harmlessly when that program has no console (started from the desk itself)
        kernel32.AttachConsole(ctypes.c_ulong(ATTACH_PARENT_PROCESS))
    return True


def frozen_start(argv: list[str]) -> int | None:
    """The bundle's entry: switch to a newer verified version when there is one."""
    if not getattr(sys, "frozen", False):
        return None
    console_output()  # before anything prints; a version switched to inherits the pipes too
    data_dir = data_dir_from(argv, paths.default_data_dir())
    return start_newest(argv, own_version=__version__, exe=Path(sys.executable), data_dir=data_dir)
