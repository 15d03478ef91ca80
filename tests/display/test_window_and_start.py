"""The desk on a real display: ``scripts/run`` starts it on a fresh Linux machine's X server
(issue 11 item 13: Qt's xcb platform needs more libraries than Qt names), and a failed start
leaves no half-made data folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scripts_run_starts_the_desk_on_an_x_display(screen, tmp_path):
    data = tmp_path / "data"
    proc = subprocess.Popen(
        ["bash", str(ROOT / "scripts" / "run"), "--data-dir", str(data)],
        env=screen.env,
        cwd=ROOT,
        stdout=(tmp_path / "run.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    screen.procs.append(proc)
    screen.app = proc
    screen.app_log = tmp_path / "run.log"
    title = screen.wait_title("操作员登录", timeout=240)  # the first run may set up .venv
    assert title == "操作员登录"
    screen.shot("scripts-run-login")
    screen.key("Escape")
    proc.wait(30)
    assert proc.returncode == 0


def test_a_desk_that_cannot_reach_a_display_leaves_no_data_folder(tmp_path):
    """No X server at all: Qt stops the program before the store is made (the log that says
    why is kept)."""
    data = tmp_path / "data"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "DISPLAY": ":239"}
    out = subprocess.run(
        [sys.executable, "-m", "desktop", "--demo", "--data-dir", str(data)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    time.sleep(0.1)
    assert out.returncode != 0
    made = sorted(p.relative_to(data).as_posix() for p in data.rglob("*")) if data.exists() else []
    assert all(p.startswith("logs") for p in made), made


def test_quitting_with_ctrl_q_is_clean(screen, tmp_path):
    """Issue 11 item 12: quitting printed ``Fatal Python error: bool_dealloc`` once in four
    exits. The workers now stop in order; quit twice and read what the program printed."""
    for i in range(2):
        data = tmp_path / f"data{i}"
        screen.app_log = tmp_path / f"quit{i}.log"
        screen.start_and_log_in(data)
        time.sleep(1)  # the 同步 page and the daily backup start after the first paint
        screen.key("ctrl+q")
        screen.app.wait(30)
        printed = screen.app_log.read_text(errors="replace")
        assert screen.app.returncode == 0, printed[-2000:]
        assert "Fatal Python error" not in printed and "Traceback" not in printed, printed[-2000:]
