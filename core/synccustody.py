"""Wire messages of key custody (issue 14): the data folder's key escrowed with the county,
and the one-time recovery that hands it to a replacement PC. Part of the wire contract
(endpoints in :mod:`core.syncproto`: ``EP_ESCROW``, ``EP_RECOVER``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.syncproto import ReceiptKey, ServicePointInfo


@dataclass(frozen=True)
class EscrowRequest:
    """The data folder's key, kept (sealed) by the county for a replacement PC."""

    folder_id: str  # 32 hex: names the key (desk.id)
    store_key: str  # 64 hex

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RecoverRequest:
    code: str  # one-time recovery code issued by the county for the old PC
    device_name: str = ""
    app_version: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RecoverResponse:
    """The old PC's device (with a new credential: the old one is dead) and its key."""

    device_id: str
    credential: str
    service_point: ServicePointInfo
    folder_id: str
    store_key: str
    receipt_key: ReceiptKey | None = None

    @classmethod
    def from_dict(cls, d: dict) -> RecoverResponse:
        return cls(
            d["device_id"],
            d["credential"],
            ServicePointInfo.from_dict(d["service_point"]),
            str(d["folder_id"]),
            str(d["store_key"]),
            ReceiptKey.from_dict(d.get("receipt_key")),
        )

    def as_dict(self) -> dict:
        return asdict(self)
