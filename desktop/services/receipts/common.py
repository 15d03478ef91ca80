"""What the receipt services share: document kinds, labels, the print failure."""

from __future__ import annotations

from core import receipt as core

KINDS = tuple(core.KINDS)
# The key itself is in the OS credential store (``receipt-key:<folder id>:<key id>``); the
# settings hold only ids. KEY_MAC_KEY is where versions before 2026-12 kept the hex: it is
# moved to the credential store and removed at first use.
KEY_MAC_KEY = "receipt.mac_key"
KEY_MAC_KEY_ID = "receipt.mac_key_id"
KEY_MAC_RETIRED = "receipt.mac_keys_retired"  # earlier key ids, still verified
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
