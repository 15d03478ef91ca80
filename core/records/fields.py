"""How a record's fields are declared: each with its Chinese label, its role and whether it
travels to the county (the sync protocol's field lists derive from ``wire``)."""

from __future__ import annotations

from dataclasses import MISSING, field, fields
from typing import Any

# roles of a field
CLERK = "clerk"  # set by the clerk at the window (validated by a service)
DERIVED = "derived"  # computed from other fields (pinyin keys, terms from the policy)
BOOK = "book"  # bookkeeping: ids, times, versions, origin


def _f(label: str, role: str, *, wire: bool = False, default: Any = MISSING) -> Any:
    meta = {"label": label, "role": role, "wire": wire}
    if default is MISSING:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def _names(cls: type, *, role: str | None = None, wire: bool | None = None) -> tuple[str, ...]:
    return tuple(
        f.name
        for f in fields(cls)
        if (role is None or f.metadata["role"] == role)
        and (wire is None or f.metadata["wire"] == wire)
    )


def labels(cls: type) -> dict[str, str]:
    """The Chinese label of every field of a record class."""
    return {f.name: f.metadata["label"] for f in fields(cls)}
