"""Household life events (家庭变更): a new 户主, a member moving to another household
(marriage, 投靠) or splitting off with a new 户口簿 (分户), two households merged (合户),
leaving the scheme (终止参保: death, employee insurance, moving away, the army, a duplicate
enrollment, other) and coming back (恢复参保), an ID number given later to a person
registered with another certificate (补登身份证号), a wrongly entered ID number corrected
(更正身份证号, supervisor only).

Every event is planned first — :func:`preview` returns the effect in words the clerk reads
before confirming (who moves, the new relations, what happens to payments) and writes
nothing — then :func:`apply` plans it again inside the write lock and records it in one
transaction: the changed rows with their audit entries and outbox ops
(``person.update``, ``household.create`` / ``household.update``), the event itself
(append-only) and, for an exit, a refund task for each payment of a later year. A mistake is
undone by another event, never by deleting.

An event is a dict: ``{"kind": …}`` plus the fields of its kind (see :data:`FIELDS`). Bad
input raises ``ValidationError`` with a Chinese message per field; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.errors import ValidationError
from core.ids import mask_id
from desktop.services.context import Actor
from desktop.services.household_events.common import (  # noqa: F401 (the service's API)
    EXIT_REASONS,
    FIELDS,
    KINDS,
    Effect,
    Plan,
)
from desktop.services.household_events.membership import (
    _plan_change_head,
    _plan_merge,
    _plan_move,
    _plan_split,
)
from desktop.services.household_events.status import (
    _plan_assign_id,
    _plan_correct_id,
    _plan_restore,
    _plan_terminate,
)
from desktop.store import Store, households, persons
from desktop.store import events as event_store
from desktop.store.journal import now_iso

# ---------------------------------------------------------------------------- entry points


def preview(store: Store, actor: Actor, event: dict, *, today: dt.date | None = None) -> Effect:
    """What ``event`` would do, in words; writes nothing."""
    with store.read():
        plan = _plan(store, actor, event, today or dt.date.today())
    return Effect(plan.kind, KINDS[plan.kind], plan.effect)


def apply(store: Store, actor: Actor, event: dict, *, today: dt.date | None = None) -> dict:
    """Record ``event`` in one transaction; returns ``{"event_id", "effect",
    "household_id"}`` (the household to show afterwards)."""
    today = today or dt.date.today()
    with store.write() as db:
        plan = _plan(store, actor, event, today)
        now = now_iso()
        if plan.new_household is not None:
            households.insert(
                db, {**plan.new_household, "created_at": now, "updated_at": now}, actor.operator_id
            )
        for before, changes in plan.person_sets:
            persons.update(
                db,
                before,
                {**changes, "updated_at": now, "version": before["version"] + 1},
                actor.operator_id,
            )
        for before, changes in plan.household_sets:
            households.update(
                db,
                before,
                {**changes, "updated_at": now, "version": before["version"] + 1},
                actor.operator_id,
            )
        eid = event_store.insert_event(
            db,
            kind=plan.kind,
            household_id=plan.household_id,
            from_household_id=plan.from_household_id,
            person_ids=plan.person_ids,
            happened_on=plan.happened_on,
            reason=plan.reason,
            effect=plan.effect,
            operator_id=actor.operator_id,
            at=now,
        )
        if plan.old_cert is not None:
            event_store.add_old_cert(db, *plan.old_cert, now, eid)
        for pay in plan.refunds:
            event_store.add_refund_task(
                db,
                person_id=pay["person_id"],
                payment_id=pay["id"],
                year=pay["year"],
                reason=plan.reason,
                event_id=eid,
                at=now,
            )
    return {"event_id": eid, "effect": plan.effect, "household_id": plan.household_id}


def history(store: Store, household_id: str) -> list[dict]:
    """The events of a household, oldest first (kind label, date, effect, operator)."""
    rows = event_store.of_household(store, household_id)
    for r in rows:
        r["kind_label"] = KINDS.get(r["kind"], r["kind"])
    return rows


def refund_tasks(store: Store) -> list[dict]:
    """Payments of a year after the person left, still to be refunded (退费) by a
    supervisor; the usual refund closes the task."""
    rows = event_store.open_refund_tasks(store)
    for r in rows:
        r["cert_masked"] = mask_id(r["cert_no"])
    return rows


def _plan(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    kind = str(event.get("kind") or "")
    if kind not in KINDS:
        raise ValidationError({"kind": "请选择要办理的家庭变更事项"})
    planner: Callable[..., Plan] = _PLANNERS[kind]
    return planner(store, actor, event, today)


_PLANNERS: dict[str, Callable[..., Plan]] = {
    "change_head": _plan_change_head,
    "move": _plan_move,
    "split": _plan_split,
    "merge": _plan_merge,
    "terminate": _plan_terminate,
    "restore": _plan_restore,
    "assign_id": _plan_assign_id,
    "correct_id": _plan_correct_id,
}
