"""Authenticode-sign a Windows executable in place with osslsigncode (Debian's package
works on Linux; on Windows use the same tool or signtool). The certificate and key come
from the environment, never from the repository:

  TOWNSHIP_SIGN_PFX       a PKCS#12 file (.pfx) holding the code-signing certificate + key
  TOWNSHIP_SIGN_PASSWORD  its password (optional)
  — or —
  TOWNSHIP_SIGN_CERT / TOWNSHIP_SIGN_KEY   PEM certificate chain and private key
  TOWNSHIP_SIGN_TIMESTAMP an RFC 3161 timestamp server URL (real releases: the signature
                          stays valid after the certificate expires)
  TOWNSHIP_SIGN_LOG       optional: append each signed file's name (tests)

    python installers/sign.py FILE.exe

NSIS calls it for the installer and the uninstaller (``!finalize`` / ``!uninstfinalize``
when the script is compiled with ``-DSIGN_SCRIPT=…``); the Windows workflow calls it for
township-desk.exe and township-desk-console.exe."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

NAME = "乡镇医保服务窗口"
URL = "https://github.com/"  # shown as the program's information link in the signature


def command(src: Path, out: Path, env=os.environ) -> list[str]:
    tool = shutil.which("osslsigncode")
    if tool is None and shutil.which("signtool") and env.get("TOWNSHIP_SIGN_PFX"):
        return _signtool(src, out, env)  # a Windows runner: the SDK's own tool
    if tool is None:
        raise SystemExit("osslsigncode not found (Debian package osslsigncode)")
    cmd = [tool, "sign", "-h", "sha256", "-n", NAME, "-i", URL]
    if env.get("TOWNSHIP_SIGN_PFX"):
        cmd += ["-pkcs12", env["TOWNSHIP_SIGN_PFX"]]
        if env.get("TOWNSHIP_SIGN_PASSWORD"):
            cmd += ["-pass", env["TOWNSHIP_SIGN_PASSWORD"]]
    elif env.get("TOWNSHIP_SIGN_CERT") and env.get("TOWNSHIP_SIGN_KEY"):
        cmd += ["-certs", env["TOWNSHIP_SIGN_CERT"], "-key", env["TOWNSHIP_SIGN_KEY"]]
    else:
        raise SystemExit("no signing certificate: set TOWNSHIP_SIGN_PFX or TOWNSHIP_SIGN_CERT/KEY")
    if env.get("TOWNSHIP_SIGN_TIMESTAMP"):
        cmd += ["-ts", env["TOWNSHIP_SIGN_TIMESTAMP"]]
    return [*cmd, "-in", str(src), "-out", str(out)]


def _signtool(src: Path, out: Path, env) -> list[str]:
    """signtool signs in place: sign a copy named ``out``."""
    shutil.copyfile(src, out)
    cmd = [shutil.which("signtool"), "sign", "/fd", "sha256", "/d", NAME, "/du", URL]
    cmd += ["/f", env["TOWNSHIP_SIGN_PFX"]]
    if env.get("TOWNSHIP_SIGN_PASSWORD"):
        cmd += ["/p", env["TOWNSHIP_SIGN_PASSWORD"]]
    if env.get("TOWNSHIP_SIGN_TIMESTAMP"):
        cmd += ["/tr", env["TOWNSHIP_SIGN_TIMESTAMP"], "/td", "sha256"]
    return [*cmd, str(out)]


def sign(path: Path) -> None:
    out = path.with_name(path.name + ".signed")
    r = subprocess.run(command(path, out), capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not out.exists():
        out.unlink(missing_ok=True)
        raise SystemExit(f"signing {path.name} failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}")
    os.replace(out, path)
    if os.environ.get("TOWNSHIP_SIGN_LOG"):
        with open(os.environ["TOWNSHIP_SIGN_LOG"], "a", encoding="utf-8") as f:
            f.write(path.name + "\n")


if __name__ == "__main__":
    for name in sys.argv[1:]:
        sign(Path(name))
