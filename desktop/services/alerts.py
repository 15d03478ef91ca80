"""因病返贫 early warning (issue 16, 预警): a person in a category the county's policy watches
(特困, 低保, 返贫致贫, 监测对象, 低保边缘 …) whose personal burden this year reaches the line
the policy sets (``[poverty_warning]``: a share of last year's local per-capita disposable
income) is put on the 预警 list and notified to the county with the next sync.

The burden of a year is the larger of what this desk knows — the personal parts of the
person's settled estimates of the year — and the county's year-to-date figure of the
burden after 基本医保, 大病保险 and 医疗救助 (倾斜救助累计基数), which also holds bills settled
elsewhere; the larger, not the sum, so nothing is counted twice. Checked when an estimate is
marked settled and when the county's figures arrive by sync. No line in the policy file: no
warning, and the home page says the warning is not set up — never an invented line."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from core.categories import INSURED_CATEGORIES
from core.ids import mask_id
from core.money import ZERO
from desktop.services import home
from desktop.store import Store, alerts, places
from desktop.store.journal import new_id, now_iso

if TYPE_CHECKING:  # the store's connection type, for annotations only
    import sqlite_utils

COUNTY_BURDEN = "tilted_base_ytd"  # 倾斜救助累计基数: burden after the three layers
BASIS = {"local": "本机已结算的测算", "county": "县医保局本年累计数"}


def _region(store: Store, person: dict) -> str:
    return person.get("region_code") or places.region_code(store) or "000000"


def config(store: Store, region: str, year: int):
    """The year's ``[poverty_warning]`` for the region (regional before national), or None."""
    pol = home.section_for(store, region, year, "poverty_warning")
    return (pol, pol.section("poverty_warning")) if pol else (None, None)


def burden(db: sqlite_utils.Database, person_id: str, year: int) -> tuple[Decimal, str]:
    local = sum((Decimal(a) for a in alerts.settled_burden(db, person_id, year)), ZERO)
    county = alerts.county_figure(db, person_id, year, COUNTY_BURDEN)
    if county is not None and Decimal(county) > local:
        return Decimal(county), "county"
    return local, "local"


def check(
    store: Store, db: sqlite_utils.Database, person_id: str, year: int, operator_id: str | None
) -> dict | None:
    """Inside the caller's write transaction: raise the warning when due (once per person
    and year). Returns the new warning, or None."""
    person = alerts.person_facts(db, person_id)
    if person is None or person["status"] == 3 or alerts.exists(db, person_id, year):
        return None
    pol, terms = config(store, _region(store, person), year)
    if terms is None or person["insured_category"] not in terms.categories:
        return None
    amount, basis = burden(db, person_id, year)
    if amount < terms.threshold:
        return None
    return alerts.raise_alert(
        db,
        {
            "id": new_id(),
            "person_id": person_id,
            "year": int(year),
            "category": person["insured_category"],
            "burden": f"{amount:.2f}",
            "threshold": f"{terms.threshold:.2f}",
            "basis": BASIS[basis],
            "policy_id": pol.id,
            "operator_id": operator_id,
            "created_at": now_iso(),
        },
        operator_id,
    )


def check_now(store: Store, person_id: str, year: int, operator_id: str | None) -> dict | None:
    with store.write() as db:
        return check(store, db, person_id, year, operator_id)


def listing(store: Store, year: int | None = None) -> list[dict]:
    """The 预警 list: masked ID (the full number shows on the opened record)."""
    out = []
    for r in alerts.listing(store, year):
        out.append(
            {
                "id": r["id"],
                "person_id": r["person_id"],
                "name": r["name"],
                "cert_masked": mask_id(r["cert_no"])
                if r["cert_type"] == "resident_id"
                else r["cert_no"],
                "village": r["village"] or "",
                "category": INSURED_CATEGORIES.get(r["category"], r["category"]),
                "year": r["year"],
                "burden": r["burden"],
                "threshold": r["threshold"],
                "basis": r["basis"],
                "created_at": r["created_at"].replace("T", " ")[:16],
                "sent": "已报县医保局" if r["sent"] in ("applied", "duplicate") else "待上传",
            }
        )
    return out


def status(store: Store, year: int) -> dict:
    """For the home page: how many are listed, and whether the line is set up."""
    region = places.region_code(store) or "000000"
    pol, terms = config(store, region, year)
    return {
        "count": alerts.count(store, year),
        "configured": terms is not None,
        "threshold": f"{terms.threshold:.2f}" if terms else "",
        "cite": terms.source if terms else "",
    }
