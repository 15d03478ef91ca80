"""Erasing a disabled desk's data files (remote disable, issue 14).

The marker ``desk.wiped`` (plain text, no personal data) is written first; then the keys
leave the credential store (the services do that: without them every file below is
unreadable), then the files go. A power cut at any point leaves the marker, and the next
start finishes the job before anything opens the store."""

from __future__ import annotations

import contextlib
import os
import shutil
from datetime import datetime
from pathlib import Path

MARKER = "desk.wiped"
_FILES = ("desk.sqlite3", "desk.sqlite3-wal", "desk.sqlite3-shm", "desk.sqlite3.encrypting")
_FOLDERS = ("backups", "set-aside")

WIPED = (
    "本机已被县医保局停用（{reason}）。本机未上传的数据已在停用前上传到县里，"
    "本机保存的参保人信息已于 {at} 清除。如需继续使用这台电脑，请联系县医保局重新注册。"
)


def mark(folder: str | Path, reason: str) -> None:
    path = Path(folder) / MARKER
    text = f"{datetime.now():%Y-%m-%d %H:%M}\n{reason}\n"
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def marked(folder: str | Path) -> str | None:
    """The clerk's message when this folder's data were erased, else None."""
    try:
        at, reason = ([*Path(folder, MARKER).read_text(encoding="utf-8").splitlines(), "", ""])[:2]
    except FileNotFoundError:
        return None
    return WIPED.format(reason=reason or "停用", at=at)


def _overwrite(path: Path) -> None:
    """Zeros over the file before it is removed (a quick undelete finds nothing readable;
    the content was encrypted anyway)."""
    with contextlib.suppress(OSError):
        size = path.stat().st_size
        with open(path, "r+b") as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(0, size, len(chunk)):
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())


def remove_data_files(folder: str | Path) -> list[str]:
    """Remove the store, its copies and its key id; the marker and the logs stay."""
    folder = Path(folder)
    removed = []
    for name in (*_FILES, "desk.id"):
        p = folder / name
        if p.exists():
            _overwrite(p)
            p.unlink()
            removed.append(name)
    return removed + remove_copies(folder)


def remove_copies(folder: str | Path) -> list[str]:
    """Remove the backups and the copies kept aside (the store itself may still be open)."""
    folder = Path(folder)
    removed = []
    for name in _FOLDERS:
        d = folder / name
        if d.is_dir():
            for f in d.rglob("*"):
                if f.is_file():
                    _overwrite(f)
            shutil.rmtree(d, ignore_errors=True)
            removed.append(name + "/")
    return removed
