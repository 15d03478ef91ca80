"""Cost bands and category lists shared by the reimbursement sections (basic fund, 大病,
医疗救助): contiguous bands with ratios, and the check that a category sits in one table."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.categories import expand_categories
from core.policy import PolicyError, Reader

ONE = Decimal(1)


@dataclass(frozen=True)
class Band:
    """One cost band: amounts in [lo, hi) are paid at ``ratio`` (hi None = no upper end)."""

    lo: Decimal
    hi: Decimal | None
    ratio: Decimal
    source: str


def _check_no_overlap(r: Reader, k: str, lists: list[tuple[str, ...]]) -> None:
    """A category may appear in one terms table only (else which applies is ambiguous)."""
    seen: dict[str, int] = {}
    for i, names in enumerate(lists):
        for c in expand_categories(names):
            if c in seen:
                raise PolicyError(
                    r.file, f"{r.key(k)}[{i}].categories", f"category {c!r} also in [{seen[c]}]"
                )
            seen[c] = i


def _bands(r: Reader, k: str, *, start: Decimal, what: str) -> tuple[Band, ...]:
    """Contiguous bands starting at ``start``: no overlap, no gap; only the last may be open."""
    items = r.tables(k)
    if not items:
        raise r.error(k, f"at least one {what} is needed")
    bands: list[Band] = []
    expect = start
    for i, b in enumerate(items):
        lo = b.money("from")
        hi = b.money("to", None)
        has_ratio, has_share = b.has("ratio"), b.has("personal_share")
        if has_ratio == has_share:
            raise b.error("ratio", "give exactly one of ratio or personal_share")
        ratio = b.ratio("ratio") if has_ratio else ONE - b.ratio("personal_share")
        src = b.str("source", "")
        b.done()
        if lo != expect:
            problem = (
                "overlaps the previous band"
                if lo < expect
                else "leaves a gap after the previous band"
            )
            if i == 0:
                problem = f"the first {what} must start at {expect}"
            raise b.error("from", f"{lo}: {problem} (expected {expect})")
        if hi is not None and hi <= lo:
            raise b.error("to", f"{hi} must be above from ({lo})")
        if hi is None and i != len(items) - 1:
            raise b.error("to", "only the last band may leave 'to' out")
        bands.append(Band(lo, hi, ratio, src))
        expect = hi if hi is not None else expect
    return tuple(bands)


def _first_terms(terms: tuple[Any, ...], category: str) -> Any:
    """The first terms table whose categories include ``category`` (None: no terms)."""
    for t in terms:
        if t.matches(category):
            return t
    return None
