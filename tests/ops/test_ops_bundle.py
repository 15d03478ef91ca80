"""The installers, built and checked on Linux (marked ``bundle``; scripts/test runs them,
``-m 'not bundle'`` deselects them):

* the PyInstaller one-folder bundle builds (cached by a hash of its sources in
  build/bundle-cache/) and passes ``--self-test`` offscreen;
* the NSIS installer script compiles with makensis against a stub folder;
* every runtime dependency (and what it needs on Windows) has a win_amd64 wheel on PyPI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from desktop import __version__
from desktop.starter import VERIFIED
from release.repo import stamp

pytestmark = pytest.mark.bundle

ROOT = Path(__file__).resolve().parents[2]
SIZE_BUDGET_MB = (
    205  # Linux bundle, 198 MB at issue 17 (bench/results/installers.md): the charts painted
    # with QPainter (pyqtgraph, numpy and three Qt modules out), shared libraries stripped,
    # the console program small (bench/results/bundle-console.md); ICU's 36 MB is Linux-only
    # (Qt on Windows uses the system's)
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


def test_console_program_is_small_and_passes_the_desk_through(bundle, tmp_path):
    """township-desk-console runs township-desk beside it: its exit code, its output and
    errors apart, Chinese text as UTF-8, standard input passed on — and it carries no second
    copy of the desk's program archive (issue 17)."""
    console = bundle.folder / "township-desk-console"
    desk_size = (bundle.folder / "township-desk").stat().st_size
    assert console.stat().st_size < min(3_000_000, desk_size / 4), (console.stat(), desk_size)
    home = tmp_path / "home"
    home.mkdir()
    r = _run(console, home, "--version")
    assert r.returncode == 0 and "township-desk" in r.stdout, r.stderr
    bad = subprocess.run(
        [str(console), "estimate", "--input", "-"],
        input="这不是JSON".encode(),
        capture_output=True,
        timeout=120,
        env=_env(home),
        cwd=home,
    )
    assert bad.returncode == 2, bad
    assert "输入不是有效的JSON" in bad.stderr.decode("utf-8"), bad.stderr
    assert bad.stdout == b""
    # started with no output of its own (as from a windowed program): the desk's output is
    # read and dropped, so the desk never waits on a full pipe
    quiet = subprocess.run(
        [str(console), "--version"],
        preexec_fn=lambda: os.close(1),  # noqa: PLW1509 (the child only)
        stderr=subprocess.PIPE,
        timeout=120,
        env=_env(home),
    )
    assert quiet.returncode == 0 and quiet.stderr == b"", quiet.stderr
    missing = tmp_path / "alone" / "township-desk-console"
    missing.parent.mkdir()
    shutil.copy2(console, missing)
    shutil.copytree(bundle.folder / "_internal", missing.parent / "_internal")
    gone = subprocess.run([str(missing), "--version"], capture_output=True, timeout=120)
    assert gone.returncode == 127 and "请重新安装本程序" in gone.stderr.decode("utf-8")


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


def _code_signing_cert(folder: Path) -> dict:
    """A test CA and a code-signing certificate it issued (PEM files): what a county gets
    from its CA, made here so the test signs with a certificate it trusts."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder().subject_name(name("Test County CA")).issuer_name(name("Test County CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder().subject_name(name("乡镇医保服务窗口 测试签名")).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    files["ca"].write_bytes(ca.public_bytes(pem))
    files["cert"].write_bytes(cert.public_bytes(pem))
    files["key"].write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    return files


def test_the_installer_and_its_uninstaller_are_signed(tmp_path):
    """Compiled with signing, NSIS signs the uninstaller before packing it and the installer
    last; osslsigncode verifies the installer's signature against the CA; an unsigned
    build does not verify."""
    c = _code_signing_cert(tmp_path)
    log = tmp_path / "signed.txt"
    env = {
        "TOWNSHIP_SIGN_CERT": str(c["cert"]),
        "TOWNSHIP_SIGN_KEY": str(c["key"]),
        "TOWNSHIP_SIGN_LOG": str(log),
    }
    out = bb.compile_nsis(tmp_path / "signed", sign_env=env)
    assert len(log.read_text().split()) == 2  # the uninstaller, then the installer
    verify = ["osslsigncode", "verify", "-CAfile", str(c["ca"]), "-in"]
    r = subprocess.run([*verify, str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Signature verification: ok" in r.stdout
    unsigned = bb.compile_nsis(tmp_path / "unsigned")
    r = subprocess.run([*verify, str(unsigned)], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0


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
    ):
        assert name in wheels, name
    for name in ("pyside6-essentials", "shiboken6", "argon2-cffi-bindings", "cffi"):
        assert wheels[name].endswith("win_amd64.whl"), wheels[name]


def test_the_executables_carry_their_version(tmp_path):
    """The version resource text the spec gives PyInstaller on Windows: the package's
    version in Windows' four numbers and as text, the Chinese product name. (PyInstaller
    reads it only on Windows; here its documented constructors are stood in for, so a
    broken text or a wrong version fails on Linux too. The Windows workflow reads the
    built executables' version.)"""
    import importlib.util

    from desktop import __version__

    spec = importlib.util.spec_from_file_location("vi", ROOT / "installers" / "version_info.py")
    vi = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vi)
    text = vi.write(tmp_path, "township-desk", "乡镇医保服务窗口").read_text(encoding="utf-8")

    def record(kind):
        return lambda *a, **k: (kind, a, k)

    names = ["VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable"]
    names += ["StringStruct", "VarFileInfo", "VarStruct"]
    tree = eval(text, {"__builtins__": {}}, {n: record(n) for n in names})  # noqa: S307
    ffi = tree[2]["ffi"][2]
    nums = tuple(int(p) for p in __version__.split("."))
    assert ffi["filevers"][: len(nums)] == nums == ffi["prodvers"][: len(nums)]
    strings = {s[1][0]: s[1][1] for s in tree[2]["kids"][0][1][0][0][1][1]}
    assert strings["ProductVersion"] == __version__ == strings["FileVersion"]
    assert strings["ProductName"] == "乡镇医保服务窗口"
    assert strings["OriginalFilename"] == "township-desk.exe"


def _copy_bundle(src: Path, dst: Path, version: str | None = None) -> Path:
    """A copy of the built bundle (hard links: no disk cost); ``version`` stamps it as the
    release process does."""
    shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
    if version is not None:
        stamp(dst, version)
    return dst


def _env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("TOWNSHIP_DESK_STARTED_BY", None)
    env.update(QT_QPA_PLATFORM="offscreen", HOME=str(home), TMPDIR=str(home))
    env.update({f"XDG_{k}_HOME": str(home / k.lower()) for k in ("DATA", "STATE", "CONFIG")})
    return env


def _run(exe: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, timeout=600, env=_env(home), cwd=home
    )


def test_the_installed_bundle_starts_a_verified_newer_one_and_rolls_a_broken_one_back(
    bundle, tmp_path
):
    """The real frozen program as the installer put it (version N) and, in its data folder,
    N+1 staged and marked verified as the update service leaves it: the next start runs
    N+1's self-test, then N+1 itself. A broken N+2 (a library missing: its self-test fails)
    is rolled back by itself and N+1 goes on; N is never changed."""
    installed = _copy_bundle(bundle.folder, tmp_path / "Program Files" / "TownshipDesk")
    data, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    staged = data / "updates" / "staged"
    nxt = _copy_bundle(bundle.folder, staged / "9.1.0", "9.1.0")
    (nxt / VERIFIED).write_text("9.1.0")
    console = installed / "township-desk-console"
    r = _run(console, home, "--data-dir", str(data), "--version")
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "9.1.0" in r.stdout and __version__ not in r.stdout.replace("9.1.0", "")
    outcome = json.loads((data / "updates" / "outcome.json").read_text())
    assert outcome == {"state": "installed", "version": "9.1.0"}

    broken = _copy_bundle(bundle.folder, staged / "9.2.0", "9.2.0")
    shutil.rmtree(broken / "_internal" / "sqlcipher3")  # the store cannot open: self-test fails
    (broken / VERIFIED).write_text("9.2.0")
    r = _run(console, home, "--data-dir", str(data), "--version")
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "9.1.0" in r.stdout  # rolled back to the installed update, not to nothing
    outcome = json.loads((data / "updates" / "outcome.json").read_text())
    assert outcome == {"state": "rolled_back", "version": "9.2.0"}
    assert "9.2.0" in json.loads((data / "updates" / "failed.json").read_text())
    r = _run(installed / "township-desk-console", home, "--version")  # its own data: no update
    assert __version__ in r.stdout
