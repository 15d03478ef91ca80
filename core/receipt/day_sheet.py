"""The 收款日结单 (a collector's day sheet)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import ValidationError
from core.money import ZERO, yuan
from core.receipt.model import (
    KINDS,
    Document,
    Field,
    Section,
    Table,
    _amount,
    fmt_time,
    money_text,
    show_id,
)

# --------------------------------------------------------------------------- day sheet


@dataclass(frozen=True)
class DayLine:
    receipt_no: str
    time: str  # ISO date-time
    name: str
    cert_no: str
    year: int
    channel: str  # label
    amount: Decimal | str
    voided: bool = False
    void_reason: str = ""
    voided_at: str = ""


@dataclass(frozen=True)
class DaySheetFacts:
    service_point: str
    operator: str
    operator_id: str
    day: str  # YYYY-MM-DD
    lines: list[DayLine]


def day_sheet_document(
    f: DaySheetFacts, *, printed_at: str, copy_no: int = 1, masked: bool = True
) -> Document:
    errors: dict[str, str] = {}
    amounts = [
        _amount(errors, f"line_{i}", ln.amount, f"收据 {ln.receipt_no} 的金额")
        for i, ln in enumerate(f.lines)
    ]
    if errors:
        raise ValidationError(errors)
    by_channel: dict[str, list[Decimal]] = {}
    valid_sum = void_sum = ZERO
    valid_n = void_n = 0
    for ln, a in zip(f.lines, amounts, strict=True):
        if ln.voided:
            void_n += 1
            void_sum += a
        else:
            valid_n += 1
            valid_sum += a
            by_channel.setdefault(ln.channel, []).append(a)
    channel_rows = [[ch, str(len(v)), yuan(sum(v, ZERO))] for ch, v in sorted(by_channel.items())]
    receipts, voids = _line_tables(f, amounts, masked, valid_sum, valid_n, void_sum, void_n)
    summary = Table(
        "按缴费方式汇总",
        ["缴费方式", "笔数", "金额（元）"],
        channel_rows,
        ["L", "R", "R"],
        total=["合计", str(valid_n), yuan(valid_sum)],
    )
    head = Section(
        "日结信息",
        [
            Field("日期", f.day, "day"),
            Field("经办人", f.operator, "operator"),
            Field("有效收据", f"{valid_n}张", "valid_count"),
            Field("实收金额", money_text(valid_sum), "valid_sum", strong=True),
            Field("作废收据", f"{void_n}张", "void_count"),
            Field("作废金额", money_text(void_sum), "void_sum"),
        ],
    )
    return Document(
        kind="day_sheet",
        key=f"{f.operator_id}:{f.day}",
        title=KINDS["day_sheet"],
        issuer=f.service_point,
        number=f"{f.day} {f.operator}",
        sections=[head],
        tables=[summary, receipts, voids],
        notes=["作废收据不计入实收金额；作废收据原件应收回并随本单上交。"],
        footer=[
            Field("经办人签字", "", "sign_operator"),
            Field("复核人签字", "", "sign_checker"),
            Field("打印时间", printed_at, "printed_at"),
        ],
        copy_no=copy_no,
        masked=masked,
    )


def _line_tables(
    f: DaySheetFacts,
    amounts: list[Decimal],
    masked: bool,
    valid_sum: Decimal,
    valid_n: int,
    void_sum: Decimal,
    void_n: int,
) -> tuple[Table, Table]:
    """The receipts of the day line by line, and the voided ones with their reasons."""
    receipts = Table(
        "收据明细",
        ["收据号", "时间", "姓名", "证件号码", "年度", "方式", "金额（元）", "状态"],
        [
            [
                ln.receipt_no,
                fmt_time(ln.time)[11:],
                ln.name,
                show_id(ln.cert_no, masked=masked),
                str(ln.year),
                ln.channel,
                yuan(a),
                "作废" if ln.voided else "有效",
            ]
            for ln, a in zip(f.lines, amounts, strict=True)
        ],
        ["L", "C", "L", "L", "C", "C", "R", "C"],
        total=["合计（有效）", "", "", "", "", "", yuan(valid_sum), f"{valid_n}张"],
    )
    voids = Table(
        "作废收据",
        ["收据号", "姓名", "金额（元）", "作废时间", "作废原因"],
        [
            [ln.receipt_no, ln.name, yuan(a), fmt_time(ln.voided_at), ln.void_reason]
            for ln, a in zip(f.lines, amounts, strict=True)
            if ln.voided
        ],
        ["L", "L", "R", "C", "L"],
        total=["合计（作废）", "", yuan(void_sum), f"{void_n}张", ""],
    )
    return receipts, voids
