"""What a new desk dependency costs in the Windows-style one-folder bundle: clean PyInstaller
builds of a commit before the change (a git worktree, same virtualenv) and of the working
tree, side by side — size, files, and the parts that differ. Issue 16 added pyqtgraph
(and numpy) for the home page's charts. Writes bench/results/bundle-change.md.

    .venv/bin/python bench/bench_bundle_change.py --before 07967da   # ~4 minutes
    .venv/bin/python bench/bench_bundle_change.py --before 6e9b665 \
        --what "issue 17: signed updates (tufup)" --out bench/results/bundle-updates.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402


def _load_bb(root: Path):
    spec = importlib.util.spec_from_file_location(
        f"bb_{root.name}", root / "installers" / "build_bundle.py"
    )
    bb = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bb  # its dataclasses look their module up
    spec.loader.exec_module(bb)
    bb.BIN = Path(sys.executable).parent  # the same virtualenv for both builds
    return bb


def _size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def _parts(folder: Path) -> dict[str, int]:
    """The executables beside ``_internal/`` and each entry of ``_internal/``."""
    internal = folder / "_internal"
    parts = {
        f"{c.name} (executable)": c.stat().st_size
        for c in folder.iterdir()
        if c.is_file() and not c.is_symlink()
    }
    parts.update(
        (f"_internal/{c.name}", _size(c) if c.is_dir() else c.stat().st_size)
        for c in internal.iterdir()
        if not c.is_symlink()
    )
    return parts


def build(root: Path, home: Path) -> tuple[Path, float]:
    bb = _load_bb(root)
    seconds = bb.pyinstaller_build(home, env={**os.environ})
    return home / "dist" / bb.EXE_NAME, seconds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default="07967da")
    ap.add_argument(
        "--what", default="issue 16: pyqtgraph + numpy", help="the change, for the title"
    )
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "bundle-change.md"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-bundle-change-"))
    tree = work / "before-src"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), args.before], cwd=ROOT,
                   check=True, capture_output=True)  # fmt: skip
    try:
        before, t_before = build(tree, work / "before")
        after, t_after = build(ROOT, work / "after")
        b, a = _parts(before), _parts(after)
        size_b, size_a = _size(before), _size(after)
        files_b = sum(1 for f in before.rglob("*") if f.is_file())
        files_a = sum(1 for f in after.rglob("*") if f.is_file())
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT,
                       capture_output=True)  # fmt: skip
    mb = 1e6
    changed = sorted(
        ((k, a.get(k, 0) - b.get(k, 0)) for k in set(a) | set(b) if a.get(k, 0) != b.get(k, 0)),
        key=lambda t: -abs(t[1]),
    )[:10]
    lines = [
        f"# Bundle size before and after a dependency change ({args.what})",
        "",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        f"Command: `.venv/bin/python bench/bench_bundle_change.py --before {args.before}"
        f"{'' if args.out.endswith('bundle-change.md') else ' --out ' + Path(args.out).name}` "
        "(clean PyInstaller builds of the one-folder bundle, Linux x86_64, same virtualenv)",
        "",
        "| build | size | files | build time |",
        "|---|---|---|---|",
        f"| before ({args.before}) | {size_b / mb:.1f} MB | {files_b} | {t_before:.0f} s |",
        f"| after (working tree) | {size_a / mb:.1f} MB | {files_a} | {t_after:.0f} s |",
        f"| change | **{(size_a - size_b) / mb:+.1f} MB** ({(size_a / size_b - 1) * 100:+.1f}%) "
        f"| {files_a - files_b:+d} | |",
        "",
        "Parts of the bundle that changed most:",
        "",
        "| part | change |",
        "|---|---|",
        *[f"| `{k}` | {d / mb:+.2f} MB |" for k, d in changed],
    ]
    out = Path(args.out)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
