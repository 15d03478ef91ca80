"""The county server installs alone (issue 10 item 4): ``pip install <repo>[county]`` into a
fresh virtual environment pulls no Qt, reportlab or pypdfium2, and ``township-county serve``
from that environment migrates a real PostgreSQL and answers /health."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from county.testing import _free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def test_the_county_server_installs_and_runs_without_qt(tmp_path, county_dsn):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    py = venv / "bin" / "python"
    pip = subprocess.run(
        [str(py), "-m", "pip", "install", "-q", f"{ROOT}[county]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert pip.returncode == 0, pip.stderr[-3000:]
    probe = subprocess.run(
        [
            str(py),
            "-c",
            "import importlib.util as u;"
            "print([m for m in ('PySide6','reportlab','pypdfium2','sqlite_utils') if u.find_spec(m)])",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stdout + probe.stderr
    port = _free_port()
    env = {
        **os.environ,
        "TOWNSHIP_COUNTY_DATABASE_URL": county_dsn,
        "TOWNSHIP_COUNTY_SIGNING_KEY": "test-signing-key-0123456789abcdef0123456789",
        "TOWNSHIP_COUNTY_BIND": f"127.0.0.1:{port}",
    }
    for name in ("PYTHONPATH",):
        env.pop(name, None)
    county = venv / "bin" / "township-county"
    assert (
        subprocess.run([str(county), "migrate"], env=env, cwd=tmp_path, timeout=120).returncode == 0
    )
    proc = subprocess.Popen(
        [str(county), "serve", "--log-level", "warning"],
        env=env,
        cwd=tmp_path,  # not the source tree: only what was installed
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        ok = False
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                ok = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                ok = False
            if ok:
                break
            time.sleep(0.2)
        assert ok, proc.stderr.read().decode() if proc.poll() is not None else "no answer"
    finally:
        proc.kill()
        proc.wait(10)
