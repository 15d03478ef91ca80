"""Names and free text: normalisation, limits and pinyin keys for search.

Full-width ASCII (ＡＢＣ１２３) becomes half-width, the ideographic space a space, ends are
trimmed and inner runs of spaces collapse. Nothing else is changed: CJK compatibility
ideographs and characters outside the BMP (rare names such as 𠮷) are kept as typed.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from itertools import islice, product

from core.errors import ValidationError

NAME_MAX = 50
TEXT_MAX = 200

_FW = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FW[0x3000] = 0x20


def to_halfwidth(text: str) -> str:
    return text.translate(_FW)


def normalize_text(text: str | None) -> str:
    s = to_halfwidth(text or "")
    return " ".join(s.split())


def _has_control(s: str) -> bool:
    return any(
        unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") and ch not in "\u200d"
        for ch in s
    )


def normalize_name(text: str | None, *, field: str = "name", label: str = "姓名") -> str:
    """Normalise and check a person's name; raises ValidationError with a Chinese message."""
    s = normalize_text(text)
    if not s:
        raise ValidationError({field: f"请输入{label}"})
    if _has_control(s):
        raise ValidationError({field: f"{label}含有不可见的控制字符，请重新输入"})
    if len(s) > NAME_MAX:
        raise ValidationError({field: f"{label}过长（最多{NAME_MAX}个字）"})
    return s


def clean_free_text(text: str | None, *, field: str, label: str, limit: int = TEXT_MAX) -> str:
    """Addresses and notes: normalised, control characters refused, length limited."""
    s = normalize_text(text)
    if _has_control(s):
        raise ValidationError({field: f"{label}含有不可见的控制字符，请重新输入"})
    if len(s) > limit:
        raise ValidationError({field: f"{label}过长（最多{limit}个字）"})
    return s


# Surnames read differently from the everyday reading (单 shàn, 曾 zēng, …).
SURNAME_READINGS = {
    "单": "shan",
    "曾": "zeng",
    "仇": "qiu",
    "解": "xie",
    "朴": "piao",
    "区": "ou",
    "查": "zha",
    "盖": "ge",
    "乐": "yue",
    "缪": "miao",
    "覃": "qin",
    "翟": "zhai",
    "秘": "bi",
    "员": "yun",
    "隗": "wei",
    "冼": "xian",
    "佘": "she",
    "尉": "yu",
    "召": "shao",
    "繁": "po",
    "宿": "su",
    "长": "chang",
    "重": "chong",
    "华": "hua",
    "任": "ren",
    "沈": "shen",
    "柏": "bai",
}


def _read(text: str) -> list[str]:
    # keep ASCII letters/digits as typed; drop what pypinyin cannot read (rare characters).
    # Imported here: pypinyin's dictionaries take ~0.2 s to load, not needed at start-up.
    from pypinyin import Style, lazy_pinyin

    return [
        p.lower()
        for p in lazy_pinyin(
            text, style=Style.NORMAL, errors=lambda s: [c for c in s if c.isascii() and c.isalnum()]
        )
    ]


# A pulled page reads each name for its search keys and again for its other readings;
# a county's desk holds up to ~50,000 residents: room for their distinct names (~10 MB)
@lru_cache(maxsize=32768)
def _syllables(name: str) -> tuple[str, ...]:
    if name and name[0] in SURNAME_READINGS:
        return (SURNAME_READINGS[name[0]], *_read(name[1:]))
    return tuple(_read(name))


def pinyin_full(name: str) -> str:
    """张三 → zhangsan (lower case, no separators)."""
    return "".join(_syllables(name))


def pinyin_initials(name: str) -> str:
    """张三 → zs; ASCII letters keep their own initial."""
    return "".join(p[0] for p in _syllables(name) if p)


# Characters a name often reads otherwise than pypinyin's usual reading (长 zhǎng/cháng,
# 乐 lè/yuè, 单 dān/shàn, 曾 céng/zēng …): their common readings (pypinyin heteronyms,
# at most READINGS_PER_CHAR) are indexed too, so 韩长根 is found by hzg, hcg and
# hanchanggen. At most MAX_READINGS readings of one name are indexed (the usual first).
NAME_POLYPHONES = frozenset("长乐单曾重朝解查区仇强行传都会宿尉召朴翟覃员秘繁柏沈参薄莎蔚盖缪隗藏")
READINGS_PER_CHAR = 3
MAX_READINGS = 8


@lru_cache(maxsize=512)
def _heteronyms(ch: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin  # loaded on first use, as in _read

    readings = (r.lower() for r in pinyin(ch, style=Style.NORMAL, heteronym=True)[0])
    return tuple(dict.fromkeys(readings))[:READINGS_PER_CHAR]


def name_readings(name: str) -> list[tuple[str, ...]]:
    """The readings of a name to index, the usual one (:func:`pinyin_full`) first."""
    usual = _syllables(name)
    if not any(ch in NAME_POLYPHONES for ch in name) or len(usual) != len(name):
        return [usual]  # nothing polyphonic, or letters/rare characters: one reading
    options = []
    for ch, syl in zip(name, usual, strict=True):
        alts = [syl]
        if ch in NAME_POLYPHONES:
            alts += [r for r in _heteronyms(ch) if r not in alts]
        options.append(alts)
    return list(islice(product(*options), MAX_READINGS))


def other_pinyin_keys(name: str) -> list[str]:
    """Search keys (full pinyin and initials) of a name's other common readings: those
    not already given by :func:`pinyin_full` and :func:`pinyin_initials`."""
    usual = {pinyin_full(name), pinyin_initials(name)}
    keys: dict[str, None] = {}
    for reading in name_readings(name)[1:]:
        for key in ("".join(reading), "".join(p[0] for p in reading if p)):
            if key not in usual:
                keys[key] = None
    return list(keys)
