"""What the receipt services share: document kinds, labels, the print failure."""

from __future__ import annotations

from core import receipt as core

KINDS = tuple(core.KINDS)
KEY_MAC_KEY = "receipt.mac_key"  # hex; issued by the county, or made here on first use
KEY_MAC_KEY_ID = "receipt.mac_key_id"
KEY_MAC_RETIRED = "receipt.mac_keys_retired"  # {key id: hex}: earlier keys, still verified
CHANNEL_LABELS = {"cash": "现金", "qr": "扫码支付", "bank": "银行代扣/转账"}
PAYMENT_STATUS = {
    "local": "已缴费（待县级确认）",
    "confirmed": "已缴费（县级已确认）",
    "voided": "已作废",
    "refunded": "已退费",
}
LIVE = ("local", "confirmed")
SHEET_PAGE = "A4"  # estimate and day sheets: tables need the width


class PrintFailed(Exception):
    """The printer did not take the job; the message is for the clerk (Chinese)."""
