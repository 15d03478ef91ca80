"""The receipt key is a secret: it lives in the OS credential store, never in the store's
settings (a copied store file or backup must not let anyone forge verification codes)."""

from __future__ import annotations

import json
from decimal import Decimal

import keyring

from core import receipt as core
from desktop.services import receipts
from desktop.store import cipher


def _settings_text(store) -> str:
    return json.dumps(store.query("SELECT key, value FROM settings"), ensure_ascii=False)


def test_a_new_key_is_made_in_the_credential_store_not_the_settings(store, admin, data_dir):
    key_id, key = receipts.mac_key(store)
    folder = cipher.folder_id(data_dir, create=False)
    assert keyring.get_password("township-desk", f"receipt-key:{folder}:{key_id}") == key.hex()
    assert key.hex() not in _settings_text(store)
    assert store.setting("receipt.mac_key") is None


def test_a_key_left_in_the_settings_by_an_older_version_is_moved_and_still_verifies(
    store, admin, data_dir
):
    old, older = "ab" * 32, "cd" * 32
    for k, v in (
        ("receipt.mac_key", old),
        ("receipt.mac_key_id", "C-SP01"),
        ("receipt.mac_keys_retired", json.dumps({"L-SP01-01": older})),
    ):
        store.set_setting(k, v)
    codes = [
        core.verification_payload(
            key, kid, receipt_no="SP01-09-00000001", amount=Decimal("380"), date="2026-12-01"
        )
        for kid, key in (("C-SP01", bytes.fromhex(old)), ("L-SP01-01", bytes.fromhex(older)))
    ]
    for code in codes:
        assert receipts.verify(store, code)["ok"], receipts.verify(store, code)
    text = _settings_text(store)
    assert old not in text and older not in text
    assert json.loads(store.setting("receipt.mac_keys_retired")) == ["L-SP01-01"]
    assert receipts.mac_key(store) == ("C-SP01", bytes.fromhex(old))
    folder = cipher.folder_id(data_dir, create=False)
    assert keyring.get_password("township-desk", f"receipt-key:{folder}:L-SP01-01") == older
