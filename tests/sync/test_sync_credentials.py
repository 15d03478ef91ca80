"""The credential store over keyring: round trip, size cap, clear Chinese error without a
backend."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from desktop.services.credentials import (
    WINDOWS_BLOB_LIMIT,
    CredentialError,
    CredentialStore,
    secret_size,
)


@pytest.fixture
def mem(mem_keyring):
    return mem_keyring


def test_round_trip_and_delete(mem):
    cs = CredentialStore()
    assert cs.get("device:x") is None
    cs.set("device:x", "tdc1.x.secret")
    assert cs.get("device:x") == "tdc1.x.secret"
    assert mem.items[("township-desk", "device:x")] == "tdc1.x.secret"
    cs.delete("device:x")
    assert cs.get("device:x") is None
    cs.delete("device:x")  # deleting nothing is fine


def test_windows_size_cap(mem):
    cs = CredentialStore()
    ok = "a" * (WINDOWS_BLOB_LIMIT // 2)
    assert secret_size(ok) == WINDOWS_BLOB_LIMIT
    cs.set("t", ok)
    with pytest.raises(CredentialError, match="超过系统凭据库上限"):
        cs.set("t2", ok + "a")
    assert cs.get("t2") is None


def test_no_backend_is_a_clear_chinese_error():
    old = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        cs = CredentialStore()
        for call in (lambda: cs.get("a"), lambda: cs.set("a", "b"), lambda: cs.delete("a")):
            with pytest.raises(CredentialError, match="系统凭据库"):
                call()
    finally:
        keyring.set_keyring(old)
