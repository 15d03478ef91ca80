"""Conflicts and tasks the county tells a service point (the ``notice`` entity of the sync
protocol, :mod:`core.syncproto`), and the rule that decides a double enrollment."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Notice:
    """A conflict or task told to a service point (entity ``notice``, stream ``notices``)."""

    id: str
    kind: str  # N_*
    title: str  # Chinese, one line
    message: str  # Chinese: what happened and what to do
    status: str = "open"  # open | resolved
    conflict_id: str | None = None
    person_id: str | None = None
    year: int | None = None
    entity_ids: list[str] = field(default_factory=list)
    created_at: str = ""

    @classmethod
    def from_dict(cls, d: dict) -> Notice:
        return cls(
            d["id"],
            d["kind"],
            d["title"],
            d["message"],
            d.get("status", "open"),
            d.get("conflict_id"),
            d.get("person_id"),
            d.get("year"),
            list(d.get("entity_ids") or []),
            d.get("created_at", ""),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def winner_key(
    *, tax_confirmed: bool, paid_with_receipt: bool, at_home_service_point: bool, arrival: int
) -> tuple:
    """Sort key for the double-enrollment winner rule (sync design): the *smallest* key
    wins — a tax-confirmed payment first, then a recorded payment with a receipt, then
    the person's home service point, then the earlier arrival at the county (a server
    sequence, never a PC clock)."""
    return (not tax_confirmed, not paid_with_receipt, not at_home_service_point, arrival)
