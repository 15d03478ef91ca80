"""Demo payments dated relative to today (township-desk --demo)."""

from __future__ import annotations

import datetime as dt

from core.errors import ValidationError
from desktop.services.context import Actor
from desktop.services.contribution.common import quote
from desktop.services.contribution.payments import record_payment
from desktop.store import Store
from desktop.store import demo as demo_store

# (name, 参保年度 relative to this year, payment date, channel): last year's and this year's
# contributions paid in their campaigns; this autumn's campaign for next year partly
# collected (others left for the clerk to collect on the demo's day).
_DEMO_PAYMENTS = [
    ("张三", -1, "-2-10-10", "cash"),
    ("王秀兰", -1, "-2-10-10", "cash"),
    ("张小明", -1, "-2-10-10", "cash"),
    ("李建国", -1, "-2-11-05", "qr"),
    ("刘桂英", -1, "-2-11-05", "qr"),
    ("王强", -1, "-1-03-15", "bank"),
    ("陈静", -1, "-1-03-15", "bank"),
    ("单志刚", -1, "-2-12-02", "cash"),
    ("郑浩", -1, "-2-09-20", "qr"),
    ("张三", 0, "-1-10-10", "cash"),
    ("王秀兰", 0, "-1-10-10", "cash"),
    ("张小明", 0, "-1-10-10", "cash"),
    ("李建国", 0, "-1-11-05", "qr"),
    ("刘桂英", 0, "-1-11-05", "qr"),
    ("王强", 0, "-1-11-20", "bank"),
    ("郑浩", 0, "-1-09-20", "qr"),
    ("李建国", 1, "0-09-15", "qr"),
    ("刘桂英", 1, "0-09-15", "qr"),
    ("郑浩", 1, "0-10-08", "cash"),
]


def _demo_date(today: dt.date, spec: str) -> str:
    """``"-1-10-10"`` → 10 October of last year (relative to ``today``)."""
    offset, month, day = spec.rsplit("-", 2)
    return dt.date(today.year + int(offset), int(month), int(day)).isoformat()


def seed_demo_payments(store: Store, actor: Actor) -> None:
    """Demo collections through :func:`record_payment` (audited and queued like real ones),
    each at the amount the policy asks; skipped for anyone without a covering policy."""
    today = dt.date.today()
    for name, year_offset, when, channel in _DEMO_PAYMENTS:
        year, paid_on = today.year + year_offset, _demo_date(today, when)
        person = demo_store.person_named(store, name)
        if person is None or dt.date.fromisoformat(paid_on) > today:
            continue
        try:
            q = quote(store, person["id"], year, paid_on, today=today)
            record_payment(
                store,
                actor,
                {
                    "person_id": person["id"],
                    "year": year,
                    "amount": q["amount_due"],
                    "channel": channel,
                    "paid_on": paid_on,
                },
                today=dt.date.fromisoformat(paid_on),  # collected that day
            )
        except ValidationError:
            continue
