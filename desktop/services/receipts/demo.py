"""Demo documents (township-desk --demo --documents DIR)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

from core.errors import ValidationError
from desktop.services import estimate as est
from desktop.services.context import Actor
from desktop.services.receipts.common import LIVE
from desktop.services.receipts.documents import prepare, save_pdf
from desktop.services.receipts.facts import _data_dir, day_sheet_key
from desktop.store import Store, payments
from desktop.store import demo as demo_store

# --------------------------------------------------------------------------- demo


def _demo_payments(store: Store, actor: Actor) -> list[str]:
    """Make sure the demo clerk's collection day shows every channel and one void, recording
    what is missing through the contribution service (the demo residents' payments may
    already exist from the contribution seeder). Returns the receipts of that day."""
    from desktop.services import contribution  # deferred: demo only

    year = 2025  # the year of the shipped national policy file; paid in its collection period
    day = demo_store.busiest_day(store, actor.operator_id, year) or "2024-11-15"

    def of_day() -> list[dict]:
        return demo_store.payments_of_day(store, actor.operator_id, day)

    def unpaid() -> list[str]:
        return demo_store.unpaid_person_ids(store, year)

    def collect(channel: str) -> str | None:
        for pid in unpaid():
            try:
                q = contribution.quote(store, pid, year, day)
                if Decimal(q["amount_due"]) <= 0:
                    continue
                r = contribution.record_payment(
                    store,
                    actor,
                    {
                        "person_id": pid,
                        "year": year,
                        "amount": q["amount_due"],
                        "channel": channel,
                        "paid_on": day,
                    },
                    today=dt.date.fromisoformat(day),  # collected at the window that day
                )
            except ValidationError:
                continue
            return r["payment"]["id"]
        return None

    have = {r["channel"] for r in of_day() if r["status"] in LIVE}
    for channel in ("cash", "qr", "bank"):
        if channel not in have:
            collect(channel)
    sup = demo_store.first_supervisor(store)
    if sup is not None and not any(r["status"] not in LIVE for r in of_day()):
        pid = collect("qr")
        if pid is not None:  # one demo void, allowed by the demo supervisor
            supervisor = Actor(
                sup["id"],
                sup["username"],
                sup["display_name"],
                "supervisor",
                actor.service_point_id,
            )
            contribution.void_payment(
                store, actor, pid, reason="演示：收费后发现重复登记", supervisor=supervisor
            )
    return [r["receipt_no"] for r in of_day() if r["receipt_no"]]


def _demo_estimate(store: Store, actor: Actor) -> str | None:

    row = demo_store.first_estimate(store)
    if row:
        return row["id"]
    person = demo_store.person_named(store, "李建国") or demo_store.first_person(store)
    given = {
        "setting": "inpatient",
        "price_class": "class3",
        "admission_no": 1,
        "total": "12000.00",
        "in_policy": "10000.00",
        "basic_paid_ytd": "0.00",
    }
    try:
        saved = est.save(
            store,
            actor,
            policy_id="shanxi-2025",
            given=given,
            person_id=person["id"] if person else None,
            anon_label="" if person else "演示",
            year=2025,
            data_dir=_data_dir(store),
        )
    except ValidationError:
        return None
    return saved["id"]


def write_demo_documents(store: Store, actor: Actor, out_dir: str | Path) -> list[Path]:
    """One PDF of each kind from demo data (``township-desk --demo --documents DIR``): a
    receipt, a reprint of it (补打), an enrollment certificate, an estimate sheet and the
    day sheet of the demo payments. Demo payments and an estimate are recorded through
    the ordinary services when the store has none. Saved copies are recorded as such."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    receipts = _demo_payments(store, actor)
    if not receipts:
        raise ValidationError({"demo": "没有可用的演示缴费记录，无法生成演示单据"})
    written: list[Path] = []

    def save(kind: str, key: str, name: str, page: str | None = None) -> None:
        p = prepare(store, actor, kind, key, page=page)
        written.append(save_pdf(store, actor, p, out / name))

    live = demo_store.live_receipts(store, receipts)
    if not live:
        raise ValidationError({"demo": "没有可用的演示缴费记录，无法生成演示单据"})
    first = live[0]
    save("receipt", first, "receipt.pdf", "A5")  # the half-page layout
    save("receipt", first, "receipt-reprint.pdf", "A5")
    pay = payments.by_receipt_no(store, first)
    if pay and pay["enrollment_id"]:
        save("certificate", pay["enrollment_id"], "certificate.pdf")
    est_id = _demo_estimate(store, actor)
    if est_id:
        save("estimate", est_id, "estimate.pdf")
    if pay:
        save("day_sheet", day_sheet_key(pay["operator_id"], pay["paid_on"]), "day-sheet.pdf")
    return written
