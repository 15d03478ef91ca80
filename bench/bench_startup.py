"""Cold start of the desk, as ratios to a bare PySide6 window measured in the same run
(issue 10 item 7: ≤ 2.5× for the main window). Each sample is a new Python process that
imports what the real start imports, opens the store, builds the window and waits until it
is exposed; the bare baseline builds a QMainWindow with a label the same way.

``--before REF`` measures a git revision too (checked out into a temporary worktree), so
BENCHMARKS.md can show before and after from one run on one machine.

    .venv/bin/python bench/bench_startup.py [--runs 9] [--before e9a00e5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine  # noqa: E402

BARE = r"""
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
app = QApplication(sys.argv)
w = QMainWindow(); w.setCentralWidget(QLabel("hello")); w.resize(1366, 740); w.show()
while not (w.windowHandle() and w.windowHandle().isExposed()):
    app.processEvents()
app.processEvents()
print("SHOWN", flush=True)
"""

# What `township-desk` does after the log-in: the QApplication, the store, the main window
# on its first page (the actor is read from the store: no demo code is imported).
DESK = r"""
import sys
from pathlib import Path
from desktop.gui.app import create_qapplication, make_context
from desktop.store import open_store
from desktop.services.context import Actor
data = Path(sys.argv[1]); which = sys.argv[2]
app = create_qapplication()
store = open_store(data)
if which == "login":
    from desktop.gui.login import LoginDialog
    w = LoginDialog(store, username="clerk1")
else:
    from desktop.gui.main_window import MainWindow
    row = store.query_one("SELECT id, username, display_name, role FROM operator WHERE username = 'clerk1'")
    sp = store.query_one("SELECT id FROM service_point")["id"]
    actor = Actor(row["id"], row["username"], row["display_name"], row["role"], sp)
    w = MainWindow(make_context(store, actor, data))
w.show()
while not (w.windowHandle() and w.windowHandle().isExposed()):
    app.processEvents()
app.processEvents()
print("SHOWN", flush=True)
import os; os._exit(0)
"""


_KEYRING = Path(tempfile.mkdtemp(prefix="bench-keyring-")) / "keys.json"


def _env() -> dict:
    """The child's environment: offscreen unless a display is asked for, and the developers'
    file keyring (scripts/devkeyring; the store's key lives in a keyring since issue 14 —
    this machine has no OS keyring), never the project on PYTHONPATH."""
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    env["PYTHONPATH"] = str(ROOT / "scripts" / "devkeyring")
    env["PYTHON_KEYRING_BACKEND"] = "township_devkeyring.FileKeyring"
    env["TOWNSHIP_DEV_KEYRING"] = str(_KEYRING)
    return env


def _time(code: str, cwd: Path, *args: str) -> float:
    env = _env()
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, env=env, cwd=cwd, timeout=120
    )
    elapsed = time.perf_counter() - t
    if b"SHOWN" not in p.stdout:
        raise RuntimeError(p.stderr.decode()[-2000:])
    return elapsed


def _demo_store(tree: Path, folder: Path) -> None:
    """A demo store made by the tree under test (its own schema and migrations)."""
    code = (
        "import sys; from desktop.store import open_store; from desktop.services.demo import "
        "seed_demo; s = open_store(sys.argv[1]); seed_demo(s); s.close()"
    )
    subprocess.run([sys.executable, "-c", code, str(folder)], cwd=tree, env=_env(), check=True)


def _compile(tree: Path) -> None:
    """Byte-compile the tree first, as the shipped bundle is (PyInstaller ships bytecode):
    with PYTHONDONTWRITEBYTECODE set, as on this machine, every start would otherwise compile
    the project from source and measure the compiler, not the desk."""
    folders = [str(tree / name) for name in ("core", "desktop") if (tree / name).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *folders], check=True)


def measure(trees: dict[str, Path], runs: int) -> dict:
    stores = {}
    for name, tree in trees.items():
        _compile(tree)
        stores[name] = Path(tempfile.mkdtemp(prefix=f"bench-start-{name}-"))
        _demo_store(tree, stores[name])
    _time(BARE, ROOT)  # warms the OS file cache for everyone
    samples: dict[str, list[float]] = {"bare": []}
    for name in trees:
        samples[f"{name}:main"] = []
        samples[f"{name}:login"] = []
    for _ in range(runs):  # interleaved, so machine noise hits all alike
        samples["bare"].append(_time(BARE, ROOT))
        for name, tree in trees.items():
            samples[f"{name}:main"].append(_time(DESK, tree, str(stores[name]), "main"))
            samples[f"{name}:login"].append(_time(DESK, tree, str(stores[name]), "login"))
    for folder in stores.values():
        shutil.rmtree(folder, ignore_errors=True)
    return {k: statistics.median(v) for k, v in samples.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--before", help="a git revision to measure beside the working tree")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "startup.md"))
    args = ap.parse_args()
    trees = {"now": ROOT}
    tmp = None
    if args.before:
        tmp = Path(tempfile.mkdtemp(prefix="bench-before-"))
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(tmp / "tree"), args.before],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        trees = {"before": tmp / "tree", "now": ROOT}
    try:
        med = measure(trees, args.runs)
    finally:
        if tmp is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(tmp / "tree")], cwd=ROOT)
            shutil.rmtree(tmp, ignore_errors=True)
    bare = med["bare"]
    lines = [
        "# Cold start (issue 10 item 7)",
        "",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        f"Command: `.venv/bin/python bench/bench_startup.py --runs {args.runs}"
        + (f" --before {args.before}`" if args.before else "`"),
        "",
        "Median of each kind, interleaved runs, a new process each (import, open the store,",
        "build the window, wait until it is exposed; offscreen platform). Goal: the main",
        "window ≤ 2.5× the bare PySide6 window.",
        "",
        "| | time | ratio to bare window |",
        "|---|---|---|",
        f"| bare PySide6 window | {bare * 1000:.0f} ms | 1.00× |",
    ]
    for name in trees:
        label = {"now": "this tree", "before": f"before ({args.before})"}[name]
        for kind, what in (("main", "main window"), ("login", "log-in dialog")):
            t = med[f"{name}:{kind}"]
            lines.append(f"| {what}, {label} | {t * 1000:.0f} ms | {t / bare:.2f}× |")
    text = "\n".join(lines) + "\n"
    Path(args.out).write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
