"""Row shapes on the county: validation of desktop payloads (Chinese messages) and the
wire view of each row sent down the streams."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from core import syncproto as sp
from core.categories import (
    CERT_TYPES,
    HUKOU_TYPES,
    INSURED_CATEGORIES,
    RELATIONS,
    SEXES,
    SUBSIDY_CATEGORIES,
)

MAX_TEXT = 200
# the bureau's clock: China time (no summer time), whatever the server's own zone is
CHINA = dt.timezone(dt.timedelta(hours=8))


def china_time(value: dt.datetime | str) -> dt.datetime:
    """A stored moment (a timestamptz, or its ISO text) on the bureau's clock. A county
    server often runs on UTC; a page, an export or the command line says China time."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:  # the database's times all carry their zone; a bare one is UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(CHINA)


def china_minute(value: dt.datetime | str | None) -> str:
    """2026-12-05 12:34 in China time ("—" for no time)."""
    return china_time(value).strftime("%Y-%m-%d %H:%M") if value else "—"


def china_day(value: dt.datetime | str | None) -> str:
    """2026-12-05 in China time ("—" for no time)."""
    return china_time(value).strftime("%Y-%m-%d") if value else "—"


ENUMS = {
    "cert_type": CERT_TYPES,
    "sex": SEXES,
    "relation": RELATIONS,
    "insured_category": INSURED_CATEGORIES,
    "subsidy_category": SUBSIDY_CATEGORIES,
    "hukou_type": HUKOU_TYPES,
}
LABELS = {
    "id": "编号",
    "name": "姓名",
    "cert_no": "证件号码",
    "cert_type": "证件类型",
    "sex": "性别",
    "birth_date": "出生日期",
    "relation": "与户主关系",
    "insured_category": "参保人员类别",
    "subsidy_category": "资助类别",
    "hukou_type": "户口性质",
    "person_id": "居民",
    "enrollment_id": "参保登记",
    "year": "参保年度",
    "amount": "缴费金额",
    "status": "状态",
    "ecert_activated": "医保电子凭证",
}
INT_FIELDS = {
    sp.E_PERSON: {"status", "ecert_activated"},
    sp.E_HOUSEHOLD: set(),
    sp.E_ENROLLMENT: {"year", "waiting", "continuous_years"},
    sp.E_PAYMENT: {"year"},
}
MONEY_FIELDS = {"amount"}
DATE_FIELDS = {"birth_date"}


class OpRejected(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


def invalid(message: str) -> OpRejected:
    return OpRejected(sp.R_INVALID, message)


def label(field: str) -> str:
    return LABELS.get(field, field)


def parse_money(value, field: str = "amount") -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise invalid(f'{label(field)}应为金额字符串（如 "400.00"）')
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation:
        raise invalid(f"{label(field)}不是有效金额：{str(value)[:20]}") from None
    if not d.is_finite() or d < 0 or d > Decimal("1000000") or d != d.quantize(Decimal("0.01")):
        raise invalid(f"{label(field)}应为0到1000000之间、最多两位小数的金额")
    return d.quantize(Decimal("0.01"))


def clean_fields(entity: str, payload: dict, *, partial: bool) -> dict:
    """The known fields of a payload, checked. Unknown keys are dropped (desktop
    bookkeeping such as version/origin); a wrong value rejects the op."""
    if not isinstance(payload, dict):
        raise invalid("操作内容应为对象")
    out: dict = {}
    for f in sp.ENTITY_FIELDS[entity]:
        if f not in payload:
            continue
        v = payload[f]
        if v is None:
            if f in sp.REQUIRED_ON_CREATE[entity]:
                raise invalid(f"缺少{label(f)}")
            out[f] = None
            continue
        if f in INT_FIELDS[entity]:
            if isinstance(v, bool):
                v = int(v)
            if not isinstance(v, int):
                raise invalid(f"{label(f)}应为整数")
            if f == "year" and not (2000 <= v <= 2100):
                raise invalid("参保年度应在2000到2100之间")
        elif f in MONEY_FIELDS:
            v = str(parse_money(v, f))
        else:
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                raise invalid(f"{label(f)}格式不正确")
            v = str(v)
            if len(v) > MAX_TEXT:
                raise invalid(f"{label(f)}过长（最多{MAX_TEXT}个字符）")
            if f in ENUMS and v not in ENUMS[f]:
                raise invalid(f"{label(f)}的值“{v[:20]}”不在代码表中")
            if f in DATE_FIELDS:
                try:
                    dt.date.fromisoformat(v)
                except ValueError:
                    raise invalid(f"{label(f)}应为日期，如 1980-01-31") from None
        out[f] = v
    if not partial:
        for f in sp.REQUIRED_ON_CREATE[entity]:
            if out.get(f) in (None, ""):
                raise invalid(f"缺少{label(f)}")
    return out


def mask(cert_no: str) -> str:
    n = cert_no or ""
    return n[:4] + "*" * (len(n) - 8) + n[-4:] if len(n) > 8 else "*" * len(n)


def person_view(row: dict, link: dict | None) -> dict:
    """A person as a service point sees it: its own household and relation."""
    data = dict(row["data"])
    data["id"] = row["id"]
    data["home_service_point_id"] = row["home_sp_id"]
    if link is not None:
        data["household_id"] = link.get("household_id")
        if link.get("relation"):
            data["relation"] = link["relation"]
    return data
