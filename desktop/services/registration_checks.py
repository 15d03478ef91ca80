"""Checking what a clerk typed for a person or a household (参保登记): every problem at
once, each as ``{field: Chinese message}`` in a :class:`~core.errors.ValidationError`;
the clean values otherwise (ID numbers normalised, sex and birth date from the resident
ID number, pinyin keys of the name)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from stdnum.cn import ric

from core.categories import (
    CERT_TYPES,
    ETHNICITIES,
    HUKOU_TYPES,
    INSURED_CATEGORIES,
    PERSON_STATUS,
    RELATIONS,
    SEXES,
    SUBSIDY_CATEGORIES,
)
from core.errors import ValidationError
from core.ids import check_id, normalize_id
from core.names import (
    clean_free_text,
    normalize_name,
    pinyin_full,
    pinyin_initials,
    to_halfwidth,
)

# Formats of the other certificates (people without a resident ID card; domain notes §5).
_CERT_FORMATS: dict[str, tuple[re.Pattern[str], str]] = {
    "birth_cert": (re.compile(r"^[A-Z]\d{9}$"), "出生医学证明编号应为1位字母加9位数字"),
    "foreign_permanent": (
        re.compile(r"^([A-Z]{3}\d{12}|9\d{16}[\dX])$"),
        "外国人永久居留身份证号应为3位字母加12位数字，或以9开头的18位号码",
    ),
    "hmt_residence": (
        re.compile(r"^8[123]0000\d{11}[\dX]$"),
        "港澳台居民居住证号应为810000、820000或830000开头的18位号码",
    ),
    "hk_macao_permit": (
        re.compile(r"^[HM]\d{8}(\d{2})?$"),
        "港澳居民来往内地通行证号应为H或M加8位（或10位）数字",
    ),
    "taiwan_permit": (re.compile(r"^\d{8}(\d{2})?$"), "台湾居民来往大陆通行证号应为8位或10位数字"),
    "passport": (re.compile(r"^[A-Z0-9]{5,20}$"), "护照号码应为5-20位字母或数字"),
    "other": (re.compile(r"^[A-Z0-9-]{2,30}$"), "证件号码应为2-30位字母、数字或短横线"),
}
_PHONE = re.compile(r"^\+?[0-9][0-9-]{5,19}$")
_REGION = re.compile(r"^[0-9]{6}$")
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


def as_text(value: Any) -> str:
    """None → '', anything else as text."""
    return "" if value is None else str(value)


def parse_date(text: Any, *, field: str, label: str, today: dt.date | None = None) -> dt.date:
    """``YYYY-MM-DD`` (full-width digits accepted), not in the future, not before 1880."""
    today = today or dt.date.today()
    if isinstance(text, dt.date):
        d = text
    else:
        s = normalize_id(as_text(text)).replace("/", "-").replace(".", "-")
        m = _DATE.match(s) or (re.match(r"^(\d{4})(\d{2})(\d{2})$", s) if s else None)
        if not s:
            raise ValidationError({field: f"请输入{label}"})
        if not m:
            raise ValidationError({field: f"{label}请按“年-月-日”填写，例如 1980-01-31"})
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise ValidationError({field: f"{label}不是有效日期，请核对"}) from None
    if d > today:
        raise ValidationError({field: f"{label}晚于今天，请核对"})
    if d.year < 1880:
        raise ValidationError({field: f"{label}早于1880年，请核对"})
    return d


def _flag(value: Any) -> int:
    if isinstance(value, str):
        return 1 if value.strip().lower() in ("1", "true", "yes", "是", "y") else 0
    return 1 if value else 0


def validate_person(
    fields: Mapping[str, Any],
    *,
    default_region: str,
    today: dt.date | None = None,
    groups: Mapping[str, tuple[str, str]] | None = None,
) -> dict:
    """Check and normalise one person's fields; returns the clean values or raises
    ValidationError with every problem at once (field → Chinese message). ``groups``: the
    county groups of the policy (code → (label, the category it is a tier of, or ''))."""
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    _check_name(fields, out, errors)
    _check_certificate(fields, out, errors, today)
    _check_other_fields(fields, out, errors, default_region)
    _check_group(fields, out, errors, groups or {})
    if errors:
        raise ValidationError(errors)
    out["name_pinyin"] = pinyin_full(out["name"])
    out["name_initials"] = pinyin_initials(out["name"])
    return out


def _check_name(fields: Mapping[str, Any], out: dict, errors: dict) -> None:
    try:
        out["name"] = normalize_name(fields.get("name"))
        if not any(unicodedata.category(ch).startswith("L") for ch in out["name"]):
            errors["name"] = "姓名应包含汉字或字母，请核对后重新输入"
        elif any(ch.isdigit() for ch in out["name"]):
            # 张1: the digit that picks the input method's candidate, typed into the name
            errors["name"] = "姓名里不能有数字（可能是输入法选字的数字键），请核对后重新输入"
    except ValidationError as e:
        errors.update(e.errors)


def _check_certificate(
    fields: Mapping[str, Any], out: dict, errors: dict, today: dt.date | None
) -> None:
    """Certificate type and number, sex and birth date (from a resident ID number, which
    must agree with what was typed; typed in for other certificates)."""
    cert_type = as_text(fields.get("cert_type") or "resident_id").strip()
    if cert_type not in CERT_TYPES:
        errors["cert_type"] = "请选择证件类型"
    out["cert_type"] = cert_type

    sex_in = as_text(fields.get("sex")).strip()
    sex_in = {"男": "male", "女": "female"}.get(sex_in, sex_in)
    if sex_in and sex_in not in SEXES:
        errors["sex"] = "性别只能是男或女"
        sex_in = ""
    birth_in: dt.date | None = None
    if as_text(fields.get("birth_date")).strip() or isinstance(fields.get("birth_date"), dt.date):
        try:
            birth_in = parse_date(
                fields.get("birth_date"), field="birth_date", label="出生日期", today=today
            )
        except ValidationError as e:
            errors.update(e.errors)

    raw_no = as_text(fields.get("cert_no"))
    if cert_type == "resident_id":
        chk = check_id(raw_no, today=today)
        out["cert_no"] = chk.normalized
        if not chk.valid:
            errors["cert_no"] = chk.message
        else:
            if sex_in and sex_in != chk.sex:
                errors["sex"] = (
                    f"性别与身份证号不符：身份证号第17位表示{SEXES[chk.sex]}，请核对性别或身份证号"
                )
            if birth_in and birth_in != chk.birth_date:
                errors["birth_date"] = (
                    f"出生日期与身份证号不符：身份证号中为 {chk.birth_date.isoformat()}，"
                    "请核对出生日期或身份证号"
                )
            sex_in = chk.sex or sex_in
            birth_in = chk.birth_date
    else:
        no = "".join(to_halfwidth(raw_no).split()).upper()
        out["cert_no"] = no
        if not no:
            errors["cert_no"] = "请输入证件号码"
        elif cert_type in _CERT_FORMATS:
            pattern, msg = _CERT_FORMATS[cert_type]
            if not pattern.match(no):
                errors["cert_no"] = msg + "，请核对后重新输入"
            elif cert_type == "hmt_residence" and ric.calc_check_digit(no) != no[17]:
                errors["cert_no"] = "居住证号第18位校验码不正确，请核对后重新输入"
        if not sex_in and "sex" not in errors:
            errors["sex"] = "没有身份证号时请选择性别"
        if birth_in is None and "birth_date" not in errors:
            errors["birth_date"] = "没有身份证号时请填写出生日期"
    out["sex"] = sex_in
    out["birth_date"] = birth_in.isoformat() if birth_in else ""


def _check_other_fields(
    fields: Mapping[str, Any], out: dict, errors: dict, default_region: str
) -> None:
    """Relation, ethnicity, phone, address, categories, region, e-certificate, status."""
    relation = as_text(fields.get("relation") or "head").strip()
    if relation not in RELATIONS:
        errors["relation"] = "请选择与户主关系"
    out["relation"] = relation

    ethnicity = as_text(fields.get("ethnicity") or "01").strip()
    if ethnicity not in ETHNICITIES:
        errors["ethnicity"] = "请选择民族"
    out["ethnicity"] = ethnicity

    phone = "".join(to_halfwidth(as_text(fields.get("phone"))).split())
    if phone and not (phone.isascii() and _PHONE.match(phone)):
        errors["phone"] = "联系电话应为数字（可含区号短横线），例如 13812345678"
    out["phone"] = phone

    try:
        out["address"] = clean_free_text(fields.get("address"), field="address", label="住址")
    except ValidationError as e:
        errors.update(e.errors)

    insured = as_text(fields.get("insured_category") or "ordinary").strip()
    if insured not in INSURED_CATEGORIES:
        errors["insured_category"] = "请选择参保人员类别"
    out["insured_category"] = insured
    subsidy = as_text(fields.get("subsidy_category") or "none").strip()
    if subsidy not in SUBSIDY_CATEGORIES:
        errors["subsidy_category"] = "请选择资助类别"
    out["subsidy_category"] = subsidy

    region = normalize_id(as_text(fields.get("region_code"))) or default_region
    if not _REGION.match(region or ""):
        errors["region_code"] = "医保区划代码应为6位数字"
    out["region_code"] = region
    out["ecert_activated"] = _flag(fields.get("ecert_activated"))
    status = fields.get("status")
    status = 1 if status in (None, "") else status
    try:
        out["status"] = int(status)
    except (TypeError, ValueError):
        out["status"] = -1
    if out["status"] not in PERSON_STATUS:
        errors["status"] = "请选择参保状态"


def _check_group(
    fields: Mapping[str, Any], out: dict, errors: dict, groups: Mapping[str, tuple[str, str]]
) -> None:
    """地方认定人员类别: one of the policy's groups; a tier only inside its own category."""
    code = as_text(fields.get("local_group")).strip()
    out["local_group"] = code
    if not code:
        return
    if code not in groups:
        errors["local_group"] = "本地政策没有这个人员类别，请重新选择"
        return
    label, within = groups[code]
    if within and out.get("insured_category") != within:
        errors["local_group"] = (
            f"“{label}”属于{INSURED_CATEGORIES.get(within, within)}，与参保人员类别不符"
        )


def validate_household(fields: Mapping[str, Any], village_ids: set[str]) -> dict:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    vid = as_text(fields.get("village_id")).strip()
    if not vid or vid not in village_ids:
        errors["village_id"] = "请选择村（居委会）"
    out["village_id"] = vid or None
    try:
        out["address"] = clean_free_text(
            fields.get("address"), field="household_address", label="家庭住址"
        )
    except ValidationError as e:
        errors.update(e.errors)
    hukou = as_text(fields.get("hukou_type") or "rural").strip()
    if hukou not in HUKOU_TYPES:
        errors["hukou_type"] = "请选择户籍类型"
    out["hukou_type"] = hukou
    no = normalize_id(as_text(fields.get("household_no")))
    if no and not (no.isascii() and no.replace("-", "").isalnum() and len(no) <= 30):
        errors["household_no"] = "户号应为不超过30位的字母或数字"
    out["household_no"] = no or None
    if errors:
        raise ValidationError(errors)
    return out
