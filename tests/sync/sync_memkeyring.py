"""An in-memory keyring backend for tests (never keyrings.alt)."""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.items[(service, username)]
        except KeyError:
            raise keyring.errors.PasswordDeleteError(username) from None


def install(preset: dict[str, str] | None = None, service: str = "township-desk") -> MemoryKeyring:
    kr = MemoryKeyring()
    for name, secret in (preset or {}).items():
        kr.set_password(service, name, secret)
    keyring.set_keyring(kr)
    return kr
