"""A keyring backend for developers and the test suite ONLY: secrets in the JSON file that
``TOWNSHIP_DEV_KEYRING`` names, outside any data folder.

Selected with ``PYTHON_KEYRING_BACKEND=township_devkeyring.FileKeyring`` (and this folder on
``PYTHONPATH``) by ``scripts/run`` on a machine without a usable OS keyring, and by the
tests, whose child processes (the app on a real screen, killed writers, sync children)
must find the same keys. It is not part of the desk package and never ships: the Windows
bundle keeps its secrets in Credential Manager.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import keyring.backend
import keyring.errors

try:
    import fcntl
except ImportError:  # Windows: one process at a time is enough for a developer
    fcntl = None


class FileKeyring(keyring.backend.KeyringBackend):
    priority = 0.5

    @property
    def path(self) -> Path:
        return Path(os.environ["TOWNSHIP_DEV_KEYRING"])

    @contextlib.contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a") as lock:
            if fcntl:
                fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _write(self, items: dict) -> None:
        tmp = self.path.with_name(self.path.name + f".{os.getpid()}")
        tmp.write_text(json.dumps(items), encoding="utf-8")
        os.replace(tmp, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        with self._locked():
            return self._read().get(f"{service}\t{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._locked():
            items = self._read()
            items[f"{service}\t{username}"] = password
            self._write(items)

    def delete_password(self, service: str, username: str) -> None:
        with self._locked():
            items = self._read()
            if items.pop(f"{service}\t{username}", None) is None:
                raise keyring.errors.PasswordDeleteError(username)
            self._write(items)
