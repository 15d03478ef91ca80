"""Small pieces the layers share: money text, percentage bands, sources, caps."""

from __future__ import annotations

from decimal import Decimal

from core.estimate.records import ONE
from core.money import ZERO
from core.policy.benefits import (
    Band,
)

# ---------------------------------------------------------------- helpers


def _m(v: Decimal) -> str:
    return f"{v:.2f}"


def _pct(r: Decimal) -> str:
    s = f"{(r * 100).normalize():f}"
    return f"{s}%"


def _overlap(lo: Decimal, hi: Decimal | None, a: Decimal, b: Decimal) -> Decimal:
    """Length of [lo, hi) ∩ [a, b)."""
    top = b if hi is None else min(hi, b)
    bottom = max(lo, a)
    return top - bottom if top > bottom else ZERO


def _rate(
    band: Band,
    ratio_add: Decimal,
    fixed: Decimal | None,
    cut: Decimal = ZERO,
    floor: Decimal | None = None,
    shift: Decimal = ZERO,
) -> Decimal:
    r = fixed if fixed is not None else min(ONE, band.ratio + ratio_add)
    if shift:
        r = min(ONE, max(ZERO, r + shift))
    if cut:
        r = max(r - cut, floor if floor is not None else ZERO)
    return r


def _band_sum(
    bands: tuple[Band, ...],
    a: Decimal,
    b: Decimal,
    ratio_add: Decimal,
    fixed: Decimal | None = None,
    cut: Decimal = ZERO,
    floor: Decimal | None = None,
    shift: Decimal = ZERO,
) -> tuple[Decimal, list[tuple[Band, Decimal, Decimal]]]:
    """Σ over bands of (part of [a, b) in the band) × (ratio + ratio_add, at most 100%; or
    the category's fixed ratio; then ``shift`` points up or down within 0–100%, and the
    out-of-area ``cut`` down to its ``floor``)."""
    total = ZERO
    parts = []
    for band in bands:
        amt = _overlap(band.lo, band.hi, a, b)
        if amt > 0:
            r = _rate(band, ratio_add, fixed, cut, floor, shift)
            total += amt * r
            parts.append((band, amt, r))
    return total, parts


def _src(*candidates: str) -> str:
    for c in candidates:
        if c:
            return c
    return ""


def _band_text(parts: list[tuple[Band, Decimal, Decimal]]) -> str:
    return "；".join(
        f"{_m(amt)} × {_pct(r)}"
        + (
            ""
            if band.lo == 0 and band.hi is None
            else f"（{_m(band.lo)}–{_m(band.hi) if band.hi is not None else '以上'}段）"
        )
        for band, amt, r in parts
    )


def _cap_left(cap: Decimal, used: Decimal) -> Decimal:
    return max(ZERO, cap - used)
