"""The service point's receipt key (verification codes): issued by the county, or made here."""

from __future__ import annotations

import hashlib
import json
import secrets

from core.errors import ValidationError
from desktop.services.context import Actor
from desktop.services.receipts.common import KEY_MAC_KEY, KEY_MAC_KEY_ID, KEY_MAC_RETIRED
from desktop.store import Store
from desktop.store import settings as settings_store
from desktop.store.journal import append_audit, canonical_json
from desktop.store.numbering import current_scope

# --------------------------------------------------------------------------- keys


def mac_key(store: Store, *, operator_id: str | None = None) -> tuple[str, bytes]:
    """(key id, key) used for receipt verification codes. A key issued by the county is set
    with :func:`set_mac_key`; without one, a random key is made on first use and kept in
    the settings (its id is the service point scope, e.g. ``SP01-01``) — the county needs a
    copy of it to check this desk's receipts."""
    key_hex = store.setting(KEY_MAC_KEY)
    key_id = store.setting(KEY_MAC_KEY_ID)
    if key_hex and key_id:
        return key_id, bytes.fromhex(key_hex)
    with store.write() as db:
        key_hex = store.setting(KEY_MAC_KEY)
        key_id = store.setting(KEY_MAC_KEY_ID)
        if key_hex and key_id:
            return key_id, bytes.fromhex(key_hex)
        key_id = f"L-{current_scope(store)}"
        key_hex = secrets.token_hex(32)
        for k, v in ((KEY_MAC_KEY, key_hex), (KEY_MAC_KEY_ID, key_id)):
            settings_store.put(db.conn, k, v)
        append_audit(
            db,
            operator_id=operator_id,
            action="receipt.mac_key_create",
            entity="settings",
            entity_id=KEY_MAC_KEY_ID,
            detail={"key_id": key_id, "fingerprint": _fingerprint(bytes.fromhex(key_hex))},
        )
    return key_id, bytes.fromhex(key_hex)


def _fingerprint(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:16]


def set_mac_key(store: Store, actor: Actor, key_id: str, key_hex: str) -> None:
    """Install the county's receipt key (supervisor; audited with a fingerprint only)."""
    actor.require_supervisor("设置收据校验密钥")
    _install_key(
        store, key_id, key_hex, operator_id=actor.operator_id, action="receipt.mac_key_set"
    )


def install_county_key(
    store: Store, key_id: str, key_hex: str, *, operator_id: str | None = None
) -> bool:
    """Install the receipt key the county holds for this service point (handed over at
    device registration). Audited with a fingerprint only; receipt numbering is untouched.
    Returns False when that key is already in use."""
    if (
        store.setting(KEY_MAC_KEY_ID) == (key_id or "").strip()
        and store.setting(KEY_MAC_KEY) == (key_hex or "").strip().lower()
    ):
        return False
    _install_key(store, key_id, key_hex, operator_id=operator_id, action="receipt.mac_key_county")
    return True


def _retired_keys(store: Store) -> dict[str, str]:
    try:
        return dict(json.loads(store.setting(KEY_MAC_RETIRED) or "{}"))
    except (ValueError, TypeError):
        return {}


def _install_key(
    store: Store, key_id: str, key_hex: str, *, operator_id: str | None, action: str
) -> None:
    key_id = (key_id or "").strip()
    errors = {}
    if not key_id or "|" in key_id or len(key_id) > 32:
        errors["key_id"] = "密钥编号应为1-32个字符，不能含“|”"
    try:
        key = bytes.fromhex((key_hex or "").strip())
        if len(key) < 16:
            raise ValueError
    except ValueError:
        errors["key"] = "密钥应为至少32位十六进制字符（县医保部门提供）"
        key = b""
    if errors:
        raise ValidationError(errors)
    with store.write() as db:
        # the key in use until now still checks the receipts it signed (here, not elsewhere)
        retired = _retired_keys(store)
        old_hex, old_id = store.setting(KEY_MAC_KEY), store.setting(KEY_MAC_KEY_ID)
        if old_hex and old_id and old_id != key_id:
            retired[old_id] = old_hex
        retired.pop(key_id, None)
        values = (
            (KEY_MAC_KEY, key.hex()),
            (KEY_MAC_KEY_ID, key_id),
            (KEY_MAC_RETIRED, canonical_json(retired)),
        )
        for k, v in values:
            settings_store.put(db.conn, k, v)
        append_audit(
            db,
            operator_id=operator_id,
            action=action,
            entity="settings",
            entity_id=KEY_MAC_KEY_ID,
            detail={"key_id": key_id, "fingerprint": _fingerprint(key), "replaced": old_id},
        )
