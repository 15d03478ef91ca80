"""公民身份号码 (GB 11643-1999) checks, on top of python-stdnum's ``stdnum.cn.ric``.

Checked in this order, and the first failing check is the ``reason``: length and
characters, birth date (real, not in the future), region code, check character
(ISO 7064 MOD 11-2). A lower-case ``x`` is accepted and normalised.
Domain notes §5; acceptance ``identity`` cases.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from stdnum import exceptions as stdnum_exc
from stdnum.cn import ric

# reason → message for the clerk (what is wrong and what to do)
MESSAGES = {
    "empty": "请输入身份证号",
    "length": "身份证号应为18位，请核对后重新输入",
    "length15": "这是15位旧身份证号，请换用18位身份证号",
    "characters": "身份证号前17位应为数字，第18位为数字或X，请核对后重新输入",
    "birth date": "身份证号中的出生日期（第7-14位）不是有效日期，请核对后重新输入",
    "future birth date": "身份证号中的出生日期晚于今天，请核对后重新输入",
    "region": "身份证号前6位不是有效的行政区划代码，请核对后重新输入",
    "check character": "身份证号第18位校验码不正确，请核对后重新输入",
}

_FULLWIDTH = str.maketrans("０１２３４５６７８９ＸｘＸ", "0123456789XxX")


@dataclass(frozen=True)
class IdCheck:
    """The outcome of checking one number. ``reason`` is None when valid."""

    given: str
    normalized: str
    valid: bool
    reason: str | None = None
    sex: str | None = None  # "male" | "female"
    birth_date: dt.date | None = None
    region: str | None = None  # first six digits
    region_name: str | None = None

    @property
    def message(self) -> str:
        return MESSAGES.get(self.reason or "", "") if not self.valid else ""

    def as_dict(self) -> dict:
        d = {"given": self.given, "normalized": self.normalized, "valid": self.valid}
        if self.valid:
            d.update(
                sex=self.sex,
                birth_date=self.birth_date.isoformat(),
                region=self.region,
                region_name=self.region_name,
            )
        else:
            d.update(reason=self.reason, message=self.message)
        return d


def normalize_id(text: str) -> str:
    """Trim, drop inner spaces and dashes, full-width to half-width, upper-case X."""
    s = (text or "").translate(_FULLWIDTH)
    s = "".join(ch for ch in s if not ch.isspace() and ch not in "-")
    return s.upper()


@lru_cache(maxsize=4096)
def _birth_place(region: str, year: int) -> dict[str, str] | None:
    """stdnum's region lookup (the slow part of a check) for a region code and birth year
    (a county code is valid for the years it existed); None for an unknown code."""
    try:
        return ric.get_birth_place(f"{region}{year:04d}0101")
    except stdnum_exc.ValidationError:
        return None


def check_id(text: str, *, today: dt.date | None = None) -> IdCheck:
    """Check a resident ID number; never raises for bad input."""
    today = today or dt.date.today()
    n = normalize_id(text)

    def bad(reason: str) -> IdCheck:
        return IdCheck(given=text, normalized=n, valid=False, reason=reason)

    if not n:
        return bad("empty")
    if len(n) == 15 and n.isdigit():
        return bad("length15")
    if len(n) != 18:
        return bad("length")
    if not (
        n[:17].isascii()
        and n[:17].isdigit()
        and (n[17].isdigit() or n[17] == "X")
        and n[17].isascii()
    ):
        return bad("characters")
    try:
        birth = ric.get_birth_date(n)
    except stdnum_exc.ValidationError:
        return bad("birth date")
    if birth > today:
        return bad("future birth date")
    if birth.year < 1880:
        return bad("birth date")
    place = _birth_place(n[:6], birth.year)
    if place is None:
        return bad("region")
    if ric.calc_check_digit(n) != n[17]:
        return bad("check character")
    name = "".join(place.get(k, "") for k in ("province", "prefecture", "county") if place.get(k))
    return IdCheck(
        given=text,
        normalized=n,
        valid=True,
        sex="male" if int(n[16]) % 2 == 1 else "female",
        birth_date=birth,
        region=n[:6],
        region_name=name or None,
    )


def mask_phone(number: str) -> str:
    """Mask a phone number in lists: the first 3 and last 4 digits (138****2222)."""
    n = (number or "").strip()
    if len(n) <= 7:
        return "*" * len(n)
    return n[:3] + "*" * (len(n) - 7) + n[-4:]


def mask_cert(cert_type: str, number: str) -> str:
    """A certificate number as lists and copies show it: a resident ID masked
    (:func:`mask_id`); other certificates (passports, birth certificates) as they are."""
    return mask_id(number) if cert_type == "resident_id" else number


def mask_id(number: str) -> str:
    """Mask for copies: keep the first 4 and last 4 characters (1101**********002X)."""
    n = normalize_id(number)
    if len(n) <= 8:
        return "*" * len(n)
    return n[:4] + "*" * (len(n) - 8) + n[-4:]
