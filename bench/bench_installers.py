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
        (c.name, folder_size(c) if c.is_dir() else c.stat().st_size) for c in internal.iterdir()
    ]
    return sorted(sizes, key=lambda t: -t[1])[:n]


def unfiltered_build() -> tuple[float, int]:
    with tempfile.TemporaryDirectory(prefix="bundle-unfiltered-") as d:
        env = {**os.environ, "TOWNSHIP_BUNDLE_UNFILTERED": "1"}
        t0 = time.perf_counter()
        subprocess.run(
            [
                str(bb.BIN / "pyinstaller"),
                "--noconfirm",
                "--log-level",
                "WARN",
                "--distpath",
                f"{d}/dist",
                "--workpath",
                f"{d}/work",
                str(bb.SPEC),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - t0, folder_size(Path(d) / "dist" / bb.EXE_NAME)


def main() -> int:
    mb = 1e6
    print("clean build …", flush=True)
    b = bb.build_bundle(force=True, log=lambda m: None)
    size = b.size_bytes
    print(f"bundle {size / mb:.1f} MB, {b.file_count} files, built in {b.build_seconds:.0f} s")
    t0 = time.perf_counter()
    bb.build_bundle(log=lambda m: None)
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
        # the real payload compressed: the Linux bundle packed by the same script
        t0 = time.perf_counter()
        packed = bb.compile_nsis(Path(d) / "real", bundle_dir=b.folder)
        packed_s = time.perf_counter() - t0
        packed_size = packed.stat().st_size
    print("unfiltered build (no Qt exclusions, no file filter) …", flush=True)
    unf_s, unf_size = unfiltered_build()

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
        f"| Rebuild with unchanged sources (cache hit, `build/bundle-cache/`) | {cached:.2f} s |",
        f"| `township-desk --self-test` from the bundle, offscreen | {self_test_s:.1f} s, exit 0 |",
        f"| `makensis` compile, stub bundle (the CI check) | {nsis_s:.1f} s, {nsis_size / 1e3:.0f} kB |",
        f"| `makensis` packing the real Linux bundle (LZMA solid), indicative download size | {packed_s:.0f} s, {packed_size / mb:.1f} MB |",
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
        "",
    ]
    out_file = ROOT / "bench" / "results" / "installers.md"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
