"""户主变更, 迁入其他家庭户, 分户, 合户: who belongs to which household."""

from __future__ import annotations

import datetime as dt

from core.categories import RELATIONS
from core.errors import ValidationError
from core.names import clean_free_text
from desktop.services.context import Actor
from desktop.services.household_events.common import (
    Plan,
    _head_name,
    _household,
    _members,
    _new_head_for_source,
    _person,
    _relation,
    _who,
)
from desktop.store import Store, households, places
from desktop.store.journal import new_id

# ---- 户主变更


def _plan_change_head(store: Store, actor: Actor, event: dict, today: dt.date) -> Plan:
    hh = _household(store, event.get("household_id"))
    members = {m["id"]: m for m in _members(store, hh["id"])}
    if not event.get("new_head_id"):
        raise ValidationError({"new_head_id": "请选择新户主"})
    new_head = members.get(str(event.get("new_head_id")))
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
