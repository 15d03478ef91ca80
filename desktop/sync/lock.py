"""One sync worker at a time per data folder: an OS file lock on ``sync.lock``
(:mod:`desktop.store.folderlock`; released by the OS when the process dies)."""

from __future__ import annotations

from pathlib import Path

from desktop.store.folderlock import FolderLock, LockBusy

LOCK_NAME = "sync.lock"

__all__ = ["LOCK_NAME", "LockBusy", "SyncLock"]


class SyncLock(FolderLock):
    def __init__(self, data_dir: str | Path):
        super().__init__(data_dir, LOCK_NAME)
