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
from desktop.store import Store

# --------------------------------------------------------------------------- demo


def _demo_payments(store: Store, actor: Actor) -> list[str]:
    """Make sure the demo clerk's collection day shows every channel and one void, recording
    what is missing through the contribution service (the demo residents' payments may
    already exist from the contribution seeder). Returns the receipts of that day."""
    from desktop.services import contribution

    year = 2025  # the year of the shipped national policy file; paid in its collection period
    row = store.query_one(
        "SELECT paid_on, COUNT(*) AS n FROM payment WHERE operator_id = ? AND year = ?"
        " GROUP BY paid_on ORDER BY n DESC, paid_on LIMIT 1",
        (actor.operator_id, year),
    )
    day = row["paid_on"] if row else "2024-11-15"

    def of_day() -> list[dict]:
        return store.query(
            "SELECT id, receipt_no, channel, status FROM payment WHERE operator_id = ?"
            " AND paid_on = ? ORDER BY receipt_no",
            (actor.operator_id, day),
        )

    def unpaid() -> list[str]:
        return [
            r["id"]
            for r in store.query(
                "SELECT p.id FROM person p WHERE NOT EXISTS (SELECT 1 FROM payment pay"
                " WHERE pay.person_id = p.id AND pay.year = ? AND pay.status IN"
                " ('local','confirmed')) ORDER BY p.created_at, p.rowid",
                (year,),
            )
        ]

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
    sup = store.query_one(
        "SELECT id, username, display_name FROM operator WHERE role = 'supervisor'"
        " AND active = 1 ORDER BY created_at LIMIT 1"
    )
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

    row = store.query_one("SELECT id FROM estimate ORDER BY created_at LIMIT 1")
    if row:
        return row["id"]
    person = store.query_one("SELECT id FROM person WHERE name = '李建国'") or store.query_one(
        "SELECT id FROM person ORDER BY created_at LIMIT 1"
    )
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

    live = store.query(
        "SELECT receipt_no FROM payment WHERE status IN ('local','confirmed')"
        f" AND receipt_no IN ({','.join('?' * len(receipts))}) ORDER BY receipt_no",
        receipts,
    )
    if not live:
        raise ValidationError({"demo": "没有可用的演示缴费记录，无法生成演示单据"})
    first = live[0]["receipt_no"]
    save("receipt", first, "receipt.pdf", "A5")  # the half-page layout
    save("receipt", first, "receipt-reprint.pdf", "A5")
    pay = store.query_one(
        "SELECT enrollment_id, operator_id, paid_on FROM payment WHERE receipt_no = ?", (first,)
    )
    if pay and pay["enrollment_id"]:
        save("certificate", pay["enrollment_id"], "certificate.pdf")
    est_id = _demo_estimate(store, actor)
    if est_id:
        save("estimate", est_id, "estimate.pdf")
    if pay:
        save("day_sheet", day_sheet_key(pay["operator_id"], pay["paid_on"]), "day-sheet.pdf")
    return written
