"""An ESTIMATE of the Windows bundle's size (issue 17's goal: ≤ 120 MB unpacked, ≤ 60 MB
installer), made on Linux where no Windows build can run. Not a measurement: the Windows
workflow (.github/workflows/windows.yml) prints the real figures into bundle-size.txt.

How: the Linux bundle is built; every package with compiled parts is replaced by what its
win_amd64 wheel holds (for PySide6, the files the spec keeps: Core, Gui, Widgets,
PrintSupport, the Windows platform and image plugins, the zh_CN translations, the MSVC
runtime); the Linux-only files go (ICU, the system libraries PyInstaller copied, libpython
and lib-dynload); the Windows Python runtime is added as a stated constant (python311.dll
and the extension DLLs of python.org's 3.11 amd64 build, ~14 MB); pure Python, data and
the executables (the desk's program archive, the small console program) stay as on Linux.
The installer is estimated by compressing that file set solid with LZMA (as NSIS's /SOLID
lzma does).

    .venv/bin/python bench/bench_bundle_windows.py      # ~2 minutes
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import lzma
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine  # noqa: E402

PYTHON_RUNTIME_MB = 14.0  # python311.dll ~5.6 MB + the extension DLLs the desk loads ~8.4 MB
QT_KEEP = {
    "Qt6Core.dll", "Qt6Gui.dll", "Qt6Widgets.dll", "Qt6PrintSupport.dll",
    "QtCore.pyd", "QtGui.pyd", "QtWidgets.pyd", "QtPrintSupport.pyd",
    "pyside6.abi3.dll", "d3dcompiler_47.dll",
}  # fmt: skip
QT_PLUGINS = ("platforms/qwindows", "imageformats/qico", "imageformats/qjpeg", "imageformats/qgif",
              "styles/", "iconengines/", "printsupport/")  # fmt: skip


def _bb():
    spec = importlib.util.spec_from_file_location("bb_win", ROOT / "installers" / "build_bundle.py")
    bb = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bb
    spec.loader.exec_module(bb)
    return bb


def _keep_pyside(name: str) -> bool:
    rest = name.split("/", 1)[1] if "/" in name else name
    base = rest.rsplit("/", 1)[-1]
    if base in QT_KEEP or base.startswith(("msvcp140", "vcruntime140", "concrt140")):
        return True
    if "plugins/" in rest:
        return any(p in rest.split("plugins/", 1)[1] for p in QT_PLUGINS)
    if "translations/" in rest:
        return base in ("qtbase_zh_CN.qm", "qt_zh_CN.qm")
    return rest.endswith(".py")


def _shipped(internal: Path, name: str) -> bool:
    """Would the Windows build ship this wheel member? Python sources no (they are in the
    executables' archive, counted there); an extension module when the Linux bundle has the
    same module (the spec's exclusions hold); a DLL yes; other data when Linux has it too."""
    if name.endswith((".py", ".pyi", ".pyc", ".typed")):
        return False
    folder, _, base = name.rpartition("/")
    if base.endswith(".dll"):
        return True
    if base.endswith(".pyd"):
        stem = base.split(".", 1)[0]
        here = internal / folder
        return here.is_dir() and any(f.name.split(".", 1)[0] == stem for f in here.iterdir())
    return (internal / name).exists()


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main() -> int:
    bb = _bb()
    bundle = bb.build_bundle().folder
    internal = bundle / "_internal"
    wheels = bb.windows_wheels()
    wheel_dir = bb.CACHE / "win-wheels"
    replaced: dict[str, int] = {}  # top-level name in _internal → Linux bytes taken out
    added: list[tuple[str, bytes]] = []  # Windows files (name, content)
    for fname in wheels.values():
        if not fname.endswith("win_amd64.whl"):
            continue
        with zipfile.ZipFile(wheel_dir / fname) as z:
            members = [
                m for m in z.infolist() if not m.is_dir() and ".dist-info/" not in m.filename
            ]
            tops = {m.filename.split("/", 1)[0] for m in members}
            present = [t for t in tops if (internal / t).exists()]
            if not present:
                continue  # a package the bundle does not ship
            for t in present:
                p = internal / t
                replaced[t] = _size(p) if p.is_dir() else p.stat().st_size
            for m in members:
                top = m.filename.split("/", 1)[0]
                if top not in present or not _shipped(internal, m.filename):
                    continue
                if top == "PySide6" and not _keep_pyside(m.filename):
                    continue
                added.append((m.filename, z.read(m)))
    # what only a Linux bundle carries
    linux_only = [
        f for f in internal.iterdir()
        if f.name not in replaced and (f.name.endswith(".libs") or ".so" in f.name)
    ] + [internal / "python3.11" / "lib-dynload"]  # fmt: skip
    gone = sum(
        _size(f) if f.is_dir() else f.stat().st_size
        for f in linux_only
        if f.exists() and not f.is_symlink()  # the Qt symlinks are counted with PySide6
    )
    linux_total = _size(bundle)
    kept_files = [
        f for f in bundle.rglob("*")
        if f.is_file() and not f.is_symlink()
        and f.relative_to(internal if f.is_relative_to(internal) else bundle).parts[0]
        not in replaced
        and not any(f == x or f.is_relative_to(x) for x in linux_only)
    ]  # fmt: skip
    kept = sum(f.stat().st_size for f in kept_files)
    win_bin = sum(len(b) for _, b in added)
    runtime = int(PYTHON_RUNTIME_MB * 1e6)
    unpacked = kept + win_bin + runtime
    comp = lzma.LZMACompressor(preset=6)
    packed = 0
    for f in kept_files:
        packed += len(comp.compress(f.read_bytes()))
    for _, b in added:
        packed += len(comp.compress(b))
    packed += len(comp.flush())
    packed += int(runtime * 0.42)  # DLLs pack to about 40 % (stated, not measured)
    mb = 1e6
    biggest = sorted(added, key=lambda x: -len(x[1]))[:12]
    lines = [
        "# Windows bundle size — an ESTIMATE made on Linux (issue 17)",
        "",
        f"Machine: {machine()}  ",
        f"Date: {dt.datetime.now().astimezone().isoformat(timespec='minutes')}  ",
        "Command: `.venv/bin/python bench/bench_bundle_windows.py` — method in its docstring; "
        "the real figures come from the Windows workflow (`bundle-size.txt`).",
        "",
        "| what | MB |",
        "|---|---|",
        f"| Linux bundle (measured) | {linux_total / mb:.1f} |",
        f"| − Linux-only files (ICU, copied system libraries, libpython, lib-dynload) | "
        f"{gone / mb:.1f} |",
        f"| − packages with compiled parts, as built for Linux | {sum(replaced.values()) / mb:.1f} |",
        f"| + the same packages from their win_amd64 wheels (PySide6 filtered as the spec does) "
        f"| {win_bin / mb:.1f} |",
        f"| + the Windows Python runtime (a stated constant) | {PYTHON_RUNTIME_MB:.1f} |",
        f"| **estimated Windows bundle, unpacked** | **{unpacked / mb:.1f}** (goal ≤ 120) |",
        f"| **estimated installer (solid LZMA)** | **{packed / mb:.1f}** (goal ≤ 60) |",
        "",
        "Largest Windows files in the estimate:",
        "",
        "| file | MB |",
        "|---|---|",
        *[f"| `{n}` | {len(b) / mb:.1f} |" for n, b in biggest],
    ]
    out = ROOT / "bench" / "results" / "bundle-windows-estimate.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
