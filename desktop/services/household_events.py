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
from dataclasses import dataclass, field
from typing import Any

from core.categories import RELATIONS
from core.errors import ValidationError
from core.ids import check_id, mask_id
from core.names import clean_free_text
from desktop.services.context import Actor
from desktop.services.registration_checks import parse_date
from desktop.store import Store, households, payments, persons, places
from desktop.store import events as event_store
from desktop.store.journal import new_id, now_iso

KINDS = {
    "change_head": "户主变更",
    "move": "迁入其他家庭户",
    "split": "分户",
    "merge": "合户",
    "terminate": "终止参保",
    "restore": "恢复参保",
    "assign_id": "补登身份证号",
    "correct_id": "更正身份证号",
}
EXIT_REASONS = {
    "death": "死亡",
    "employee": "参加职工医保",
    "moved_out": "迁出本统筹区",
    "military": "参军",
    "duplicate": "重复参保",
    "other": "其他",
}
# the fields each kind reads (besides "kind")
FIELDS = {
    "change_head": ("household_id", "new_head_id", "old_head_relation", "relations"),
    "move": ("person_id", "to_household_id", "relation", "source_new_head_id"),
    "split": ("person_ids", "head_id", "relations", "address", "village_id", "source_new_head_id"),
    "merge": ("from_household_id", "into_household_id", "relations"),
    "terminate": ("person_id", "exit_reason", "exit_date", "note"),
    "restore": ("person_id", "date", "note"),
    "assign_id": ("person_id", "cert_no"),
    "correct_id": ("person_id", "cert_no", "reason"),
}
REASON_MAX = 200
TERMINATED = 3
ACTIVE = 1


@dataclass
class Plan:
    """What an event will change, worked out without writing."""

    kind: str
    household_id: str | None
    from_household_id: str | None = None
    happened_on: str | None = None
    reason: str = ""
    effect: list[str] = field(default_factory=list)
    person_sets: list[tuple[dict, dict]] = field(default_factory=list)  # (row before, changes)
    household_sets: list[tuple[dict, dict]] = field(default_factory=list)
    new_household: dict | None = None
    old_cert: tuple[str, str, str] | None = None  # (person_id, cert_type, cert_no)
    refunds: list[dict] = field(default_factory=list)  # live payments to refund

    @property
    def person_ids(self) -> list[str]:
        return [before["id"] for before, _ in self.person_sets]


@dataclass(frozen=True)
class Effect:
    kind: str
    title: str
    lines: list[str]


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


# ---------------------------------------------------------------------------- planning


def _plan(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    kind = str(event.get("kind") or "")
    if kind not in KINDS:
        raise ValidationError({"kind": "请选择要办理的家庭变更事项"})
    planner: Callable[..., Plan] = _PLANNERS[kind]
    return planner(store, actor, event, today)


def _person(store: Store, person_id: Any, fld: str = "person_id") -> dict:
    row = persons.row(store.conn, str(person_id or ""))
    if row is None:
        raise ValidationError({fld: "找不到该人员，请重新查找"})
    return row


def _household(store: Store, household_id: Any, fld: str = "household_id") -> dict:
    row = households.row(store.conn, str(household_id or ""))
    if row is None:
        raise ValidationError({fld: "找不到该家庭户，请重新查找"})
    if row["merged_into"]:
        raise ValidationError({fld: "该户已并入其他家庭户（合户），请在并入后的户中办理"})
    return row


def _members(store: Store, household_id: str) -> list[dict]:
    return persons.members(store, household_id)


def _relation(value: Any, fld: str, *, head_ok: bool = False) -> str:
    rel = str(value or "").strip()
    if rel not in RELATIONS or (rel == "head" and not head_ok):
        choices = "、".join(v for k, v in RELATIONS.items() if head_ok or k != "head")
        raise ValidationError({fld: f"请选择与户主的关系（{choices}）"})
    return rel


def _reason(value: Any, fld: str, label: str, *, required: bool) -> str:
    text = clean_free_text(value, field=fld, label=label, limit=REASON_MAX)
    if required and len(text) < 2:
        raise ValidationError({fld: f"请填写{label}（至少2个字）"})
    return text


def _who(p: dict) -> str:
    return f"{p['name']}（{mask_id(p['cert_no']) if p['cert_type'] == 'resident_id' else p['cert_no']}）"


def _head_name(store: Store, hh: dict) -> str:
    head = persons.row(store.conn, hh["head_person_id"]) if hh["head_person_id"] else None
    return head["name"] if head else "无户主"


def _new_head_for_source(
    store: Store, event: dict, source: dict, leaving: set[str], plan: Plan
) -> None:
    """When the head leaves a household others stay in, the clerk names its new head."""
    if source["head_person_id"] not in leaving:
        return
    staying = [m for m in _members(store, source["id"]) if m["id"] not in leaving]
    pick = str(event.get("source_new_head_id") or "")
    chosen = next((m for m in staying if m["id"] == pick), None)
    if chosen is None:
        names = "、".join(m["name"] for m in staying)
        raise ValidationError(
            {"source_new_head_id": f"户主迁出后原户还有{names}，请指定原户的新户主"}
        )
    plan.person_sets.append((chosen, {"relation": "head"}))
    plan.household_sets.append((source, {"head_person_id": chosen["id"]}))
    plan.effect.append(f"原户新户主：{chosen['name']}（原关系：{RELATIONS[chosen['relation']]}）")


# ---- 户主变更


def _plan_change_head(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    hh = _household(store, event.get("household_id"))
    members = {m["id"]: m for m in _members(store, hh["id"])}
    new_head = members.get(str(event.get("new_head_id") or ""))
    if new_head is None:
        raise ValidationError({"new_head_id": "新户主应是本户的成员，请从本户成员中选择"})
    if new_head["id"] == hh["head_person_id"]:
        raise ValidationError({"new_head_id": f"{new_head['name']}已经是本户户主"})
    plan = Plan("change_head", hh["id"])
    plan.effect.append(f"新户主：{new_head['name']}（原关系：{RELATIONS[new_head['relation']]}）")
    plan.person_sets.append((new_head, {"relation": "head"}))
    old = members.get(hh["head_person_id"] or "")
    relations = dict(event.get("relations") or {})
    if old is not None:
        rel = _relation(event.get("old_head_relation"), "old_head_relation")
        plan.person_sets.append((old, {"relation": rel}))
        plan.effect.append(f"原户主{old['name']}改为：{RELATIONS[rel]}")
    for pid, value in relations.items():
        m = members.get(pid)
        if m is None or pid in (new_head["id"], hh["head_person_id"]):
            continue
        rel = _relation(value, f"relations.{pid}")
        if rel != m["relation"]:
            plan.person_sets.append((m, {"relation": rel}))
            plan.effect.append(
                f"{m['name']}与新户主的关系：{RELATIONS[m['relation']]} → {RELATIONS[rel]}"
            )
    plan.household_sets.append((hh, {"head_person_id": new_head["id"]}))
    plan.effect.append("缴费、报销记录不受影响。")
    return plan


# ---- 迁入其他家庭户


def _plan_move(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    person = _person(store, event.get("person_id"))
    target = _household(store, event.get("to_household_id"), "to_household_id")
    if person["household_id"] == target["id"]:
        raise ValidationError({"to_household_id": f"{person['name']}已经在这一户，请选择另一户"})
    rel = _relation(event.get("relation"), "relation", head_ok=target["head_person_id"] is None)
    source = households.row(store.conn, person["household_id"]) if person["household_id"] else None
    plan = Plan("move", target["id"], from_household_id=source["id"] if source else None)
    if source is not None:
        staying = [m for m in _members(store, source["id"]) if m["id"] != person["id"]]
        if not staying:
            raise ValidationError(
                {
                    "person_id": f"{person['name']}是原户唯一的成员，迁走后原户为空：请改用“合户”把整户并入"
                }
            )
    plan.effect.append(
        f"{_who(person)}从{_head_name(store, source) if source else '无'}户迁入"
        f"{_head_name(store, target)}户，与户主关系：{RELATIONS[rel]}"
    )
    plan.person_sets.append((person, {"household_id": target["id"], "relation": rel}))
    if rel == "head":
        plan.household_sets.append((target, {"head_person_id": person["id"]}))
    if source is not None:
        _new_head_for_source(store, event, source, {person["id"]}, plan)
    plan.effect.append("本人的缴费、报销记录随本人迁入新户，不受影响。")
    return plan


# ---- 分户


def _plan_split(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    ids = [str(x) for x in (event.get("person_ids") or [])]
    if not ids:
        raise ValidationError({"person_ids": "请选择要分出的成员"})
    movers = [_person(store, pid, "person_ids") for pid in ids]
    source_ids = {m["household_id"] for m in movers}
    if len(source_ids) != 1 or None in source_ids:
        raise ValidationError({"person_ids": "分户的成员应来自同一个家庭户"})
    source = _household(store, source_ids.pop())
    members = _members(store, source["id"])
    if len(movers) >= len(members):
        raise ValidationError({"person_ids": "全户成员都分出就不是分户：请直接修改本户的信息"})
    head_id = str(event.get("head_id") or "")
    if head_id not in ids:
        raise ValidationError({"head_id": "请从分出的成员中指定新户的户主"})
    address = clean_free_text(event.get("address"), field="address", label="新户住址", limit=200)
    if not address:
        raise ValidationError({"address": "请填写新户的住址（户口簿上的地址）"})
    village = str(event.get("village_id") or source["village_id"] or "")
    if village not in places.village_ids(store):
        raise ValidationError({"village_id": "请选择新户所在的村（居委会）"})
    relations = dict(event.get("relations") or {})
    hid = new_id()
    plan = Plan("split", hid, from_household_id=source["id"])
    plan.new_household = {
        "id": hid,
        "household_no": None,
        "village_id": village,
        "address": address,
        "hukou_type": source["hukou_type"],
        "head_person_id": head_id,
        "version": 1,
        "server_version": None,
        "origin": "local",
    }
    plan.effect.append(f"从{_head_name(store, source)}户分出新户，住址：{address}")
    for m in movers:
        rel = (
            "head"
            if m["id"] == head_id
            else _relation(relations.get(m["id"]), f"relations.{m['id']}")
        )
        plan.person_sets.append((m, {"household_id": hid, "relation": rel}))
        plan.effect.append(f"{_who(m)}：新户的{RELATIONS[rel]}")
    _new_head_for_source(store, event, source, set(ids), plan)
    plan.effect.append("分出成员的缴费、报销记录随本人，不受影响。")
    return plan


# ---- 合户


def _plan_merge(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    src = _household(store, event.get("from_household_id"), "from_household_id")
    into = _household(store, event.get("into_household_id"), "into_household_id")
    if src["id"] == into["id"]:
        raise ValidationError({"into_household_id": "不能把一户并入它自己，请选择另一户"})
    relations = dict(event.get("relations") or {})
    plan = Plan("merge", into["id"], from_household_id=src["id"])
    plan.effect.append(f"{_head_name(store, src)}户整户并入{_head_name(store, into)}户")
    for m in _members(store, src["id"]):
        rel = _relation(relations.get(m["id"]), f"relations.{m['id']}")
        plan.person_sets.append((m, {"household_id": into["id"], "relation": rel}))
        plan.effect.append(f"{_who(m)}：与新户主关系 {RELATIONS[rel]}")
    plan.household_sets.append((src, {"merged_into": into["id"], "head_person_id": None}))
    plan.effect.append("原户保留记录并注明已并入；各人的缴费、报销记录不受影响。")
    return plan


# ---- 终止参保 / 恢复参保


def _plan_terminate(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    person = _person(store, event.get("person_id"))
    if person["status"] == TERMINATED:
        raise ValidationError(
            {"person_id": f"{person['name']}已终止参保（{person['exit_reason']}）"}
        )
    code = str(event.get("exit_reason") or "")
    if code not in EXIT_REASONS:
        raise ValidationError({"exit_reason": "请选择终止参保的原因"})
    label = "死亡日期" if code == "death" else "终止日期"
    when = parse_date(event.get("exit_date"), field="exit_date", label=label, today=today)
    born = dt.date.fromisoformat(person["birth_date"]) if person["birth_date"] else None
    if born is not None and when < born:
        raise ValidationError({"exit_date": f"{label}不能早于出生日期（{born.isoformat()}）"})
    note = _reason(event.get("note"), "note", "说明", required=code == "other")
    why = EXIT_REASONS[code] + (f"：{note}" if note else "")
    plan = Plan("terminate", person["household_id"], happened_on=when.isoformat(), reason=why)
    plan.person_sets.append(
        (person, {"status": TERMINATED, "exit_reason": why, "exit_date": when.isoformat()})
    )
    plan.effect.append(f"{_who(person)}自{when.isoformat()}起终止参保，原因：{why}")
    plan.effect.append("以后各年度不再列入征缴名单，不能再为其收费。")
    later = [p for y, p in payments.live_by_year(store, person["id"]).items() if y > when.year]
    for pay in sorted(later, key=lambda p: p["year"]):
        plan.refunds.append(pay)
        plan.effect.append(
            f"{pay['year']}年度已缴 {pay['amount']} 元（收据 {pay['receipt_no']}）："
            "生成退费任务，由主管办理退费"
        )
    hh = households.row(store.conn, person["household_id"]) if person["household_id"] else None
    if hh is not None and hh["head_person_id"] == person["id"]:
        others = [m for m in _members(store, hh["id"]) if m["id"] != person["id"]]
        if others:
            plan.effect.append("此人是户主：请随后为本户办理“户主变更”。")
    return plan


def _plan_restore(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    person = _person(store, event.get("person_id"))
    if person["status"] != TERMINATED:
        raise ValidationError({"person_id": f"{person['name']}正常参保，无需恢复"})
    if (person["exit_reason"] or "").startswith(EXIT_REASONS["death"]):
        raise ValidationError(
            {"person_id": "该人员因死亡终止参保；如属登记错误，请主管联系县医保部门更正"}
        )
    when = parse_date(event.get("date"), field="date", label="恢复日期", today=today)
    if person["exit_date"] and when.isoformat() < person["exit_date"]:
        raise ValidationError({"date": f"恢复日期不能早于终止日期（{person['exit_date']}）"})
    note = _reason(event.get("note"), "note", "说明", required=False)
    plan = Plan("restore", person["household_id"], happened_on=when.isoformat(), reason=note)
    plan.person_sets.append((person, {"status": ACTIVE, "exit_reason": None, "exit_date": None}))
    plan.effect.append(
        f"{_who(person)}自{when.isoformat()}起恢复参保（原终止原因：{person['exit_reason']}）"
    )
    plan.effect.append("恢复后需按当年政策缴费，断保期间按政策计算等待期。")
    return plan


# ---- 身份证号


def _new_number(store: Store, person: dict, value: Any, today: dt.date) -> tuple[str, Any]:
    chk = check_id(str(value or ""), today=today)
    if not chk.valid:
        raise ValidationError({"cert_no": chk.message or "身份证号码不正确，请核对"})
    if chk.normalized == person["cert_no"]:
        raise ValidationError({"cert_no": "新号码与原号码相同"})
    holders = persons.with_cert_no(store.conn, chk.normalized, person["id"])
    if holders or event_store.old_cert_holders(store.db, chk.normalized, person["id"]):
        who = holders[0]["name"] if holders else "其他人员"
        raise ValidationError({"cert_no": f"该身份证号码已由{who}使用，请先查找已有记录"})
    return chk.normalized, chk


def _plan_assign_id(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    person = _person(store, event.get("person_id"))
    if person["cert_type"] == "resident_id":
        raise ValidationError({"cert_no": "该人员已用居民身份证登记；号码录错请办理“更正身份证号”"})
    number, chk = _new_number(store, person, event.get("cert_no"), today)
    if person["birth_date"] and chk.birth_date.isoformat() != person["birth_date"]:
        raise ValidationError(
            {
                "cert_no": f"身份证上的出生日期{chk.birth_date.isoformat()}与登记的"
                f"{person['birth_date']}不一致，请核对"
            }
        )
    plan = Plan("assign_id", person["household_id"])
    plan.person_sets.append(
        (
            person,
            {
                "cert_type": "resident_id",
                "cert_no": number,
                "sex": chk.sex,
                "birth_date": chk.birth_date.isoformat(),
            },
        )
    )
    plan.old_cert = (person["id"], person["cert_type"], person["cert_no"])
    plan.effect.append(f"{person['name']}登记身份证号 {mask_id(number)}")
    plan.effect.append(f"原证件号码 {person['cert_no']} 保留为曾用号码，仍可用它查到本人。")
    plan.effect.append("同一人，缴费、报销记录不变。")
    return plan


def _plan_correct_id(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    actor.require_supervisor("更正身份证号")
    person = _person(store, event.get("person_id"))
    if person["cert_type"] != "resident_id":
        raise ValidationError({"cert_no": "该人员未用居民身份证登记；请办理“补登身份证号”"})
    reason = _reason(event.get("reason"), "reason", "更正原因", required=True)
    number, chk = _new_number(store, person, event.get("cert_no"), today)
    plan = Plan("correct_id", person["household_id"], reason=reason)
    plan.person_sets.append(
        (person, {"cert_no": number, "sex": chk.sex, "birth_date": chk.birth_date.isoformat()})
    )
    plan.old_cert = (person["id"], person["cert_type"], person["cert_no"])
    plan.effect.append(
        f"{person['name']}的身份证号由 {mask_id(person['cert_no'])} 更正为 {mask_id(number)}"
    )
    plan.effect.append("原号码保留为曾用号码，不会再登记给其他人；县医保部门将收到这一更正。")
    return plan


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
