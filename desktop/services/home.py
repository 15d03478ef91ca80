"""The desk's home page (首页): today's work, what waits, and the campaign of the open
参保年度 by village against last year and the county's target — every figure a link to the
list behind it (the campaign list, the day sheet, the sync page).

The campaign figures are the campaign list's (``desktop.store.dashboard``): a village's
未缴 is the number of names its 征缴名单 shows for the year.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from core.money import ZERO
from core.policy import Policy
from desktop.services import policies
from desktop.services.contribution.common import CHANNELS, NATIONAL_REGION, policy_for
from desktop.store import Store, dashboard, places, syncruns
from desktop.store.journal import pending_count


def _data_dir(store: Store) -> Path | None:
    return store.path.parent if store.path is not None else None


def _region(store: Store) -> str:
    sp = places.service_point(store) or {}
    return sp.get("region_code") or NATIONAL_REGION


def section_for(store: Store, region: str, year: int, name: str) -> Policy | None:
    """The policy carrying section ``name`` for the region and year (a regional one before
    the national default); None when none does."""
    ps = policies.load(_data_dir(store))
    found = [p for p in ps.for_region_year(region, year) if p.has(name)]
    if not found:
        found = [
            p
            for p in sorted(ps.policies.values(), key=lambda p: p.id)
            if p.region == NATIONAL_REGION and p.year == int(year) and p.has(name)
        ]
    return found[0] if found else None


def open_year(store: Store, today: dt.date) -> int:
    """The 参保年度 being collected: next year's while its collection period (from the
    policy) has begun, else this year's while its period lasts, else next year's from
    September (when most campaigns open) and this year's before."""
    region = _region(store)
    for y in (today.year + 1, today.year):
        pol = policy_for(store, region, y)
        if pol is not None:
            period = pol.section("contribution").period
            end = getattr(period, "extension_end", None) or period.end
            if period.start <= today <= end:
                return y
    return today.year + 1 if today.month >= 9 else today.year


def rate(covered: int, registered: int) -> Decimal | None:
    """参保率 in percent, one decimal, half-up; None for a village with nobody."""
    if not registered:
        return None
    return (Decimal(100) * covered / registered).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _full_subsidy(pol: Policy | None) -> frozenset[str]:
    if pol is None:
        return frozenset()
    return frozenset().union(
        *(s.members for s in pol.section("contribution").subsidized if s.kind == "full")
    )


def campaign(store: Store, year: int, as_of: dt.date | None = None) -> dict:
    """Villages' campaign figures for ``year`` beside last year's rate, the totals and the
    target (None when no policy sets one for the year); ``as_of``: as they stood that day."""
    region = _region(store)
    pol, before = policy_for(store, region, year), policy_for(store, region, year - 1)
    now, then = _full_subsidy(pol), _full_subsidy(before)
    if as_of is None:  # today's figures: from the counts kept up to date at every write
        dashboard.refresh_campaign_tally(store, (year, year - 1))
    with store.read():
        if as_of is None:
            rows = dashboard.tallied_campaign(store, year, now, then)
        else:
            rows = dashboard.village_campaign(store, year, now, then, as_of.isoformat())
        villages = places.villages(store)
    last = [{**r, "paid": r["paid_before"], "subsidized": r["subsidized_before"]} for r in rows]
    last_by = {r["village_id"]: r for r in last}
    seen = {r["village_id"] for r in rows}
    rows += [
        {"village_id": v["id"], "village": v["name"], "registered": 0, "paid": 0, "subsidized": 0}
        for v in villages
        if v["id"] not in seen
    ]
    target_pol = section_for(store, region, year, "campaign")
    target = target_pol.section("campaign") if target_pol else None
    out, total = [], {"registered": 0, "paid": 0, "subsidized": 0}
    for r in sorted(rows, key=lambda r: (r["village_id"] is None, r["village"])):
        row = _village_row(r, last_by.get(r["village_id"]), target)
        out.append(row)
        for k in total:
            total[k] += row[k]
    total["unpaid"] = total["registered"] - total["paid"] - total["subsidized"]
    total["rate"] = rate(total["paid"] + total["subsidized"], total["registered"])
    total["last_rate"] = rate(
        sum((r["paid"] or 0) + (r["subsidized"] or 0) for r in last),
        sum(r["registered"] for r in last),
    )
    return {
        "year": year,
        "villages": out,
        "total": total,
        "target": (
            {"percent": target.percent, "cite": target.source} if target is not None else None
        ),
        "message": ""
        if pol
        else f"{year}参保年度缴费标准未发布（无政策文件），资助参保人数暂不能区分",
    }


def _village_row(r: dict, before: dict | None, target) -> dict:
    paid, sub = int(r["paid"] or 0), int(r["subsidized"] or 0)
    row = {
        "village_id": r["village_id"],
        "village": r["village"],
        "registered": int(r["registered"]),
        "paid": paid,
        "subsidized": sub,
        "unpaid": int(r["registered"]) - paid - sub,
        "rate": rate(paid + sub, int(r["registered"])),
        "last_rate": (
            rate(int(before["paid"] or 0) + int(before["subsidized"] or 0), before["registered"])
            if before
            else None
        ),
    }
    row["behind"] = bool(
        target is not None and row["rate"] is not None and row["rate"] < target.percent
    )
    return row


def money_sum(amounts: str | None) -> Decimal:
    return sum((Decimal(a) for a in (amounts or "").split()), ZERO)


def payments_by_day(
    store: Store, start: dt.date, end: dt.date, year: int | None = None
) -> list[dict]:
    """Live payments per day and method in [start, end] (of the 参保年度 ``year`` only, when
    given): day, channel (Chinese), n, total."""
    return [
        {
            "day": r["day"],
            "channel": CHANNELS.get(r["channel"], r["channel"]),
            "n": int(r["n"]),
            "total": money_sum(r["amounts"]),
        }
        for r in dashboard.payments_by_day(store, start.isoformat(), end.isoformat(), year)
    ]


def campaign_period(store: Store, year: int, today: dt.date) -> tuple[dt.date, dt.date]:
    """The year's collection period as far as today (the payments chart's days); without a
    policy, September of the year before to today."""
    pol = policy_for(store, _region(store), year)
    if pol is None:
        return dt.date(year - 1, 9, 1), today
    period = pol.section("contribution").period
    end = getattr(period, "extension_end", None) or period.end
    return period.start, max(period.start, min(end, today))


def today_work(store: Store, today: dt.date) -> dict:
    day = today.isoformat()
    with store.read():
        pays = dashboard.payments_by_day(store, day, day)
        est = dashboard.estimates_on(store, day, day)
        pending = pending_count(store)
        inbox = syncruns.open_inbox_count(store)
    return {
        "payments": sum(int(r["n"]) for r in pays),
        "payments_total": sum((money_sum(r["amounts"]) for r in pays), ZERO),
        "estimates": int(est["n"]),
        "settled": int(est["settled"]),
        "pending": pending,
        "inbox": inbox,
        "last_sync_at": store.setting("last_sync_at"),
    }


def campaign_days(store: Store, year: int, today: dt.date) -> list[dict]:
    """Payments per day and method of the 参保年度 ``year`` in its campaign so far (the
    home page's chart)."""
    start, end = campaign_period(store, year, today)
    return payments_by_day(store, start, end, year)


def summary(
    store: Store, *, today: dt.date | None = None, year: int | None = None, days: bool = True
) -> dict:
    """Everything the home page shows. ``days=False``: without the chart's payments per day
    (the page fetches them after its figures show: ``campaign_days``)."""
    today = today or dt.date.today()
    y = year or open_year(store, today)
    from desktop.services import alerts  # deferred: alerts imports this module

    return {
        "today": today,
        "work": today_work(store, today),
        "campaign": campaign(store, y),
        "days": campaign_days(store, y, today) if days else None,
        "alerts": alerts.status(store, today.year),
    }
