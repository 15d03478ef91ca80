"""Persons and households: each field declared once, with its Chinese label and its role.

The field order here is the order of the store's columns (``db/desktop/0001_initial.sql``)
and of the sync protocol's field lists. Everything else derives from these declarations:
the fields a clerk sets (the registration service and page), the fields sent to the
county (:data:`core.syncproto.ENTITY_FIELDS`), the labels of the edit history.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from core.records.fields import BOOK, CLERK, DERIVED, _f, _names


@dataclass(frozen=True)
class Person:
    """One resident (table ``person``)."""

    id: str = _f("人员", BOOK, wire=True)
    household_id: str | None = _f("家庭户", BOOK, wire=True)
    relation: str = _f("与户主关系", CLERK, wire=True)
    name: str = _f("姓名", CLERK, wire=True)
    name_pinyin: str = _f("姓名拼音", DERIVED)
    name_initials: str = _f("姓名拼音首字母", DERIVED)
    cert_type: str = _f("证件类型", CLERK, wire=True)
    cert_no: str = _f("证件号码", CLERK, wire=True)
    sex: str = _f("性别", CLERK, wire=True)
    birth_date: str = _f("出生日期", CLERK, wire=True)
    ethnicity: str = _f("民族", CLERK, wire=True)
    phone: str = _f("联系电话", CLERK, wire=True)
    address: str = _f("住址", CLERK, wire=True)
    insured_category: str = _f("参保人员类别", CLERK, wire=True)
    subsidy_category: str = _f("资助类别", CLERK, wire=True)
    region_code: str = _f("医保区划", CLERK, wire=True)
    status: int = _f("参保状态", CLERK, wire=True)
    ecert_activated: int = _f("医保电子凭证已激活", CLERK, wire=True)
    created_at: str = _f("登记时间", BOOK, default="")
    updated_at: str = _f("修改时间", BOOK, default="")
    created_by: str | None = _f("登记人", BOOK, default=None)
    version: int = _f("版本", BOOK, default=1)
    server_version: int | None = _f("县级版本", BOOK, default=None)
    origin: str = _f("来源", BOOK, default="local")
    exit_reason: str | None = _f("终止参保原因", BOOK, wire=True, default=None)
    exit_date: str | None = _f("终止参保日期", BOOK, wire=True, default=None)
    # a group the county's policy names (its code; '' = none; issue 19)
    local_group: str = _f("地方认定人员类别", CLERK, wire=True, default="")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Person:
        """From a store row (extra columns such as a joined village name are ignored)."""
        return cls(**{k: row[k] for k in PERSON_COLUMNS if k in row})

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in PERSON_COLUMNS}


@dataclass(frozen=True)
class Household:
    """One household (table ``household``)."""

    id: str = _f("家庭户", BOOK, wire=True)
    household_no: str | None = _f("户号", CLERK, wire=True)
    village_id: str | None = _f("村（居委会）", CLERK, wire=True)
    address: str = _f("家庭住址", CLERK, wire=True)
    hukou_type: str = _f("户籍类型", CLERK, wire=True)
    head_person_id: str | None = _f("户主", BOOK, wire=True)
    created_at: str = _f("登记时间", BOOK, default="")
    updated_at: str = _f("修改时间", BOOK, default="")
    version: int = _f("版本", BOOK, default=1)
    server_version: int | None = _f("县级版本", BOOK, default=None)
    origin: str = _f("来源", BOOK, default="local")
    merged_into: str | None = _f("已并入", BOOK, wire=True, default=None)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Household:
        return cls(**{k: row[k] for k in HOUSEHOLD_COLUMNS if k in row})

    def as_row(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in HOUSEHOLD_COLUMNS}


@dataclass(frozen=True)
class Village:
    id: str
    service_point_id: str
    name: str
    code: str | None = None


PERSON_COLUMNS = _names(Person)
# Fields the clerk sets on a person (everything else is derived or bookkeeping).
PERSON_FIELDS = _names(Person, role=CLERK)
# Fields sent to the county for a person (core.syncproto.ENTITY_FIELDS).
PERSON_WIRE_FIELDS = _names(Person, wire=True)

HOUSEHOLD_COLUMNS = _names(Household)
HOUSEHOLD_FIELDS = _names(Household, role=CLERK)


def _with_village_name(names: tuple[str, ...]) -> tuple[str, ...]:
    # the county also receives the village's name (after its id), not a household column
    i = names.index("village_id") + 1
    return (*names[:i], "village_name", *names[i:])


HOUSEHOLD_WIRE_FIELDS = _with_village_name(_names(Household, wire=True))

# Chinese label of every field, for the edit history and messages.
PERSON_LABELS = {f.name: f.metadata["label"] for f in fields(Person)}
HOUSEHOLD_LABELS = {f.name: f.metadata["label"] for f in fields(Household)}
