"""``township-desk-console``: the desk's commands for the county technician in ``cmd.exe``.

``township-desk.exe`` is a windowed program: Windows gives it no console, so what it prints
goes nowhere and ``cmd.exe`` does not wait for it. This small console program, built beside
it (the pair Visual Studio ships as ``devenv.com`` / ``devenv.exe``), runs the
``township-desk`` in the same folder with the same arguments, passes everything the program
writes through to its own output, and ends with the program's exit code::

    township-desk-console --self-test
    township-desk-console backup check

Until issue 17 the console program was a second copy of the whole desk, and each copy
carried its own archive of the program's Python code (10.6 MB on Linux); this one carries
only what it needs to start a program and copy its output (1.4 MB in all).

* The program's output comes through pipes, written as UTF-8 (``STARTED_BY_CONSOLE`` tells
  it so, ``desktop.console``): Chinese text arrives unmangled in a console, a file or a pipe.
* Standard input is the console program's own, so ``--password-stdin`` and a typed password
  (the program attaches to this console on Windows to read it) work as before.
* Ctrl+C reaches both programs (they share the console); this one waits for the desk to
  finish what it does and returns its exit code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

STARTED_BY_CONSOLE = "TOWNSHIP_DESK_CONSOLE"  # desktop.console reads it (same name)
PROGRAM = "township-desk.exe" if os.name == "nt" else "township-desk"
NOT_FOUND = 9009 if os.name == "nt" else 127  # what cmd.exe / a shell says: program not found


def program(here: Path) -> Path:
    """The desk program beside this one."""
    return here.with_name(PROGRAM)


def _copy(source, target) -> None:
    """Copy a pipe to an output as it comes (a line of progress shows when it is written).
    The pipe is always read to its end, so the desk never waits on a full pipe: with no
    output (started without one) or a reader gone (``| more`` quit) it is read and dropped."""
    out = getattr(target, "buffer", target)
    fd = source.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        if out is None:
            continue
        try:
            out.write(chunk)
            out.flush()
        except (OSError, ValueError):
            out = None


def main(argv: list[str]) -> int:
    here = Path(sys.executable if getattr(sys, "frozen", False) else argv[0]).resolve()
    target = program(here)
    env = dict(os.environ, **{STARTED_BY_CONSOLE: "1"})
    try:
        child = subprocess.Popen(
            [str(target), *argv[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
    except OSError as e:
        print(f"无法启动 {target.name}（{e.strerror or e}）：请重新安装本程序。", file=sys.stderr)
        return NOT_FOUND
    # Ctrl+C goes to every program on this console: the desk handles it; this one waits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    pumps = [
        threading.Thread(target=_copy, args=(child.stdout, sys.stdout), daemon=True),
        threading.Thread(target=_copy, args=(child.stderr, sys.stderr), daemon=True),
    ]
    for p in pumps:
        p.start()
    code = child.wait()
    for p in pumps:
        p.join()
    return code if code >= 0 else 128 - code  # ended by a signal (POSIX): as a shell says


if __name__ == "__main__":
    sys.exit(main(sys.argv))
