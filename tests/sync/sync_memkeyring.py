"""An in-memory keyring backend for tests (never keyrings.alt)."""

from __future__ import annotations

import keyring
import keyring.backend
import keyring.errors


class MemoryKeyring(keyring.backend.KeyringBackend):
    """Secrets in a dict; store keys (``store-key:…``) also go to the session's keyring
    file, so that a child process opening the same data folder finds its key."""

    priority = 1

    def __init__(self, through: keyring.backend.KeyringBackend | None = None) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.through = through

    def get_password(self, service: str, username: str) -> str | None:
        found = self.items.get((service, username))
        if found is None and self.through is not None and username.startswith("store-key:"):
            found = self.through.get_password(service, username)
        return found

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password
        if self.through is not None and username.startswith("store-key:"):
            self.through.set_password(service, username, password)

    def delete_password(self, service: str, username: str) -> None:
        found = self.items.pop((service, username), None) is not None
        if self.through is not None and username.startswith("store-key:"):
            try:
                self.through.delete_password(service, username)
                found = True
            except keyring.errors.PasswordDeleteError:
                pass
        if not found:
            raise keyring.errors.PasswordDeleteError(username)


def install(preset: dict[str, str] | None = None, service: str = "township-desk") -> MemoryKeyring:
    kr = MemoryKeyring(through=keyring.get_keyring())
    for name, secret in (preset or {}).items():
        kr.set_password(service, name, secret)
    keyring.set_keyring(kr)
    return kr
