"""The keyed verification code (MAC) printed on a receipt as a QR code, and its check."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal

from core.money import yuan
from core.receipt.model import MAC_BYTES, PAYLOAD_PREFIX

# --------------------------------------------------------------------------- MAC


def mac_message(receipt_no: str, amount: Decimal, date: str, key_id: str) -> str:
    return f"{PAYLOAD_PREFIX}|{receipt_no}|{yuan(amount).replace(',', '')}|{date}|{key_id}"


def compute_mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def verification_payload(
    key: bytes, key_id: str, *, receipt_no: str, amount: Decimal, date: str
) -> str:
    msg = mac_message(receipt_no, amount, date, key_id)
    return f"{msg}|{compute_mac(key, msg)}"


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str  # Chinese, for the clerk or county staff
    receipt_no: str = ""
    amount: Decimal | None = None
    date: str = ""
    key_id: str = ""


def parse_payload(code: str) -> tuple[str, Decimal, str, str, str] | None:
    """(receipt_no, amount, date, key_id, mac) or None when the text is not a TDR1 code."""
    parts = (code or "").strip().split("|")
    if len(parts) != 6 or parts[0] != PAYLOAD_PREFIX:
        return None
    _, receipt_no, amount_s, date, key_id, mac = parts
    try:
        amount = Decimal(amount_s)
        dt.date.fromisoformat(date)
    except (ArithmeticError, ValueError):
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return receipt_no, amount, date, key_id, mac.upper()


def verify_payload(code: str, keys: dict[str, bytes]) -> Verification:
    """Check a verification code against the keys a verifier holds ({key id: key})."""
    parsed = parse_payload(code)
    if parsed is None:
        return Verification(False, "不是有效的收据校验码（格式不符），请核对后重新输入")
    receipt_no, amount, date, key_id, mac = parsed
    key = keys.get(key_id)
    if key is None:
        return Verification(
            False,
            f"没有密钥“{key_id}”，无法核验此收据（可能不是本县开具的收据）",
            receipt_no,
            amount,
            date,
            key_id,
        )
    expected = compute_mac(key, mac_message(receipt_no, amount, date, key_id))
    if not hmac.compare_digest(expected, mac):
        return Verification(
            False,
            "校验失败：收据号、金额或日期与校验码不符，此收据可能被涂改或伪造",
            receipt_no,
            amount,
            date,
            key_id,
        )
    return Verification(
        True,
        f"校验通过：收据号 {receipt_no}，金额 {yuan(amount)} 元，缴费日期 {date}",
        receipt_no,
        amount,
        date,
        key_id,
    )
