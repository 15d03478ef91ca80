"""Starting the desk again while it is open (a second double-click on a slow PC, or the icon
clicked because the window is behind another) brings the open window to the front instead
of opening a second program on the same records; after a power cut the desk starts."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def windows_named(screen, part: str) -> list[str]:
    return screen.xdo("search", "--onlyvisible", "--name", part, check=False).split()


def test_a_second_start_brings_the_open_window_forward(screen, tmp_path):
    data = tmp_path / "data"
    screen.start_and_log_in(data)
    screen.xdo("getactivewindow", "windowminimize")
    screen._wait(lambda: "首页" not in screen.active_title(), 10, "the window minimized")

    started = time.monotonic()
    again = subprocess.run(
        [sys.executable, "-m", "desktop", "--demo", "--data-dir", str(data)],
        env=screen.env,
        cwd=ROOT,
        capture_output=True,
        timeout=60,  # without the lock it would open a second window and wait at its log-in
    )
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    assert time.monotonic() - started < 45
    # the open window is back in front, with the keyboard; there is still only one
    assert "首页" in screen.wait_title("首页", timeout=15)
    screen.shot("started-again")
    assert len(windows_named(screen, "乡镇医保服务窗口")) == 1
    log = "\n".join(p.read_text(errors="replace") for p in (data / "logs").glob("*.log*"))
    assert "the desk was started again" in log
    assert screen.app.poll() is None  # the first one goes on

    # a power cut: the program is gone at once, its lock file stays; the next start opens
    screen.app.kill()
    screen.app.wait(10)
    assert (data / "window.lock").exists()
    screen.start_desk(data)
    assert screen.wait_title("操作员登录", timeout=40) == "操作员登录"
    screen.key("Escape")
    screen.app.wait(30)
    assert screen.app.returncode == 0
