"""Names and free text: normalisation, limits and pinyin keys for search.

Full-width ASCII (ＡＢＣ１２３) becomes half-width, the ideographic space a space, ends are
trimmed and inner runs of spaces collapse. Nothing else is changed: CJK compatibility
ideographs and characters outside the BMP (rare names such as 𠮷) are kept as typed.
"""

from __future__ import annotations

import unicodedata

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


def _syllables(name: str) -> list[str]:
    if name and name[0] in SURNAME_READINGS:
        return [SURNAME_READINGS[name[0]], *_read(name[1:])]
    return _read(name)


def pinyin_full(name: str) -> str:
    """张三 → zhangsan (lower case, no separators)."""
    return "".join(_syllables(name))


def pinyin_initials(name: str) -> str:
    """张三 → zs; ASCII letters keep their own initial."""
    return "".join(p[0] for p in _syllables(name) if p)
