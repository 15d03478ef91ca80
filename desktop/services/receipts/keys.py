"""The service point's receipt key (verification codes): issued by the county, or made here.

The key is a secret: whoever holds it can forge verification codes. It lives in the OS
credential store under ``receipt-key:<data folder id>:<key id>``; the store's settings hold
only the id of the key in use and the ids of earlier keys (still verified here). A key left
in the settings by an older version is moved to the credential store at first use."""

from __future__ import annotations

import hashlib
import json
import secrets

from core.errors import ValidationError
from desktop.secrets import CredentialStore
from desktop.services.context import Actor
from desktop.services.receipts.common import KEY_MAC_KEY, KEY_MAC_KEY_ID, KEY_MAC_RETIRED
from desktop.store import Store, cipher
from desktop.store import settings as settings_store
from desktop.store.journal import append_audit, canonical_json
from desktop.store.numbering import current_scope

# --------------------------------------------------------------------------- keys


def _name(store: Store, key_id: str) -> str:
    folder = cipher.folder_id(store.path.parent, create=True) if store.path else "memory"
    return f"receipt-key:{folder}:{key_id}"


def _secret(store: Store, key_id: str) -> bytes | None:
    text = CredentialStore().get(_name(store, key_id))
    return bytes.fromhex(text) if text else None


def _keep(store: Store, key_id: str, key: bytes) -> None:
    CredentialStore().set(_name(store, key_id), key.hex())


def _move_legacy(store: Store) -> None:
    """Hex keys kept in the settings by an older version → the credential store."""
    legacy_hex, key_id = store.setting(KEY_MAC_KEY), store.setting(KEY_MAC_KEY_ID)
    raw = store.setting(KEY_MAC_RETIRED) or ""
    retired = _parse_retired(raw)
    old_map = isinstance(_loads(raw), dict)
    if not legacy_hex and not old_map:
        return
    if legacy_hex and key_id:
        _keep(store, key_id, bytes.fromhex(legacy_hex))
    if old_map:
        for rid, hex_ in _loads(raw).items():
            _keep(store, rid, bytes.fromhex(hex_))
    with store.write() as db:
        settings_store.put(db.conn, KEY_MAC_RETIRED, canonical_json(sorted(retired)))
        settings_store.delete(db.conn, KEY_MAC_KEY)


def mac_key(store: Store, *, operator_id: str | None = None) -> tuple[str, bytes]:
    """(key id, key) used for receipt verification codes. A key issued by the county is set
    with :func:`set_mac_key`; without one, a random key is made on first use (its id is the
    service point scope, e.g. ``L-SP01-01``) — the county needs a copy of it to check this
    desk's receipts."""
    _move_legacy(store)
    key_id = store.setting(KEY_MAC_KEY_ID)
    key = _secret(store, key_id) if key_id else None
    if key_id and key:
        return key_id, key
    with store.write() as db:
        key_id = f"L-{current_scope(store)}"
        key = secrets.token_bytes(32)
        _keep(store, key_id, key)
        settings_store.put(db.conn, KEY_MAC_KEY_ID, key_id)
        append_audit(
            db,
            operator_id=operator_id,
            action="receipt.mac_key_create",
            entity="settings",
            entity_id=KEY_MAC_KEY_ID,
            detail={"key_id": key_id, "fingerprint": _fingerprint(key)},
        )
    return key_id, key


def verification_keys(store: Store) -> dict[str, bytes]:
    """Every key this desk checks codes with: earlier ones and the one in use."""
    _move_legacy(store)
    ids = [*_retired_keys(store), store.setting(KEY_MAC_KEY_ID)]
    found = {}
    for key_id in ids:
        key = _secret(store, key_id) if key_id else None
        if key:
            found[key_id] = key
    return found


def credential_names(store: Store) -> list[str]:
    """The credential-store names of every receipt key of this desk (for an erase)."""
    ids = [*_retired_keys(store), store.setting(KEY_MAC_KEY_ID)]
    return [_name(store, key_id) for key_id in ids if key_id]


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
    _move_legacy(store)
    key_id = (key_id or "").strip()
    if store.setting(KEY_MAC_KEY_ID) == key_id and key_id:
        current = _secret(store, key_id)
        if current is not None and current.hex() == (key_hex or "").strip().lower():
            return False
    _install_key(store, key_id, key_hex, operator_id=operator_id, action="receipt.mac_key_county")
    return True


def _loads(raw: str):
    try:
        return json.loads(raw or "[]")
    except (ValueError, TypeError):
        return []


def _parse_retired(raw: str) -> list[str]:
    value = _loads(raw)
    return [str(k) for k in (value.keys() if isinstance(value, dict) else value)]


def _retired_keys(store: Store) -> list[str]:
    return _parse_retired(store.setting(KEY_MAC_RETIRED) or "")


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
    _move_legacy(store)
    _keep(store, key_id, key)
    with store.write() as db:
        # the key in use until now still checks the receipts it signed (here, not elsewhere)
        retired = set(_retired_keys(store))
        old_id = store.setting(KEY_MAC_KEY_ID)
        if old_id and old_id != key_id:
            retired.add(old_id)
        retired.discard(key_id)
        settings_store.put(db.conn, KEY_MAC_KEY_ID, key_id)
        settings_store.put(db.conn, KEY_MAC_RETIRED, canonical_json(sorted(retired)))
        append_audit(
            db,
            operator_id=operator_id,
            action=action,
            entity="settings",
            entity_id=KEY_MAC_KEY_ID,
            detail={"key_id": key_id, "fingerprint": _fingerprint(key), "replaced": old_id},
        )
