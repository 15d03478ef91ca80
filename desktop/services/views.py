"""查询留痕 — who looked at whom: opening a person's record, printing, exporting a list is
written with operator and time into the hash-chained audit log (nothing is sent to the
county); a supervisor lists it by person or by operator."""

from __future__ import annotations

from typing import Any

from desktop.services.context import Actor
from desktop.store import Store, operators, persons
from desktop.store import views as store_views

ACTION_LABELS = {"person.view": "查看参保人信息", "list.export": "导出名单", "print": "打印单据"}


def open_household(store: Store, actor: Actor, household_id: str) -> dict | None:
    """The household for the 参保登记 page, its opening logged (one entry per member)."""
    from desktop.services.registration import (
        get_household,
    )  # deferred: registration imports policies and pinyin; views is imported early

    hh = get_household(store, household_id)
    if hh is not None:
        opened_household(store, actor, hh)
    return hh


def opened_household(store: Store, actor: Actor, household: dict) -> None:
    """The 参保登记 page opened a household: one view entry per member shown in full."""
    with store.write() as db:
        for m in household.get("members") or []:
            store_views.record(
                db,
                operator_id=actor.operator_id,
                action="person.view",
                entity="person",
                entity_id=m["id"],
                extra={"page": "参保登记"},
            )


def opened_person(store: Store, actor: Actor, person_id: str, *, page: str) -> None:
    """A page opened one person's data (缴费查询: payments; 报销测算: the year's figures)."""
    with store.write() as db:
        store_views.record(
            db,
            operator_id=actor.operator_id,
            action="person.view",
            entity="person",
            entity_id=person_id,
            extra={"page": page},
        )


def exported_list(store: Store, actor: Actor, *, what: str, rows: int, path: str) -> None:
    """A list of residents left the desk as a file."""
    with store.write() as db:
        store_views.record(
            db,
            operator_id=actor.operator_id,
            action="list.export",
            entity="list",
            entity_id=None,
            extra={"what": what, "rows": rows, "file": str(path).rsplit("/", 1)[-1]},
        )


def listing(
    store: Store, actor: Actor, *, person: str | None = None, operator: str | None = None
) -> list[dict[str, Any]]:
    """Views, prints and exports (newest first) for a supervisor, by person (id or ID
    number) and/or operator (user name)."""
    actor.require_supervisor("查看查询留痕")
    person_id = None
    if person:
        with store.read():
            found = persons.with_cert_no(store.conn, person.strip().upper(), None)
        person_id = found[0]["id"] if found else person.strip()
    operator_id = None
    if operator:
        op = operators.by_username(store, operator.strip())
        operator_id = op["id"] if op else "-"
    rows = store_views.listing(store, person_id=person_id, operator_id=operator_id)
    for r in rows:
        r["label"] = ACTION_LABELS.get(r["action"], r["action"])
    return rows
