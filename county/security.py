"""Registration codes, device credentials and short-lived signed tokens (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from core.regcodes import CODE_ALPHABET, CODE_LENGTH
from core.regcodes import normalize_code as normalize_code  # the county's one spelling

CREDENTIAL_PREFIX = "tdc1"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_registration_code() -> str:
    return normalize_code("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)))


def new_credential(device_id: str) -> tuple[str, str]:
    """(credential for the device, sha256 of its secret for the county)."""
    secret = secrets.token_urlsafe(32)
    return f"{CREDENTIAL_PREFIX}.{device_id}.{secret}", sha256_hex(secret)


def split_credential(credential: str) -> tuple[str, str] | None:
    parts = (credential or "").split(".")
    if len(parts) != 3 or parts[0] != CREDENTIAL_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Signs small JSON claims: ``<b64 claims>.<b64 hmac>``; purpose-separated keys."""

    def __init__(self, key: str, purpose: str):
        self._key = hmac.new(key.encode("utf-8"), purpose.encode("utf-8"), "sha256").digest()

    def sign(self, claims: dict) -> str:
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        mac = hmac.new(self._key, body.encode("ascii"), "sha256").digest()
        return f"{body}.{_b64(mac)}"

    def verify(self, token: str) -> dict | None:
        """The claims, or None when the token is malformed or its signature wrong."""
        if not isinstance(token, str) or token.count(".") != 1 or len(token) > 4096:
            return None
        body, mac = token.split(".")
        try:
            expected = hmac.new(self._key, body.encode("ascii"), "sha256").digest()
            if not hmac.compare_digest(expected, _unb64(mac)):
                return None
            claims = json.loads(_unb64(body))
        except (ValueError, UnicodeError):
            return None
        return claims if isinstance(claims, dict) else None


@dataclass(frozen=True)
class DeviceToken:
    device_id: str
    sp_id: str
    operator_id: str
    expires: int
