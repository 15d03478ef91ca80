"""Money is Decimal yuan, rounded half-up to the fen (0.01) where the policy says."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from core.errors import ValidationError

FEN = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_AMOUNT = Decimal("100000000.00")  # 1亿元: far above any single bill; guards typos


def fen(value: Decimal | int | str) -> Decimal:
    """Round half-up to 0.01 yuan."""
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def parse_amount(
    text: str | int | Decimal,
    *,
    field: str = "amount",
    label: str = "金额",
    allow_zero: bool = True,
) -> Decimal:
    """Parse what a clerk typed (full-width digits allowed) into Decimal yuan.

    Refuses non-numbers, negatives, more than two decimals and absurd sizes, with a
    Chinese message naming ``label``.
    """
    if isinstance(text, Decimal):
        raw = text
    else:
        s = str(text).strip().translate(_FULLWIDTH_DIGITS).replace(",", "").replace("，", "")
        if s.endswith("元"):
            s = s[:-1].strip()
        if not s:
            raise ValidationError({field: f"请输入{label}"})
        try:
            raw = Decimal(s)
        except InvalidOperation:
            raise ValidationError({field: f"{label}“{text}”不是数字，请重新输入"}) from None
    if not raw.is_finite():
        raise ValidationError({field: f"{label}不是有效数字，请重新输入"})
    if raw < 0:
        raise ValidationError({field: f"{label}不能为负数"})
    if not allow_zero and raw == 0:
        raise ValidationError({field: f"{label}必须大于零"})
    if raw > MAX_AMOUNT:
        raise ValidationError({field: f"{label}过大，请核对"})
    if raw.as_tuple().exponent < -2 and raw != raw.quantize(FEN, rounding=ROUND_HALF_UP):
        raise ValidationError({field: f"{label}最多两位小数（精确到分）"})
    return fen(raw)


def yuan(value: Decimal) -> str:
    """Format for display and print: 1,234.50."""
    return f"{fen(value):,.2f}"


_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９．－", "0123456789.-")
