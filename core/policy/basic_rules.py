"""Rules inside a basic-fund section (``[inpatient]``, ``[chronic]`` …) beyond levels and
bands: repeat admissions, care outside the pooling area, claim-free reductions and the ratio
raised by continuous enrollment. Each table carries its ``source``; SCHEMA.md documents them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.policy import Reader


@dataclass(frozen=True)
class AdmissionRule:
    """From the ``from_admission``-th admission in a year the deductible is the level's
    × ``factor``, or the level's less ``reduce`` yuan (再次住院起付线降低若干元), or a stated
    ``amount`` (a schedule by admission: 800 / 600 / 400 / 0); ``floor``: never below."""

    from_admission: int
    factor: Decimal | None
    source: str
    reduce: Decimal | None = None
    amount: Decimal | None = None
    floor: Decimal | None = None


def _admission_rule(a, n: int, levels: dict, before: list[AdmissionRule]) -> AdmissionRule:
    """One ``[[<section>.admission_deductible]]`` row: exactly one of factor, reduce,
    amount; a reduction no larger than any level's deductible; a schedule that never rises;
    a floor no higher than the deductible it bounds."""
    given = [k for k in ("factor", "reduce", "amount") if a.has(k)]
    if len(given) != 1:
        raise a.error("factor", "give exactly one of factor, reduce, amount")
    factor = a.ratio("factor") if "factor" in given else None
    reduce = a.money("reduce") if "reduce" in given else None
    amount = a.money("amount") if "amount" in given else None
    floor = a.money("floor", None)
    smallest = min((lv.deductible for lv in levels.values() if not lv.is_fixed), default=None)
    if reduce is not None and smallest is not None and reduce > smallest:
        raise a.error("reduce", f"{reduce} is larger than the deductible ({smallest})")
    if amount is not None:
        earlier = [r.amount for r in before if r.amount is not None]
        if earlier and amount > earlier[-1]:
            raise a.error("amount", f"{amount}: a schedule must not rise (after {earlier[-1]})")
    if floor is not None:
        if amount is not None:
            raise a.error("floor", "a floor goes with factor or reduce, not with amount")
        if smallest is not None and floor > smallest:
            raise a.error("floor", f"{floor} is above the deductible ({smallest})")
    return AdmissionRule(n, factor, a.source(), reduce, amount, floor)


OUT_OF_AREA = {"filed": "已备案", "unfiled": "未备案", "emergency": "急诊抢救"}


@dataclass(frozen=True)
class OutOfArea:
    """Care outside the pooling area (异地就医 / 转外就医) by 备案 status: the ratio lowered by
    ``ratio_cut`` percentage points (never below ``min_ratio``), and/or a ``self_pay_first``
    share of the in-policy amount the person pays first (先行自付) — counted as in-policy
    burden for 大病 and 救助 unless ``first_in_burden`` is false."""

    status: str  # filed | unfiled | emergency
    ratio_cut: Decimal
    self_pay_first: Decimal
    min_ratio: Decimal | None
    source: str
    first_in_burden: bool = True


def _out_of_area(r) -> tuple[OutOfArea, ...]:
    if not r.has("out_of_area"):
        r.raw("out_of_area", None)
        return ()
    out: list[OutOfArea] = []
    for o in r.tables("out_of_area"):
        status = o.str("status")
        if status not in OUT_OF_AREA:
            raise o.error("status", f"{status!r} is not a 备案 status ({', '.join(OUT_OF_AREA)})")
        if any(x.status == status for x in out):
            raise o.error("status", f"{status} is given twice")
        cut = o.ratio("ratio_cut", Decimal(0))
        first = o.ratio("self_pay_first", Decimal(0))
        floor = o.ratio("min_ratio", None)
        if floor is not None and not cut:
            raise o.error("min_ratio", "a minimum ratio goes with ratio_cut")
        counts = o.bool("self_pay_first_in_burden", True)
        if o.has("self_pay_first_in_burden") and not first:
            raise o.error("self_pay_first_in_burden", "goes with self_pay_first")
        out.append(OutOfArea(status, cut, first, floor, o.source(), counts))
        o.done()
    return tuple(out)


@dataclass(frozen=True)
class ClaimFree:
    """After ``years`` consecutive claim-free years the deductible falls by ``reduce``."""

    years: int
    reduce: Decimal
    source: str


@dataclass(frozen=True)
class Continuous:
    """The basic fund's ratio by continuous enrollment (每连续参保满N年提高X个百分点，累计不超过Y):
    ``ratio_add`` points for every ``every_years`` full years beyond ``from_years``, at most
    ``max_add``; lowered by ``break_cut`` points in the first ``break_cut_years`` years after a
    break (断保后再参保)."""

    every_years: int
    ratio_add: Decimal
    max_add: Decimal
    from_years: int
    break_cut: Decimal
    break_cut_years: int
    source: str

    def shift(self, years: int, after_break: bool) -> tuple[Decimal, Decimal]:
        """(points added for ``years`` continuous years, points cut for a recent break)."""
        steps = max(0, years - self.from_years) // self.every_years
        add = min(self.max_add, self.ratio_add * steps)
        cut = self.break_cut if after_break and years <= self.break_cut_years else Decimal(0)
        return add, cut


def parse_continuous(r: Reader) -> Continuous | None:
    """``[<section>.continuous]``: a raise needs every_years, ratio_add and max_add (no lower
    than one step); a cut for a break is optional."""
    if not r.has("continuous"):
        r.raw("continuous", None)
        return None
    c = r.table("continuous")
    every = c.int("every_years", min=1, max=50)
    add = c.ratio("ratio_add")
    most = c.ratio("max_add")
    if most < add:
        raise c.error("max_add", f"{most} is below one step ({add})")
    start = c.int("from_years", 0, min=0, max=50)
    cut = c.ratio("break_cut", Decimal(0))
    cut_years = c.int("break_cut_years", 1, min=1, max=50)
    if c.has("break_cut_years") and not cut:
        raise c.error("break_cut_years", "goes with break_cut")
    out = Continuous(every, add, most, start, cut, cut_years, c.source())
    c.done()
    return out
