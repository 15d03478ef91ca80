"""终止参保 / 恢复参保 and the ID number (补登, 更正): a person's standing in the scheme."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.errors import ValidationError
from core.ids import check_id, mask_id
from desktop.services.context import Actor
from desktop.services.household_events.common import (
    ACTIVE,
    EXIT_REASONS,
    TERMINATED,
    Plan,
    _members,
    _person,
    _reason,
    _who,
)
from desktop.services.registration_checks import parse_date
from desktop.store import Store, households, payments, persons
from desktop.store import events as event_store

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
