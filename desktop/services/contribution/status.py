"""Status per 参保年度 for the 缴费查询 page, and the banner about the county's data."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from core.categories import INSURED_CATEGORIES
from core.contribution import (
    PHASE_LABELS,
    compute,
)
from core.contribution.starts import in_newborn_window
from core.ids import mask_cert
from core.records.contributions import Enrollment
from desktop.services import policies
from desktop.services.contribution.common import (
    CHANNELS,
    DEFAULT_STALE_HOURS,
    NATIONAL_REGION,
    STATUS_LABELS,
    _data_dir,
    _enrollments,
    _insured_years,
    _live_payments,
    _newborn_facts,
    _person,
    _person_year,
    policy_for,
)
from desktop.store import Store, payments


def _status_row(
    store: Store,
    person: dict,
    year: int,
    pay: dict | None,
    enr: dict | None,
    insured: set[int],
    today: dt.date,
    ps: policies.PolicySet | None = None,
) -> dict:
    pol = policy_for(store, person["region_code"], year, ps)
    row: dict[str, Any] = {
        "year": year,
        "policy_id": pol.id if pol else None,
        "status": "unpaid",
        "status_label": STATUS_LABELS["unpaid"],
        "amount": None,
        "amount_due": None,
        "channel": None,
        "channel_label": "",
        "paid_on": None,
        "receipt_no": None,
        "payment_id": None,
        "benefits_from": None,
        "benefits_to": None,
        "waiting_unit": None,
        "waiting": None,
        "waiting_until": None,
        "in_waiting": False,
        "continuous_years": None,
        "incentive_raise": None,
        "subsidized_by": None,
        "note": "",
    }
    if pay is not None:
        _paid_row(row, pay, enr)
    elif enr is not None and enr.get("county_confirmed_at"):
        row.update(status="confirmed", status_label=STATUS_LABELS["confirmed"])
        row.update(
            {k: enr.get(k) for k in ("benefits_from", "benefits_to", "waiting_unit", "waiting")}
        )
    elif pol is None:
        row.update(status="no_policy", status_label=STATUS_LABELS["no_policy"])
        row["note"] = f"{year}参保年度缴费标准未发布（无政策文件）"
        return row
    else:
        _unpaid_row(store, row, pol, person, year, insured, today)
    if row["benefits_from"]:
        bf = dt.date.fromisoformat(row["benefits_from"])
        if row["waiting"]:
            row["waiting_until"] = (bf - dt.timedelta(days=1)).isoformat()
            row["in_waiting"] = today < bf
        if row["benefits_to"] and bf > dt.date.fromisoformat(row["benefits_to"]):
            row["note"] = "等待期结束已超出本参保年度，本年度不享受待遇"
    return row


def _paid_row(row: dict, pay: dict, enr: dict | None) -> None:
    """A year with a live payment: how it was paid and the terms recorded with it."""
    row.update(
        status=pay["status"],
        status_label=STATUS_LABELS[pay["status"]],
        amount=pay["amount"],
        amount_due=pay["amount_due"],
        channel=pay["channel"],
        channel_label=CHANNELS.get(pay["channel"], pay["channel"]),
        paid_on=pay["paid_on"],
        receipt_no=pay["receipt_no"],
        payment_id=pay["id"],
    )
    if enr is not None:
        row.update(
            benefits_from=enr["benefits_from"],
            benefits_to=enr["benefits_to"],
            waiting_unit=enr["waiting_unit"],
            waiting=enr["waiting"],
            continuous_years=enr["continuous_years"],
            incentive_raise=enr["incentive_raise"],
            subsidized_by=enr["subsidized_by"],
        )
        terms = json.loads(enr.get("terms_json") or "{}")
        if terms.get("words"):  # the terms in a resident's words (次月1日起 …, 限额降低 …)
            row["note"] = "；".join(terms["words"])


def _unpaid_row(
    store: Store, row: dict, pol, person: dict, year: int, insured: set[int], today: dt.date
) -> None:
    """A year without payment under a published standard: subsidized in full, or what
    paying today would cost."""
    terms = pol.section("contribution")
    sub = terms.subsidy_for(person["insured_category"])
    pay_day = min(max(today, terms.period.start), dt.date(year, 12, 31))
    facts = _newborn_facts(store, person, year)
    before = {y for y in insured if y < year}
    res = compute(terms, _person_year(person, year, pay_day, before, facts=facts), pol.id)
    row["amount_due"] = str(res.amount_due)
    born = _person_year(person, year, today, set()).born_on
    newborn = in_newborn_window(terms, today, person["insured_category"], born)
    if year < today.year and newborn and res.subsidy_kind != "free":
        # born in that year and still inside the newborn window: the window takes it today
        row["newborn_window"] = True
        res = compute(terms, _person_year(person, year, today, before, facts=facts), pol.id)
        row["amount_due"] = str(res.amount_due)
        row["note"] = f"新生儿出生年度，出生后{terms.newborn.window_days}日内可缴费"
        return
    if res.words:
        row["note"] = "；".join(res.words)
    if res.subsidy_kind == "free":
        row.update(
            status="subsidized",
            status_label=STATUS_LABELS["subsidized"],
            subsidized_by=res.subsidized_by,
            benefits_from=res.benefits_from.isoformat(),
            benefits_to=res.benefits_to.isoformat(),
        )
        row["note"] = res.reasons["amount_due"].rule
    elif sub is not None and sub.kind == "full":
        row.update(
            status="subsidized",
            status_label=STATUS_LABELS["subsidized"],
            subsidized_by=sub.department,
            benefits_from=res.benefits_from.isoformat(),
            benefits_to=res.benefits_to.isoformat(),
            continuous_years=res.continuous_years,
            incentive_raise=str(res.incentive_raise),
        )
        row["note"] = f"个人缴费由{sub.department}全额代缴"
    elif today > dt.date(year, 12, 31):
        row["note"] = "参保年度已结束，该年度未缴费"
    else:
        row["note"] = f"如今天缴费应缴 {res.amount_due} 元（{PHASE_LABELS[res.phase]}）"


def status_years(
    store: Store, person_id: str, *, today: dt.date | None = None, span: int = 5
) -> dict:
    """Each 参保年度 of one person, newest first: status (unpaid / local = paid awaiting
    county confirmation / confirmed / subsidized / no_policy), amount, channel, benefit
    period, waiting, continuous years and incentive. Years shown: those with a payment or
    enrollment, the current and the coming year, and the years a policy covers (at most
    ``span`` of the newest)."""
    today = today or dt.date.today()
    with store.read():
        person = _person(store, person_id)
        pays = _live_payments(store, person_id)
        enrs = _enrollments(store, person_id)
        insured = _insured_years(pays, {y: Enrollment.from_row(e) for y, e in enrs.items()})
        ps = policies.load(_data_dir(store))
        region = person["region_code"]
        pol_years = {
            p.year
            for p in ps.policies.values()
            if p.has("contribution")
            and p.region in (region, region[:4] + "00", region[:2] + "0000", NATIONAL_REGION)
        }
        years = sorted(set(pays) | set(enrs) | {today.year, today.year + 1} | pol_years)
        years = sorted(years, reverse=True)[:span]
        rows = [
            _status_row(store, person, y, pays.get(y), enrs.get(y), insured, today, ps)
            for y in years
        ]
        voided = payments.ended(store, person_id)
    return {
        "person": {
            "id": person["id"],
            "name": person["name"],
            "cert_no": person["cert_no"],
            "cert_masked": mask_cert(person["cert_type"], person["cert_no"]),
            "insured_category": person["insured_category"],
            "category_label": INSURED_CATEGORIES.get(
                person["insured_category"], person["insured_category"]
            ),
            "village": person.get("village") or "",
            "household_id": person["household_id"],
            "region_code": region,
        },
        "years": rows,
        "voided": voided,
    }


# ------------------------------------------------------------------ campaign


def sync_banner(store: Store, *, now: dt.datetime | None = None) -> str | None:
    """ "县级数据截至 <time>" when the last sync (settings ``last_sync_at``) is older than
    ``sync_stale_hours`` (default 24), or a never-synced notice; None when fresh."""
    now = now or dt.datetime.now().astimezone()
    last = store.setting("last_sync_at")
    try:
        hours = int(store.setting("sync_stale_hours") or DEFAULT_STALE_HOURS)
    except ValueError:
        hours = DEFAULT_STALE_HOURS
    if not last:
        return "尚未与县医保局同步：县级确认的缴费尚未到达，本机显示的是本地记录"
    try:
        at = dt.datetime.fromisoformat(last)
    except ValueError:
        return f"县级数据截至 {last}（时间无法识别，请同步一次）"
    if at.tzinfo is None:
        at = at.astimezone()
    if now - at > dt.timedelta(hours=hours):
        return f"县级数据截至 {at.strftime('%Y-%m-%d %H:%M')}，之后的县级确认尚未同步"
    return None


# ------------------------------------------------------------------ demo


# (name, 参保年度, paid_on, channel): demo collections of the 2025 campaign under
# national-2025 (the 周/黄/杨 households and 孙玉梅, fully subsidized, stay unpaid/subsidized).
