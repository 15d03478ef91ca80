"""The plan of a household event and the checks every kind shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.categories import RELATIONS
from core.errors import ValidationError
from core.ids import mask_cert
from core.names import clean_free_text
from desktop.store import Store, households, persons

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


# ---------------------------------------------------------------------------- planning


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
    return f"{p['name']}（{mask_cert(p['cert_type'], p['cert_no'])}）"


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
