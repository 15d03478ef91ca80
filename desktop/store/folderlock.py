"""One holder at a time of something per data folder: an OS file lock on a file in the
folder (``sync.lock``: one sync worker; ``window.lock``: one window on the store).

The lock belongs to an open file, so it is released by the operating system when the
process dies (a killed sync, or a power cut, never leaves a stale lock behind)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


class LockBusy(Exception):
    pass


class FolderLock:
    def __init__(self, data_dir: str | Path, name: str):
        self.path = Path(data_dir) / name
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
                import msvcrt  # platform-specific

                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                import fcntl  # platform-specific

                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            os.close(fd)
            raise LockBusy(str(self.path)) from e
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if sys.platform == "win32":  # pragma: no cover
                import msvcrt  # platform-specific

                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            else:
                import fcntl  # platform-specific

                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
