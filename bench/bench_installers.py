"""Installer benchmark: a clean PyInstaller build of the one-folder bundle (time, size, the
largest parts), the same build without the spec's Qt exclusions and file filter (what they
save), the bundle's --self-test, and the NSIS compile. Writes bench/results/installers.md.

    .venv/bin/python bench/bench_installers.py            # ~3-4 minutes on 2 cores
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location(
    "township_bb", ROOT / "installers" / "build_bundle.py"
)
bb = importlib.util.module_from_spec(spec)
sys.modules["township_bb"] = bb
spec.loader.exec_module(bb)


def folder_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file() and not f.is_symlink())


def parts(folder: Path, n: int = 8) -> list[tuple[str, int]]:
    internal = folder / "_internal"
    sizes = [
        (c.name, folder_size(c) if c.is_dir() else c.stat().st_size)
        for c in internal.iterdir()
        if not c.is_symlink()  # PyInstaller links top-level copies of Qt's libraries
    ]
    return sorted(sizes, key=lambda t: -t[1])[:n]


def private_build(home: Path, **env: str) -> tuple[float, object]:
    """A clean build outside the shared cache (tests may be using the cached bundle)."""
    seconds = bb.pyinstaller_build(home, env={**os.environ, **env})
    folder = home / "dist" / bb.EXE_NAME
    return seconds, bb.Bundle(folder, folder / bb.EXE_NAME, "bench", seconds, False)


def main() -> int:
    mb = 1e6
    print("clean build …", flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-installers-"))
    _seconds, b = private_build(work / "filtered")
    size = b.size_bytes
    print(f"bundle {size / mb:.1f} MB, {b.file_count} files, built in {b.build_seconds:.0f} s")
    t0 = time.perf_counter()
    bb.source_key()  # what a cache hit costs: hashing the sources, then the bundle is reused
    cached = time.perf_counter() - t0
    t0 = time.perf_counter()
    r = bb.self_test(b)
    self_test_s = time.perf_counter() - t0
    if r.returncode != 0:
        print(r.stdout, r.stderr[-3000:])
        return 1
    with tempfile.TemporaryDirectory() as d:
        t0 = time.perf_counter()
        out = bb.compile_nsis(Path(d))
        nsis_s = time.perf_counter() - t0
        nsis_size = out.stat().st_size
    # download size, upper bound: the bundle as tar.gz (the installer's LZMA packs tighter;
    # makensis LZMA on the whole bundle takes over 5 minutes here, too slow for a bench)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as d:
        tgz = Path(d) / "bundle.tar.gz"
        subprocess.run(
            ["tar", "-czf", str(tgz), "-C", str(b.folder.parent), b.folder.name], check=True
        )
        packed_size = tgz.stat().st_size
    packed_s = time.perf_counter() - t0
    print("unfiltered build (no Qt exclusions, no file filter) …", flush=True)
    unf_s, unf = private_build(work / "unfiltered", TOWNSHIP_BUNDLE_UNFILTERED="1")
    unf_size = unf.size_bytes

    machine = (
        f"{platform.node()} — {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"
    )
    lines = [
        "# Installers — bundle size and build time",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {machine}; "
        f"{bb._versions()}. Command: `.venv/bin/python bench/bench_installers.py`.",
        "",
        "| What | Result |",
        "|---|---|",
        f"| One-folder bundle (Linux x86_64), clean PyInstaller build | **{size / mb:.1f} MB**, {b.file_count} files, {b.build_seconds:.0f} s |",
        f"| Same spec without Qt exclusions and file filter | {unf_size / mb:.1f} MB, {unf_s:.0f} s |",
        f"| Rerun with unchanged sources: hash the sources, reuse `build/bundle-cache/<hash>` | {cached:.2f} s |",
        f"| `township-desk --self-test` from the bundle, offscreen | {self_test_s:.1f} s, exit 0 |",
        f"| `makensis` compile, stub bundle (the CI check) | {nsis_s:.1f} s, {nsis_size / 1e3:.0f} kB |",
        f"| Bundle as tar.gz (upper bound of the download; NSIS LZMA packs tighter) | {packed_size / mb:.1f} MB ({packed_s:.0f} s) |",
        "",
        "Largest parts of `_internal/`:",
        "",
        "| Part | MB |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | {n / mb:.1f} |" for name, n in parts(b.folder)]
    lines += [
        "",
        "Notes: the Linux bundle carries ICU data (`libicudata`, ~31 MB) and system libraries",
        "that the Windows build does not (PySide6 on Windows uses the system's ICU); the",
        "Windows bundle size is printed by `.github/workflows/windows.yml` (`bundle-size.txt`).",
        "Qt translations: only `qtbase_zh_CN.qm` and `qt_zh_CN.qm` are shipped.",
        "The unfiltered build is only a little larger because PyInstaller collects just the Qt",
        "modules the code imports (PySide6-Essentials, no Addons); the filter removes the other",
        "languages' translations and unused plugins, and the exclusions keep a stray import or",
        "hook from dragging in QML/Quick, Network, Sql or WebEngine. `tests/ops/test_ops_bundle.py`",
        "fails if the bundle exceeds its size budget or ships one of those.",
        "",
    ]
    shutil.rmtree(work, ignore_errors=True)
    out_file = ROOT / "bench" / "results" / "installers.md"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
