"""Secrets the county must keep readable — the service points' receipt keys and the store
keys desks escrow for a replacement PC — sealed at rest with AES-256-GCM (``cryptography``)
under a key derived from the server's ``data_key`` setting (or, when unset, its
``signing_key``). A copy of the database alone reads none of them."""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "sealed1:"
_AAD = b"township-county sealed secret"
_key: bytes | None = None


class SealError(RuntimeError):
    """A sealed value this server cannot open (another data key)."""


def derive(secret: str) -> bytes:
    return hashlib.sha256(b"township-county sealing v1\0" + secret.encode("utf-8")).digest()


def configure(secret: str) -> None:
    """Use ``secret`` (the data key, else the signing key) for this process."""
    global _key
    _key = derive(secret)


def _current() -> bytes:
    if _key is not None:
        return _key
    secret = os.environ.get("TOWNSHIP_COUNTY_DATA_KEY") or os.environ.get(
        "TOWNSHIP_COUNTY_SIGNING_KEY"
    )
    if not secret:
        raise SealError("未设置 data_key 或 signing_key，无法读写加密保存的密钥")
    return derive(secret)


def seal(plain: str) -> str:
    nonce = os.urandom(12)
    blob = AESGCM(_current()).encrypt(nonce, plain.encode("utf-8"), _AAD)
    return PREFIX + base64.b64encode(nonce + blob).decode("ascii")


def is_sealed(text: str | None) -> bool:
    return bool(text) and text.startswith(PREFIX)


def unseal(text: str) -> str:
    """The plain value (a legacy plain value is returned as it is)."""
    if not is_sealed(text):
        return text
    raw = base64.b64decode(text[len(PREFIX) :])
    try:
        return AESGCM(_current()).decrypt(raw[:12], raw[12:], _AAD).decode("utf-8")
    except InvalidTag as e:
        raise SealError("加密保存的密钥无法解开：data_key / signing_key 与保存时不同") from e
