"""One window per data folder (the desk's GUI): an OS file lock on ``window.lock``, held
while the window is open and released by the operating system when the program ends —
also by a power cut. The GUI takes it at start (a second start brings the open window
forward instead); commands that must not run under an open window (restoring a backup)
ask whether one is open."""

from __future__ import annotations

from pathlib import Path

from desktop.store.folderlock import FolderLock, LockBusy

WINDOW_LOCK = "window.lock"


def take_window(data_dir: str | Path) -> FolderLock | None:
    """The folder's window lock, held until ``release()`` or the end of the process; None
    when a window is open on the folder already."""
    lock = FolderLock(data_dir, WINDOW_LOCK)
    try:
        lock.acquire()
    except LockBusy:
        return None
    return lock


def window_open(data_dir: str | Path) -> bool:
    """Whether the desk's window is open on ``data_dir`` (in this or another program)."""
    if not (Path(data_dir) / WINDOW_LOCK).exists():
        return False
    lock = take_window(data_dir)
    if lock is None:
        return True
    lock.release()
    return False
