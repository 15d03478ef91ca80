"""A person at a real screen: Xvfb at 1366×768 with openbox keeping a 40 px strip free at the
bottom (the Windows taskbar), the real desk started as ``township-desk --demo`` on Qt's xcb
platform, driven with xdotool, photographed with ImageMagick's ``import``.

Screenshots go to ``$TOWNSHIP_SCREENSHOTS`` (default: the test's temporary folder); the
README's pictures are made with ``TOWNSHIP_SCREENSHOTS=docs/images scripts/test tests/display``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "openbox", "xdotool", "import")
SCREEN = (1366, 768)
TASKBAR = 40
USABLE_HEIGHT = SCREEN[1] - TASKBAR  # 728

OPENBOX_RC = f"""<?xml version="1.0" encoding="UTF-8"?>
<openbox_config xmlns="http://openbox.org/3.4/rc">
  <margins><top>0</top><bottom>{TASKBAR}</bottom><left>0</left><right>0</right></margins>
  <focus><focusNew>yes</focusNew><followMouse>no</followMouse></focus>
</openbox_config>
"""

pytestmark = pytest.mark.display


def _free_display() -> int:
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    raise RuntimeError("no free X display number")


class Screen:
    """One X display with a window manager, and the keyboard and camera of a person."""

    def __init__(self, workdir: Path):
        missing = [t for t in TOOLS if shutil.which(t) is None]
        if missing:
            pytest.skip(f"not installed: {missing} (scripts/test installs them)")
        self.n = _free_display()
        self.env = {
            **os.environ,
            "DISPLAY": f":{self.n}",
            "QT_QPA_PLATFORM": "xcb",
            "PYTHONUNBUFFERED": "1",
        }
        self.procs: list[subprocess.Popen] = []
        self.app: subprocess.Popen | None = None
        self.screen_size = SCREEN
        self.usable_height = USABLE_HEIGHT
        self.workdir = workdir
        self.shots = Path(os.environ.get("TOWNSHIP_SCREENSHOTS") or workdir / "shots")
        self.shots.mkdir(parents=True, exist_ok=True)
        xvfb = subprocess.Popen(
            [
                "Xvfb",
                f":{self.n}",
                "-screen",
                "0",
                f"{SCREEN[0]}x{SCREEN[1]}x24",
                "-nolisten",
                "tcp",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(xvfb)
        self._wait(lambda: Path(f"/tmp/.X11-unix/X{self.n}").exists(), 10, "Xvfb")
        rc = workdir / "openbox-rc.xml"
        rc.write_text(OPENBOX_RC, encoding="utf-8")
        self.procs.append(
            subprocess.Popen(
                ["openbox", "--config-file", str(rc)],
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(0.5)
        self.app_log = workdir / "app.log"

    # ---- the program ------------------------------------------------------------------
    def start_desk(self, data_dir: Path, *args: str) -> None:
        self.app = subprocess.Popen(
            [sys.executable, "-m", "desktop", "--demo", "--data-dir", str(data_dir), *args],
            env=self.env,
            cwd=ROOT,
            stdout=self.app_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        self.procs.append(self.app)

    def start_and_log_in(self, data_dir: Path) -> None:
        """A new desk started on the demo data, clerk1 logged in, 首页 on screen."""
        self.start_desk(data_dir)
        self.wait_title("操作员登录", timeout=40)
        self.type("clerk1")
        self.key("Tab")
        self.type("clerk123")
        self.key("Return")
        self.wait_title("首页", timeout=30)

    def close(self) -> None:
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()

    # ---- a person's eyes and hands ----------------------------------------------------
    def xdo(self, *args: str, check: bool = True) -> str:
        out = subprocess.run(
            ["xdotool", *args], env=self.env, capture_output=True, text=True, timeout=20
        )
        if check and out.returncode != 0:
            raise AssertionError(f"xdotool {args}: {out.stderr}")
        return out.stdout.strip()

    def key(self, *keys: str, pause: float = 0.25) -> None:
        for k in keys:
            self.xdo("key", "--clearmodifiers", k)
            time.sleep(pause)

    def root_window(self) -> str:
        out = subprocess.run(
            ["xwininfo", "-root"], env=self.env, capture_output=True, text=True, timeout=20
        ).stdout
        return str(int(out.split("Window id:")[1].split()[0], 16))

    def type(self, text: str) -> None:
        if text.isascii():
            self.xdo("type", "--delay", "25", text)
        else:
            # xdotool maps each non-ASCII character to a spare key code first; one at a time,
            # with a moment for the client to see the new keyboard map, nothing is lost (the
            # first remapping after ASCII typing takes longest: a fresh CI machine once lost
            # the first character with a shorter pause, and once more on 2026-12-04). So the
            # first character is sent to the root window first (a sent event, which nothing
            # takes as typing): the app loads the new keyboard map before the real key comes.
            self.xdo("type", "--window", self.root_window(), "--delay", "60", text[0])
            for i, ch in enumerate(text):
                time.sleep(0.6 if i == 0 else 0.2)
                self.xdo("type", "--delay", "60", ch)
        time.sleep(0.2)

    def active_title(self) -> str:
        return self.xdo("getactivewindow", "getwindowname", check=False)

    def wait_title(self, part: str, timeout: float = 20) -> str:
        self._wait(lambda: part in self.active_title(), timeout, f"a window titled {part!r}")
        time.sleep(0.3)
        return self.active_title()

    def active_frame(self) -> tuple[int, int, int, int]:
        """x, y, width, height of the active window with its title bar (the window manager's
        frame), from xwininfo."""
        wid = self.xdo("getactivewindow")
        out = subprocess.run(
            ["xwininfo", "-id", wid, "-frame"], env=self.env, capture_output=True, text=True
        ).stdout
        vals = {}
        for line in out.splitlines():
            line = line.strip()
            for k in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height"):
                if line.startswith(k + ":"):
                    vals[k] = int(line.split(":")[1])
        frame = subprocess.run(
            ["xprop", "-id", wid, "_NET_FRAME_EXTENTS"],
            env=self.env,
            capture_output=True,
            text=True,
        ).stdout
        left = right = top = bottom = 0
        if "=" in frame:
            left, right, top, bottom = (int(v) for v in frame.split("=")[1].split(","))
        return (
            vals["Absolute upper-left X"] - left,
            vals["Absolute upper-left Y"] - top,
            vals["Width"] + left + right,
            vals["Height"] + top + bottom,
        )

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        subprocess.run(
            ["import", "-window", "root", str(path)], env=self.env, check=True, timeout=30
        )
        return path

    def _wait(self, cond, timeout: float, what: str) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if cond():
                return
            if self.app is not None and self.app.poll() is not None:
                raise AssertionError(
                    f"the desk exited while waiting for {what}:\n"
                    + self.app_log.read_text(errors="replace")[-3000:]
                )
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; active: {self.active_title()!r}")


@pytest.fixture
def screen(tmp_path):
    s = Screen(tmp_path)
    yield s
    s.close()
