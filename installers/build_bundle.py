"""Build, smoke-run and measure the installers on Linux (used by tests/ops/test_ops_bundle.py,
bench/bench_installers.py and by hand)::

    .venv/bin/python installers/build_bundle.py            # bundle + self-test + NSIS + wheels

* :func:`build_bundle` — the PyInstaller one-folder bundle, cached in
  ``build/bundle-cache/<key>/`` where the key is a hash of everything that goes into it
  (desktop/, resources/, db/desktop/, the spec, entry.py, console_entry.py, version_info.py,
  and the Python, PyInstaller and PySide6 versions): a rerun with unchanged sources reuses the bundle in milliseconds.
* :func:`self_test` — runs ``township-desk --self-test`` from the bundle, offscreen, with
  HOME/XDG folders in a temporary directory (nothing touches the real user's folders).
* :func:`compile_nsis` — ``makensis -WX`` on installers/township-desk.nsi against a stub
  folder (the Windows bundle cannot be built on Linux; see installers/README.md).
* :func:`windows_wheels` — every runtime dependency, and everything they pull in on
  Windows, has a win_amd64 (or pure-Python) wheel for CPython 3.11 on PyPI.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "installers" / "township-desk.spec"
NSI = ROOT / "installers" / "township-desk.nsi"
CACHE = ROOT / "build" / "bundle-cache"
BIN = Path(sys.executable).parent
EXE_NAME = "township-desk"
WIN_PY = "3.11"
# markers of the Windows target, to find what the dependencies need there
WIN_ENV = {
    "os_name": "nt",
    "sys_platform": "win32",
    "platform_system": "Windows",
    "platform_machine": "AMD64",
    "platform_python_implementation": "CPython",
    "implementation_name": "cpython",
    "python_version": WIN_PY,
    "python_full_version": f"{WIN_PY}.9",
    "extra": "",
}


def _versions() -> str:
    from importlib.metadata import version

    return f"py{sys.version.split()[0]} pyinstaller{version('pyinstaller')} pyside{version('PySide6-Essentials')}"


def source_key() -> str:
    """Hash of everything the bundle is made from."""
    h = hashlib.sha256(_versions().encode())
    installers = [
        ROOT / "installers" / n for n in ("entry.py", "console_entry.py", "version_info.py")
    ]
    files: list[Path] = [SPEC, *installers, ROOT / "pyproject.toml"]
    for folder in ("desktop", "resources", "db/desktop"):
        files += [
            p
            for p in (ROOT / folder).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        ]
    for p in sorted(files):
        h.update(str(p.relative_to(ROOT)).encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Bundle:
    folder: Path  # dist/township-desk
    exe: Path
    key: str
    build_seconds: float  # of the build that made it (0 when unknown)
    cached: bool  # True when this call reused an earlier build

    @property
    def size_bytes(self) -> int:
        return sum(
            p.stat().st_size for p in self.folder.rglob("*") if p.is_file() and not p.is_symlink()
        )

    @property
    def file_count(self) -> int:
        return sum(1 for p in self.folder.rglob("*") if p.is_file())


def build_bundle(*, force: bool = False, log=print) -> Bundle:
    """The bundle for the current sources: reused from the cache, or built (one builder at a
    time across processes, e.g. pytest-xdist workers)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:
        try:
            import fcntl

            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # Windows: CI builds there with pyinstaller directly
            pass
        return _build_bundle(force=force, log=log)


def _build_bundle(*, force: bool, log) -> Bundle:
    key = source_key()
    home = CACHE / key
    folder = home / "dist" / EXE_NAME
    exe = folder / (EXE_NAME + (".exe" if os.name == "nt" else ""))
    info_file = home / "build-info.json"
    if not force and exe.exists() and info_file.exists():
        info = json.loads(info_file.read_text())
        return Bundle(folder, exe, key, info.get("build_seconds", 0.0), True)
    builds = [p for p in CACHE.iterdir() if p.is_dir() and p.name != "win-wheels"]
    for old in sorted(builds, key=lambda p: p.stat().st_mtime)[:-3]:  # keep the newest three
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    log(f"building the bundle {key} (PyInstaller) …")
    seconds = pyinstaller_build(home)
    shutil.rmtree(home / "work", ignore_errors=True)
    info_file.write_text(json.dumps({"build_seconds": round(seconds, 1), "versions": _versions()}))
    return Bundle(folder, exe, key, seconds, False)


def pyinstaller_build(home: Path, env: dict | None = None) -> float:
    """Run PyInstaller on the spec into ``home/dist`` (work files in ``home/work``, removed
    afterwards); returns the seconds it took."""
    exe = home / "dist" / EXE_NAME / (EXE_NAME + (".exe" if os.name == "nt" else ""))
    t0 = time.perf_counter()
    r = subprocess.run(
        [
            str(BIN / "pyinstaller"),
            "--noconfirm",
            "--clean",
            "--log-level",
            "WARN",
            "--distpath",
            str(home / "dist"),
            "--workpath",
            str(home / "work"),
            str(SPEC),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        env=env,
    )
    seconds = time.perf_counter() - t0
    home.mkdir(parents=True, exist_ok=True)
    (home / "pyinstaller.log").write_text(r.stdout + r.stderr)
    shutil.rmtree(home / "work", ignore_errors=True)
    if r.returncode != 0 or not exe.exists():
        raise RuntimeError(f"PyInstaller failed ({r.returncode}):\n{r.stderr[-4000:]}")
    return seconds


def self_test(bundle: Bundle, *, timeout: int = 300) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="bundle-home-") as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
        env.update(
            QT_QPA_PLATFORM="offscreen",
            HOME=home,
            XDG_DATA_HOME=f"{home}/data",
            XDG_STATE_HOME=f"{home}/state",
            XDG_CONFIG_HOME=f"{home}/config",
            XDG_CACHE_HOME=f"{home}/cache",
            TMPDIR=home,
        )
        return subprocess.run(
            [str(bundle.exe), "--self-test"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=home,
        )


def compile_nsis(
    out_dir: Path, *, bundle_dir: Path | None = None, sign_env: dict | None = None
) -> Path:
    """Compile the NSIS script. Without ``bundle_dir`` a stub folder stands in for the
    Windows bundle (a placeholder township-desk.exe and _internal/). ``sign_env``: sign the
    uninstaller and the installer (installers/sign.py) with the certificate these
    environment variables name."""
    makensis = shutil.which("makensis")
    if makensis is None:
        raise FileNotFoundError("makensis not found (Debian package nsis)")
    out_dir.mkdir(parents=True, exist_ok=True)
    if bundle_dir is None:
        bundle_dir = out_dir / "stub-bundle"
        (bundle_dir / "_internal").mkdir(parents=True, exist_ok=True)
        (bundle_dir / "township-desk.exe").write_bytes(
            b"MZ stub: the Windows bundle is built on Windows\n"
        )
        (bundle_dir / "_internal" / "README.txt").write_text("stub for the Linux compile check\n")
    out = out_dir / "township-desk-setup-stub.exe"
    r = subprocess.run(
        [
            makensis,
            "-WX",
            "-V2",
            "-NOCD",
            f"-DBUNDLE_DIR={bundle_dir}",
            f"-DOUTFILE={out}",
            *(
                [f"-DSIGN_SCRIPT={NSI.parent / 'sign.py'}", f"-DPYTHON={sys.executable}"]
                if sign_env is not None
                else []
            ),
            str(NSI),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=NSI.parent,
        env={**os.environ, **(sign_env or {})},
    )
    if r.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"makensis failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
        )
    return out


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_requirements() -> list[str]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    # the desk ships the shared core's dependencies and its own extra (not the server's)
    return [*project["dependencies"], *project["optional-dependencies"]["desk"]]


def windows_closure(requirements: list[str]) -> dict[str, str]:
    """name → requirement to download: the runtime dependencies and, recursively, what each
    needs on Windows (markers evaluated for win_amd64, e.g. keyring → pywin32-ctypes). Installed
    packages are pinned to the version tested here."""
    from importlib.metadata import PackageNotFoundError, distribution

    from packaging.requirements import Requirement

    todo = [Requirement(r) for r in requirements]
    seen: dict[str, str] = {}
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate(WIN_ENV):
            continue
        name = _norm(req.name)
        if name in seen:
            continue
        try:
            dist = distribution(req.name)
        except PackageNotFoundError:
            seen[name] = str(Requirement(f"{req.name}{req.specifier}"))
            continue
        seen[name] = f"{req.name}=={dist.version}"
        for sub in dist.requires or []:
            r = Requirement(sub)
            if r.marker is not None and "extra" in str(r.marker):
                continue
            todo.append(r)
    return dict(sorted(seen.items()))


def _download(req: str, dest: Path) -> tuple[str, bool, str]:
    cmd = [
        str(BIN / "python"),
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--no-deps",
        "--only-binary=:all:",
        "--platform",
        "win_amd64",
        "--python-version",
        WIN_PY,
        "--implementation",
        "cp",
        "-d",
        str(dest),
        req,
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return req, r.returncode == 0, (r.stderr or r.stdout)[-600:]


def windows_wheels(dest: Path | None = None, *, workers: int = 4) -> dict[str, str]:
    """Download a win_amd64/py3-none-any wheel for every package of :func:`windows_closure`.
    Returns name → wheel file name; raises with the list of packages that have none."""
    dest = dest or (CACHE / "win-wheels")
    dest.mkdir(parents=True, exist_ok=True)
    closure = windows_closure(runtime_requirements())

    def have(req: str) -> bool:  # a pinned wheel downloaded by an earlier run
        name, _, ver = req.partition("==")
        return bool(ver) and any(
            _norm(p.name.split("-")[0]) == _norm(name) and p.name.split("-")[1] == ver
            for p in dest.glob("*.whl")
        )

    todo = [r for r in closure.values() if not have(r)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda r: _download(r, dest), todo))
    missing = [
        f"{req}: {err.strip().splitlines()[-1] if err.strip() else 'failed'}"
        for req, ok, err in results
        if not ok
    ]
    if missing:
        raise RuntimeError("no win_amd64 wheel for:\n" + "\n".join(missing))
    wheels = {}
    files = [p.name for p in dest.glob("*.whl")]
    for name in closure:
        match = [f for f in files if _norm(f.split("-")[0]) == name]
        ok = [f for f in match if f.endswith(("-win_amd64.whl", "-none-any.whl"))]
        if not ok:
            raise RuntimeError(f"{name}: downloaded {match}, none for win_amd64")
        wheels[name] = sorted(ok)[-1]
    return wheels


def main() -> int:
    b = build_bundle()
    print(
        f"bundle {b.folder}: {b.size_bytes / 1e6:.1f} MB, {b.file_count} files, "
        f"build {b.build_seconds:.0f} s{' (cached)' if b.cached else ''}"
    )
    r = self_test(b)
    print(r.stdout)
    if r.returncode != 0:
        print(r.stderr[-3000:])
        return 1
    with tempfile.TemporaryDirectory() as d:
        out = compile_nsis(Path(d))
        print(f"NSIS: {out.name} {out.stat().st_size} bytes (stub bundle)")
    for name, wheel in windows_wheels().items():
        print(f"win_amd64: {name:28} {wheel}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
