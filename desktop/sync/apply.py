"""Applying what a pull brings, inside the transaction that stores its cursor: the rows
(mirror and local tables, :mod:`desktop.store.syncstate`), tax-bureau confirmations of our
payments and county year-to-date figures (handed to the services through
:class:`~desktop.sync.hooks.SyncHooks`)."""

from __future__ import annotations

import json
from typing import Protocol

from core import syncproto as sp
from core.errors import ValidationError
from core.ids import mask_id
from desktop.store import Store, syncruns
from desktop.store import syncstate as st
from desktop.store.journal import now_iso
from desktop.sync.hooks import SyncHooks

# A page with this many rows for the local tables forgets every campaign tally at once (its
# rows then skip the tally triggers; the home page counts every village again, ~0.3 s for
# 50,000 residents); a smaller page — an everyday sync — lets the triggers take out only
# the villages it touches (~45 µs a row), so the home page stays quick after it.
FORGET_TALLIES_AT = 200


class Counts(Protocol):
    applied: int


def apply_page(store: Store, db, changes: list[sp.Change], counts: Counts, hooks: SyncHooks):
    """Apply one page inside the caller's transaction (the one that stores its cursor).
    Confirmations go through the contribution service so the payment, its enrollment and
    the audit log move together."""
    confirmations = []
    ytd = []
    if sum(ch.entity in st.PROJECTED_TABLES for ch in changes) >= FORGET_TALLIES_AT:
        st.forget_tallies(db)
    pending = st.any_pending(db)  # nothing applying a page does adds a local change
    now = now_iso()  # the page's rows arrived together: one reading of the clock
    for ch in changes:
        if st.apply_change(db, ch, pending=pending, now=now):
            counts.applied += 1
            d = ch.data or {}
            if ch.entity == sp.E_YTD and ch.op == "upsert" and d:
                ytd.append(d)
            if ch.entity == sp.E_PAYMENT and ch.op == "upsert" and d.get("tax_confirmed"):
                confirmations.append(
                    {
                        "payment_id": ch.id,
                        "confirmed_at": d.get("tax_confirmed_at"),
                        "ref": d.get("tax_voucher_no") or "",
                        "version": ch.version,
                    }
                )
    if confirmations and hooks.apply_confirmations is not None:
        hooks.apply_confirmations(store, confirmations)
    for d in ytd:
        apply_ytd(store, db, d, hooks)


def apply_ytd(store: Store, db, data: dict, hooks: SyncHooks) -> bool:
    """County year-to-date figures → the estimator (audited), inside the page's
    transaction. A person not here yet keeps the row in the mirror;
    :func:`apply_waiting_ytd` hands it over once the person arrives. A row the estimator
    refuses goes to the inbox."""
    pid = st.local_person_id(db, str(data.get("person_id") or ""))
    if pid is None or hooks.set_county_ytd is None:
        return False
    try:
        hooks.set_county_ytd(
            store,
            pid,
            int(data["year"]),
            dict(data.get("figures") or {}),
            data.get("as_of"),
        )
    except (ValidationError, KeyError, TypeError, ValueError) as e:
        errs = getattr(e, "errors", None) or {"": str(e)}
        st.add_inbox(
            db,
            id=f"ytd:{data.get('person_id')}:{data.get('year')}:{data.get('as_of')}",
            kind="ytd_error",
            severity="error",
            entity=sp.E_PERSON,
            entity_id=pid,
            title="县医保局下发的本年累计报销数无法使用：" + "；".join(errs.values()),
            action="测算时请按居民所述填写本年已报销情况，并联系县医保局核对该数据。",
            detail={"ytd": data},
        )
    return True


def apply_waiting_ytd(store: Store, db, hooks: SyncHooks) -> int:
    """County figures whose person was not here when they arrived (or whose as-of time
    the estimator does not hold yet): apply them now."""
    done = 0
    for text in syncruns.ytd_rows_not_held(db.conn, sp.E_YTD):
        data = json.loads(text)
        pid = st.local_person_id(db, str(data.get("person_id") or ""))
        if pid is None:
            continue
        held = syncruns.ytd_held(db.conn, pid, int(data.get("year") or 0), data.get("as_of"))
        if not held and apply_ytd(store, db, data, hooks):
            done += 1
    return done


def describe(db, row: dict) -> str:
    """A short, privacy-aware description of an op's subject: 张三（1401**********1234）."""
    try:
        payload = json.loads(row["payload"])
    except ValueError:
        payload = {}
    name, cert = payload.get("name"), payload.get("cert_no")
    pid = payload.get("person_id")
    if not name and pid:
        found = syncruns.person_name_and_cert(db.conn, st.canonical_person_id(db, pid))
        if found:
            name, cert = found
    if name:
        return f"{name}（{mask_id(cert)}）" if cert else name
    year = payload.get("year")
    return f"{year}年度" if year else ""
