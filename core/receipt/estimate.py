"""The 医疗费用报销测算单 (estimate sheet): totals, steps, caveats."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.errors import ValidationError
from core.money import yuan
from core.receipt.model import (
    KINDS,
    Document,
    Field,
    Section,
    Table,
    _amount,
    _require_text,
    fmt_date,
    fmt_time,
    show_id,
)

# --------------------------------------------------------------------------- estimate


# national settlement names (domain notes §4) → what the sheet and the screen call them, in
# the order both show them
ESTIMATE_TOTALS = {
    "medfee_sumamt": "医疗费用总额",
    "inscp_scp_amt": "政策范围内费用",
    "act_pay_dedc": "起付标准（本次实付）",
    "hifp_pay": "基本医保统筹基金支付",
    "hifmi_pay": "大病保险支付",
    "maf_pay": "医疗救助支付",
    "tilted_pay": "倾斜救助支付",
    "fund_pay_sumamt": "基金支付合计",
    "psn_part_amt": "个人负担",
}


@dataclass(frozen=True)
class EstimateStep:
    layer: str  # label, e.g. 基本医保统筹基金
    rule: str  # e.g. 起付线
    text: str  # the explanation with its numbers
    source: str = ""


@dataclass(frozen=True)
class EstimateFacts:
    service_point: str
    estimate_id: str
    name: str  # the person's name, or the clerk's label of an anonymous estimate
    cert_no: str  # "" for an anonymous estimate
    insured_category: str
    year: int
    setting: str  # e.g. 住院
    level: str  # e.g. 二级医院
    totals: dict[str, Decimal | str]  # national names (ESTIMATE_TOTALS) → amount
    steps: list[EstimateStep]
    made_at: str
    operator: str
    policy: str = ""  # the policy's title, as printed
    caveats: tuple[str, ...] = ()  # why the result is hypothetical (printed before the figures)
    settled: bool = False
    disclaimer: str = "本单为测算结果，仅供参考，实际报销金额以定点医疗机构结算为准。"


def estimate_document(
    f: EstimateFacts, *, printed_at: str, copy_no: int = 1, masked: bool = True
) -> Document:
    errors: dict[str, str] = {}
    _require_text(errors, "name", f.name, "测算单没有参保人姓名，请先选择参保人或填写备注姓名")
    amounts: list[tuple[str, str, Decimal]] = []
    for code, label in ESTIMATE_TOTALS.items():
        if f.totals.get(code) not in (None, ""):
            amounts.append((code, label, _amount(errors, code, f.totals[code], label)))
    if not amounts:
        errors["totals"] = "测算结果为空，请先完成测算再打印"
    if errors:
        raise ValidationError(errors)
    person = Section(
        "参保人与就医信息",
        [
            Field("姓名", f.name.strip(), "name"),
            Field("证件号码", show_id(f.cert_no, masked=masked) if f.cert_no else "—", "cert_no"),
            Field("参保人员类别", f.insured_category or "—", "insured_category"),
            Field("费用年度", f"{f.year}年度", "year"),
            Field("就医类型", f.setting or "—", "setting"),
            Field("医疗机构/等级", f.level or "—", "level"),
            Field("测算时间", fmt_time(f.made_at), "made_at"),
            Field("结算状态", "已结算" if f.settled else "未结算（测算）", "settled"),
        ],
    )
    totals = Table(
        "测算结果",
        ["项目", "金额（元）"],  # in words only: no settlement codes on a resident's paper
        # the screen's order: the bill, what the policy covers, each fund, then the sums
        [[label, yuan(a)] for _code, label, a in amounts],
        ["L", "R"],
    )
    sources: list[str] = []
    for s in f.steps:
        if s.source and s.source not in sources:
            sources.append(s.source)
    step_table = Table(
        "计算步骤",
        ["序号", "层次", "规则", "说明", "依据"],
        [
            [
                str(i + 1),
                s.layer,
                "" if s.rule == s.layer else s.rule,  # 政策范围内费用, 合计: not named twice
                s.text,
                f"[{sources.index(s.source) + 1}]" if s.source else "",
            ]
            for i, s in enumerate(f.steps)
        ],
        ["C", "L", "L", "L", "C"],
    )
    return Document(
        kind="estimate",
        key=f.estimate_id,
        title=KINDS["estimate"],
        issuer=f.service_point,
        number=f"测算日期 {fmt_date(f.made_at)}",
        sections=[person],
        tables=[totals, step_table],
        notes=[f"★ {c}" for c in f.caveats]
        + [f.disclaimer]
        + ([f"测算政策：{f.policy}"] if f.policy else [])
        + [f"依据[{i + 1}]：{src}" for i, src in enumerate(sources)],
        footer=[
            Field("经办人", f.operator, "operator"),
            Field("打印时间", printed_at, "printed_at"),
        ],
        copy_no=copy_no,
        masked=masked,
    )
