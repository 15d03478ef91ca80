"""Registration of households and residents (参保登记), with duplicate detection, edit
history and search.

Every change is one write transaction: the rows, an audit entry with the full row before
and after, and an outbox operation (``household.create``, ``household.update``,
``person.create``, ``person.update``) whose payload is the full row. Input the clerk must
correct raises :class:`ValidationError` with ``{field: Chinese message}`` and writes
nothing. A second record with the same certificate number raises
:class:`DuplicatePerson` listing the existing records; the caller repeats the call with
``allow_duplicate=True`` once the clerk has confirmed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core import rowids
from core.errors import ValidationError
from core.ids import normalize_id
from core.records.persons import (
    HOUSEHOLD_FIELDS,
    HOUSEHOLD_LABELS,
    PERSON_FIELDS,
    PERSON_LABELS,
    Household,
    Person,
)
from desktop.services import policies
from desktop.services.context import Actor
from desktop.services.registration_checks import as_text, validate_household
from desktop.services.registration_checks import parse_date as parse_date  # re-exported
from desktop.services.registration_checks import validate_person as validate_person
from desktop.store import Store, households, persons, places
from desktop.store.journal import new_id, now_iso

# The fields a clerk sets, and their labels: declared once in core.records.persons.
FIELD_LABELS = {**HOUSEHOLD_LABELS, **PERSON_LABELS}


class DuplicatePerson(Exception):
    """Another record already carries this certificate number. ``existing`` lists them
    (id, name, cert_no, household_id, village, relation) so the clerk can decide."""

    def __init__(self, cert_no: str, existing: list[dict], field: str = "cert_no"):
        self.cert_no = cert_no
        self.existing = existing
        self.field = field
        who = "、".join(f"{e['name']}（{e.get('village') or '未填村'}）" for e in existing[:3])
        super().__init__(
            f"证件号码 {cert_no} 已登记：{who}。同一人重复登记会造成重复参保，"
            "请先查找已有记录；确认不是同一人时再继续保存"
        )


class StaleRecord(Exception):
    """The record changed since the clerk opened it."""

    def __init__(self) -> None:
        super().__init__("该记录已被其他操作修改，请重新打开后再编辑")


@dataclass(frozen=True)
class HouseholdCreated:
    household_id: str
    person_ids: list[str]


# ---------------------------------------------------------------- helpers


def _region_of(store: Store, actor: Actor) -> str:
    return places.region_code(store)


def local_groups(store: Store, region: str | None = None, year: int | None = None) -> dict:
    """The groups the county's contribution policy names for ``region`` (default: the
    service point's) and 参保年度 ``year`` (default: this year, else the newest): code →
    (label, the insured category it is a tier of, or ''). Empty when none are named."""
    region = region or places.region_code(store) or ""
    year = year or dt.date.today().year
    dd = store.path.parent if store.path is not None else None
    try:
        ps = policies.load(dd)
    except policies.PolicyUnavailable:
        return {}
    found = [p for p in ps.for_region_year(region, year) if p.has("contribution")]
    if not found:  # the newest year the region has (a new year's file may not be here yet)
        found = sorted(
            (
                p
                for y in range(year - 3, year + 2)
                for p in ps.for_region_year(region, y)
                if p.has("contribution")
            ),
            key=lambda p: p.year,
            reverse=True,
        )
    if not found:
        return {}
    return {g.code: (g.label, g.within) for g in found[0].section("contribution").groups}


def _village_ids(store: Store) -> set[str]:
    return places.village_ids(store)


def find_duplicates(
    store_or_db, cert_type: str, cert_no: str, *, exclude_id: str | None = None
) -> list[dict]:
    """Records already carrying this certificate number (any certificate type for a
    resident ID number, since an 18-digit number identifies one person)."""
    rows = persons.with_cert_no(store_or_db.conn, cert_no, exclude_id)
    if cert_type != "resident_id":
        rows = [r for r in rows if r["cert_type"] == cert_type]
    return rows


def _person_row(clean: dict, household_id: str, region: str, *, actor: Actor, now: str) -> dict:
    """A new person's row; its id carries the service point's county ``region``
    (core.rowids)."""
    row = {k: clean[k] for k in PERSON_FIELDS}
    row.update(
        id=rowids.new_row_id(region),
        household_id=household_id,
        name_pinyin=clean["name_pinyin"],
        name_initials=clean["name_initials"],
        created_at=now,
        updated_at=now,
        created_by=actor.operator_id,
        version=1,
        server_version=None,
        origin="local",
    )
    return row


def _insert_person(db, row: dict, actor: Actor) -> None:
    persons.insert(db, row, actor.operator_id)


# ---------------------------------------------------------------- commands


def create_household(
    store: Store,
    actor: Actor,
    household: Mapping[str, Any],
    members: Sequence[Mapping[str, Any]],
    *,
    allow_duplicate: bool = False,
    today: dt.date | None = None,
) -> HouseholdCreated:
    """Register a household with its members (exactly one 户主) in one transaction.

    Errors for member ``i`` are keyed ``members.i.<field>``; household errors by the
    household field (``village_id``, ``household_address``, ``hukou_type``,
    ``household_no``)."""
    errors: dict[str, str] = {}
    try:
        hh = validate_household(household, _village_ids(store))
    except ValidationError as e:
        errors.update(e.errors)
        hh = {}
    region = _region_of(store, actor)
    clean_members: list[dict] = []
    if not members:
        errors["members"] = "请至少登记一名家庭成员（户主）"
    for i, m in enumerate(members):
        try:
            clean_members.append(
                validate_person(
                    m, default_region=region, today=today, groups=local_groups(store, region)
                )
            )
        except ValidationError as e:
            errors.update({f"members.{i}.{k}": v for k, v in e.errors.items()})
            clean_members.append({})
    heads = [i for i, m in enumerate(members) if as_text(m.get("relation") or "head") == "head"]
    if members and not heads:
        errors.setdefault("members.0.relation", "每户须有一名户主，请把一名成员设为户主")
    for i in heads[1:]:
        errors.setdefault(f"members.{i}.relation", "一户只能有一名户主")
    seen: dict[tuple[str, str], int] = {}
    for i, c in enumerate(clean_members):
        if c and c.get("cert_no"):
            key = (c["cert_type"], c["cert_no"])
            if key in seen:
                errors.setdefault(
                    f"members.{i}.cert_no", f"与第{seen[key] + 1}名成员的证件号码相同，请核对"
                )
            seen[key] = i
    if errors:
        raise ValidationError(errors)

    now = now_iso()
    with store.write() as db:
        if not allow_duplicate:
            for i, c in enumerate(clean_members):
                dups = find_duplicates(db, c["cert_type"], c["cert_no"])
                if dups:
                    raise DuplicatePerson(c["cert_no"], dups, field=f"members.{i}.cert_no")
        hid = new_id()
        rows = [_person_row(c, hid, region, actor=actor, now=now) for c in clean_members]
        head_id = rows[heads[0]]["id"]
        hrow = {
            "id": hid,
            "household_no": hh["household_no"],
            "village_id": hh["village_id"],
            "address": hh["address"],
            "hukou_type": hh["hukou_type"],
            "head_person_id": head_id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "server_version": None,
            "origin": "local",
        }
        households.insert(db, hrow, actor.operator_id)
        for row in rows:
            _insert_person(db, row, actor)
    return HouseholdCreated(hid, [r["id"] for r in rows])


def add_person(
    store: Store,
    actor: Actor,
    household_id: str,
    fields: Mapping[str, Any],
    *,
    allow_duplicate: bool = False,
    today: dt.date | None = None,
) -> str:
    """Add a member to an existing household; returns the new person id."""
    region = _region_of(store, actor)
    clean = validate_person(
        fields, default_region=region, today=today, groups=local_groups(store, region)
    )
    now = now_iso()
    with store.write() as db:
        hh = households.row(db.conn, household_id)
        if hh is None:
            raise ValidationError({"household_id": "找不到该家庭户，请重新查找"})
        if clean["relation"] == "head" and hh["head_person_id"]:
            raise ValidationError({"relation": "该户已有户主，请选择其他关系"})
        if not allow_duplicate:
            dups = find_duplicates(db, clean["cert_type"], clean["cert_no"])
            if dups:
                raise DuplicatePerson(clean["cert_no"], dups)
        row = _person_row(clean, household_id, region, actor=actor, now=now)
        _insert_person(db, row, actor)
        if clean["relation"] == "head":
            _update_household_row(db, actor, hh, {"head_person_id": row["id"]}, now)
    return row["id"]


def _update_household_row(db, actor: Actor, before: dict, changes: dict, now: str) -> dict:
    sets = {**changes, "updated_at": now, "version": before["version"] + 1}
    return households.update(db, before, sets, actor.operator_id)


def update_household(
    store: Store,
    actor: Actor,
    household_id: str,
    fields: Mapping[str, Any],
    *,
    expected_version: int | None = None,
) -> dict:
    """Change a household's village, address, 户籍 type or 户号. Returns the new row."""
    with store.write() as db:
        before = households.row(db.conn, household_id)
        if before is None:
            raise ValidationError({"household_id": "找不到该家庭户，请重新查找"})
        if expected_version is not None and before["version"] != expected_version:
            raise StaleRecord()
        merged = {k: before[k] for k in HOUSEHOLD_FIELDS}
        merged.update({k: v for k, v in fields.items() if k in HOUSEHOLD_FIELDS})
        clean = validate_household(merged, _village_ids(store))
        changes = {k: v for k, v in clean.items() if before[k] != v}
        if not changes:
            return before
        return _update_household_row(db, actor, before, changes, now_iso())


def update_person(
    store: Store,
    actor: Actor,
    person_id: str,
    fields: Mapping[str, Any],
    *,
    allow_duplicate: bool = False,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> dict:
    """Edit a person; fields not given keep their value. The audit entry keeps the full
    row before and after (see :func:`person_history`). Returns the new row; a call that
    changes nothing writes nothing."""
    with store.write() as db:
        before = persons.row(db.conn, person_id)
        if before is None:
            raise ValidationError({"person_id": "找不到该人员，请重新查找"})
        if expected_version is not None and before["version"] != expected_version:
            raise StaleRecord()
        merged = {k: before[k] for k in PERSON_FIELDS}
        merged.update({k: v for k, v in fields.items() if k in PERSON_FIELDS})
        if "cert_no" in fields and merged["cert_type"] == "resident_id":
            # a corrected ID number brings its own sex and birth date unless both are given
            for k in ("sex", "birth_date"):
                if k not in fields:
                    merged[k] = ""
        clean = validate_person(
            merged,
            default_region=before["region_code"],
            today=today,
            groups=local_groups(store, before["region_code"]),
        )
        changes = {
            k: clean[k]
            for k in (*PERSON_FIELDS, "name_pinyin", "name_initials")
            if before[k] != clean[k]
        }
        if not changes:
            return before
        hh = households.row(db.conn, before["household_id"]) if before["household_id"] else None
        if "relation" in changes and hh is not None:
            if clean["relation"] == "head" and hh["head_person_id"] not in (None, person_id):
                raise ValidationError({"relation": "该户已有户主，请先修改原户主的关系"})
            if before["relation"] == "head" and hh["head_person_id"] == person_id:
                raise ValidationError({"relation": "户主不能直接改为其他关系，请先指定新户主"})
        if "cert_no" in changes and not allow_duplicate:
            dups = find_duplicates(db, clean["cert_type"], clean["cert_no"], exclude_id=person_id)
            if dups:
                raise DuplicatePerson(clean["cert_no"], dups)
        now = now_iso()
        sets = {**changes, "updated_at": now, "version": before["version"] + 1}
        after = persons.update(db, before, sets, actor.operator_id)
        if (
            "relation" in changes
            and clean["relation"] == "head"
            and hh is not None
            and hh["head_person_id"] is None
        ):
            _update_household_row(db, actor, hh, {"head_person_id": person_id}, now)
    return after


# ---------------------------------------------------------------- reading


def get_person(store: Store, person_id: str) -> dict | None:
    return persons.with_village(store, person_id)


def person_record(store: Store, person_id: str) -> Person | None:
    """The person as a typed row (:class:`core.records.persons.Person`)."""
    return persons.record(store, person_id)


def household_record(store: Store, household_id: str) -> Household | None:
    """The household as a typed row (:class:`core.records.persons.Household`)."""
    return households.record(store, household_id)


def count_persons(store: Store) -> int:
    return persons.count(store)


def example_person(store: Store) -> dict | None:
    """``{"id": …}`` of a resident to show in examples (one who has paid, else the first)."""
    return persons.example(store)


def get_household(store: Store, household_id: str) -> dict | None:
    """The household row, its village name and its members (head first)."""
    with store.read():
        hh = households.with_village(store, household_id)
        if hh is None:
            return None
        hh["members"] = persons.members(store, household_id)
    return hh


def person_history(store: Store, person_id: str) -> list[dict]:
    """The audit trail of one person, oldest first: when, who, what, and for an update
    the changed fields as ``[{field, label, before, after}]``."""
    rows = persons.audit_trail(store, person_id)
    out = []
    for r in rows:
        detail = json.loads(r["detail"])
        before, after = detail.get("before") or {}, detail.get("after") or {}
        changes = []
        if before and after:
            for k in (*PERSON_FIELDS, "household_id"):
                if before.get(k) != after.get(k):
                    changes.append(
                        {
                            "field": k,
                            "label": FIELD_LABELS.get(k, k),
                            "before": before.get(k),
                            "after": after.get(k),
                        }
                    )
        out.append(
            {
                "seq": r["seq"],
                "at": r["at"],
                "action": r["action"],
                "operator": r["operator"] or "",
                "changes": changes,
                "before": before or None,
                "after": after or None,
            }
        )
    return out


# ---------------------------------------------------------------- search


def classify_query(query: str) -> tuple[str, str]:
    """What the clerk typed: ``("cert", number)``, ``("pinyin", letters)`` or
    ``("name", text)``; ``("", "")`` for nothing searchable."""
    q = " ".join(as_text(query).split())
    if not q:
        return "", ""
    n = normalize_id(q)
    if n.isascii() and any(ch.isdigit() for ch in n) and n.replace("-", "").isalnum():
        return "cert", n
    half = n.lower()
    if half.isascii() and half.replace(" ", "").isalpha():
        return "pinyin", half.replace(" ", "")
    return "name", q


@dataclass(frozen=True)
class SearchResult:
    """What a search found and how it read the query: ``kind`` is ``"cert"`` (an ID or
    certificate number), ``"name"`` (characters) or ``"pinyin"`` (letters), ``""`` for
    nothing searchable. A page offers a new registration only after a search by number
    found nothing (:attr:`by_cert_no`): a name may be written or read otherwise."""

    kind: str
    query: str
    rows: list[dict]

    @property
    def by_cert_no(self) -> bool:
        return self.kind == "cert"


def search(store: Store, query: str, limit: int = 50) -> SearchResult:
    """Find persons by certificate number (full or prefix), name (exact or prefix, any
    length, 1-character surnames too), pinyin initials (``zs`` → 张三) or full pinyin
    (``zhangsan``), every common reading of a polyphonic character counted (``hcg`` and
    ``hzg`` → 韩长根). Exact matches come first. At most ``limit`` rows."""
    kind, q = classify_query(query)
    limit = max(1, min(int(limit), 500))
    rows: list[dict] = []
    if kind == "cert":
        rows = persons.search_range(store, "cert_no", q, limit)
    elif kind == "name":
        rows = persons.search_range(store, "name", q, limit)
    elif kind == "pinyin":
        seen: dict[str, dict] = {}
        for column in ("name_initials", "name_pinyin", None):
            found = (
                persons.search_range(store, column, q, limit)
                if column
                else persons.search_other_readings(store, q, limit)
            )
            for r in found:
                seen.setdefault(r["id"], r)
            if len(seen) >= limit:
                break
        rows = list(seen.values())[:limit]
    return SearchResult(kind, q, rows)


def search_persons(store: Store, query: str, limit: int = 50) -> list[dict]:
    """The rows of :func:`search` (see there)."""
    return search(store, query, limit).rows


def list_duplicates(store: Store, limit: int = 200) -> list[dict]:
    """Persons whose certificate number is carried by another record that is not
    terminated (重复参保 to be cleared, domain notes §5): grouped by number, oldest first.
    Clear one by setting its 参保状态 to 3 (终止) with :func:`update_person`."""
    return persons.duplicates(store, limit)


def list_households(store: Store, village_id: str | None = None, limit: int = 200) -> list[dict]:
    return households.listing(store, village_id, limit)
