"""Money parsing at the edges: clear messages, never float, never an escaping exception."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import ValidationError
from core.money import fen, parse_amount, yuan


@pytest.mark.parametrize(
    "text, expected",
    [
        ("400", "400.00"),
        ("400.5", "400.50"),
        (" １２３.４５ 元", "123.45"),
        ("1,234.50", "1234.50"),
        ("0", "0.00"),
        ("400.500", "400.50"),
    ],
)
def test_parses_what_a_clerk_types(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "请输入"),
        ("abc", "不是数字"),
        ("-1", "负数"),
        ("1.234", "两位小数"),
        ("1e999", "过大"),
        ("NaN", "有效数字"),
        ("Infinity", "有效数字"),
        ("100000000.01", "过大"),
    ],
)
def test_refuses_with_a_chinese_message(text, words):
    with pytest.raises(ValidationError) as e:
        parse_amount(text, field="amount", label="金额")
    assert words in e.value.errors["amount"]


def test_zero_can_be_refused():
    with pytest.raises(ValidationError, match="大于零"):
        parse_amount("0", allow_zero=False)


def test_half_up_to_the_fen():
    assert fen(Decimal("0.005")) == Decimal("0.01")
    assert fen(Decimal("2.675")) == Decimal("2.68")
    assert fen(Decimal("-0.005")) == Decimal("-0.01")
    assert yuan(Decimal("1234.5")) == "1,234.50"


@given(st.text(max_size=40))
def test_any_text_gives_an_amount_or_a_message(text):
    try:
        value = parse_amount(text)
    except ValidationError as e:
        assert e.errors
    else:
        assert isinstance(value, Decimal) and value >= 0 and value == fen(value)
