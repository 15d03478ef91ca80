"""What goes on paper: the content of receipts, certificates, estimate sheets and day
sheets, ID masking, and the keyed verification code (MAC) printed as a QR code.

Pure: no Qt, no database, no files. Services gather the facts from the store, these
functions check them and turn them into a :class:`Document` (plain data, JSON-serialisable,
stored as the snapshot a reprint shows again); ``desktop/documents`` renders a Document
with reportlab.

Domain notes §6 (the fields of 参保缴费凭证); a reprint is marked 补打 with its count.

Verification code (``TDR1`` payload, also printed as text under the QR code)::

    TDR1|<receipt no>|<amount paid, 0.00>|<payment date YYYY-MM-DD>|<key id>|<MAC>

MAC = the first 10 bytes of HMAC-SHA256(key, the payload before ``|<MAC>``), Base32 (16
characters, no padding). The key is the county's receipt key for this service point
(``key id`` names it), so the county can recompute the MAC for any receipt it is shown; a
changed number, amount or date gives a different MAC.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from core.errors import ValidationError
from core.ids import mask_id, normalize_id
from core.money import ZERO, parse_amount, yuan

KINDS = {
    "receipt": "城乡居民基本医疗保险参保缴费凭证",
    "certificate": "城乡居民基本医疗保险参保凭证",
    "estimate": "医疗费用报销测算单",
    "day_sheet": "收款日结单",
}
SHORT_TITLES = {
    "receipt": "参保缴费凭证",
    "certificate": "参保凭证",
    "estimate": "报销测算单",
    "day_sheet": "日结单",
}
INSURANCE_TYPES = {"390": "城乡居民基本医疗保险", "392": "城乡居民大病保险"}
PAYLOAD_PREFIX = "TDR1"
MAC_BYTES = 10


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Field:
    label: str
    value: str
    key: str = ""  # stable name for tests and the GUI
    wide: bool = False  # takes a whole row
    strong: bool = False  # printed larger (amounts)


@dataclass(frozen=True)
class Section:
    title: str
    fields: list[Field]


@dataclass(frozen=True)
class Table:
    title: str
    header: list[str]
    rows: list[list[str]]
    align: list[str] = field(default_factory=list)  # "L" | "R" | "C" per column
    total: list[str] | None = None  # a last, bold row


@dataclass(frozen=True)
class Document:
    kind: str  # receipt | certificate | estimate | day_sheet
    key: str  # receipt no / enrollment id / estimate id / operator:date
    title: str
    issuer: str  # the service point
    number: str  # printed top right (receipt no, or a sheet reference)
    sections: list[Section]
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    footer: list[Field] = field(default_factory=list)  # operator, print time, signatures
    copy_no: int = 1  # 1 = original; n > 1 = 补打 (reprint n-1)
    qr_payload: str = ""  # verification code (empty: no QR on this kind)
    masked: bool = True

    @property
    def reprint_mark(self) -> str:
        return reprint_mark(self.copy_no)

    def field_values(self) -> dict[str, str]:
        """{key: value} of every keyed field (tests, GUI preview lists)."""
        out: dict[str, str] = {}
        for s in self.sections:
            for f in s.fields:
                if f.key:
                    out[f.key] = f.value
        for f in self.footer:
            if f.key:
                out[f.key] = f.value
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> Document:
        return Document(
            kind=d["kind"],
            key=d["key"],
            title=d["title"],
            issuer=d["issuer"],
            number=d["number"],
            sections=[
                Section(s["title"], [Field(**f) for f in s["fields"]]) for s in d["sections"]
            ],
            tables=[Table(**t) for t in d.get("tables", [])],
            notes=list(d.get("notes", [])),
            footer=[Field(**f) for f in d.get("footer", [])],
            copy_no=int(d.get("copy_no", 1)),
            qr_payload=d.get("qr_payload", ""),
            masked=bool(d.get("masked", True)),
        )


def reprint_mark(copy_no: int) -> str:
    """``""`` for the original; ``补打（第1次）`` for the first reprint, and so on."""
    return "" if copy_no <= 1 else f"补打（第{copy_no - 1}次）"


# --------------------------------------------------------------------------- helpers


def region_label(code: str) -> str:
    """``140121 山西省清徐县`` (GB/T 2260 names from python-stdnum's table; the code alone
    when the table does not know it)."""
    from stdnum import numdb

    code = (code or "").strip()
    try:
        parts = numdb.get("cn/loc").info(code[:6])
    except Exception:  # noqa: BLE001 - an unreadable table must not stop printing
        return code
    info = {k: v for _part, props in parts for k, v in props.items()}
    county = info.get("county", "")
    if county:
        names = [c.split("]", 1)[-1] for c in county.split(",")]
        county = names[-1]
    name = "".join(x for x in (info.get("province", ""), info.get("prefecture", ""), county) if x)
    return f"{code} {name}".strip() if name else code


def show_id(cert_no: str, *, masked: bool) -> str:
    return mask_id(cert_no) if masked else normalize_id(cert_no)


def fmt_date(value: dt.date | dt.datetime | str | None) -> str:
    """2026-11-23 (from a date, a datetime or an ISO string)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def fmt_time(value: dt.datetime | str | None) -> str:
    """2026-11-23 10:15:02 (seconds, no offset)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if len(value.strip()) == 10:  # a date without a time
            return value.strip()
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M:%S")


def benefit_period_text(start: str, end: str) -> str:
    """ "start 至 end"; a waiting period that ends after the 参保年度 gives no benefits that
    year (paid e.g. for continuity) — said in words, not as a period ending before it starts."""
    if start and end and fmt_date(start) > fmt_date(end):
        return f"本年度不享受待遇（等待期至 {fmt_date(start)} 才结束）"
    return f"{fmt_date(start)} 至 {fmt_date(end)}"


def _waiting_label(waiting: int | str | None) -> str:
    """0 / None → 无等待期; an int → months; a text (e.g. 30天) as it is."""
    if waiting in (0, "0", "", None):
        return "无等待期"
    return f"{waiting}个月" if isinstance(waiting, int) else str(waiting)


def money_text(value: Decimal) -> str:
    return f"{yuan(value)} 元"


def _require_text(errors: dict[str, str], key: str, value: str | None, message: str) -> str:
    v = (value or "").strip()
    if not v:
        errors[key] = message
    return v


def _amount(errors: dict[str, str], key: str, value, label: str) -> Decimal:
    try:
        return parse_amount(value if value is not None else "", field=key, label=label)
    except ValidationError as e:
        errors.update(e.errors)
        return ZERO


# --------------------------------------------------------------------------- MAC


def mac_message(receipt_no: str, amount: Decimal, date: str, key_id: str) -> str:
    return f"{PAYLOAD_PREFIX}|{receipt_no}|{yuan(amount).replace(',', '')}|{date}|{key_id}"


def compute_mac(key: bytes, message: str) -> str:
    digest = hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def verification_payload(
    key: bytes, key_id: str, *, receipt_no: str, amount: Decimal, date: str
) -> str:
    msg = mac_message(receipt_no, amount, date, key_id)
    return f"{msg}|{compute_mac(key, msg)}"


@dataclass(frozen=True)
class Verification:
    ok: bool
    message: str  # Chinese, for the clerk or county staff
    receipt_no: str = ""
    amount: Decimal | None = None
    date: str = ""
    key_id: str = ""


def parse_payload(code: str) -> tuple[str, Decimal, str, str, str] | None:
    """(receipt_no, amount, date, key_id, mac) or None when the text is not a TDR1 code."""
    parts = (code or "").strip().split("|")
    if len(parts) != 6 or parts[0] != PAYLOAD_PREFIX:
        return None
    _, receipt_no, amount_s, date, key_id, mac = parts
    try:
        amount = Decimal(amount_s)
        dt.date.fromisoformat(date)
    except (ArithmeticError, ValueError):
        return None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        return None
    return receipt_no, amount, date, key_id, mac.upper()


def verify_payload(code: str, keys: dict[str, bytes]) -> Verification:
    """Check a verification code against the keys a verifier holds ({key id: key})."""
    parsed = parse_payload(code)
    if parsed is None:
        return Verification(False, "不是有效的收据校验码（格式不符），请核对后重新输入")
    receipt_no, amount, date, key_id, mac = parsed
    key = keys.get(key_id)
    if key is None:
        return Verification(
            False,
            f"没有密钥“{key_id}”，无法核验此收据（可能不是本县开具的收据）",
            receipt_no,
            amount,
            date,
            key_id,
        )
    expected = compute_mac(key, mac_message(receipt_no, amount, date, key_id))
    if not hmac.compare_digest(expected, mac):
        return Verification(
            False,
            "校验失败：收据号、金额或日期与校验码不符，此收据可能被涂改或伪造",
            receipt_no,
            amount,
            date,
            key_id,
        )
    return Verification(
        True,
        f"校验通过：收据号 {receipt_no}，金额 {yuan(amount)} 元，缴费日期 {date}",
        receipt_no,
        amount,
        date,
        key_id,
    )


# --------------------------------------------------------------------------- receipt


@dataclass(frozen=True)
class ReceiptFacts:
    """Everything on a 参保缴费凭证 (domain notes §6), as gathered by the service."""

    service_point: str
    receipt_no: str
    name: str
    cert_type: str  # label, e.g. 居民身份证
    cert_no: str
    region: str  # e.g. 140121 山西省太原市清徐县
    insured_category: str  # label
    subsidy_category: str  # label
    year: int  # 参保年度
    amount_due: Decimal | str
    personal_amount: Decimal | str  # paid by the person (money taken at the window)
    subsidy_amount: Decimal | str  # paid by a department (资助参保)
    subsidy_payer: str  # who pays the subsidy, "" when none
    paid_at: str  # ISO date-time of the payment
    channel: str  # label, e.g. 现金
    benefit_start: str  # ISO date
    benefit_end: str
    waiting_months: int | str  # 0 = none; may be a text such as "30天"
    continuous_years: int
    operator: str
    insurance_type: str = "390"
    fiscal_subsidy: Decimal | str | None = None  # per-capita 财政补助 of the year, if known


def check_receipt_facts(f: ReceiptFacts) -> dict[str, Decimal]:
    """Raise ValidationError (Chinese, per field) for facts that must not be printed."""
    errors: dict[str, str] = {}
    _require_text(errors, "name", f.name, "参保人没有登记姓名，请先在“参保登记”中补全姓名再打印")
    _require_text(
        errors, "cert_no", f.cert_no, "参保人没有登记证件号码，请先在“参保登记”中补全后再打印"
    )
    _require_text(errors, "receipt_no", f.receipt_no, "缴费记录没有收据号，不能打印缴费凭证")
    due = _amount(errors, "amount_due", f.amount_due, "应缴金额")
    personal = _amount(errors, "personal_amount", f.personal_amount, "个人缴费金额")
    subsidy = _amount(errors, "subsidy_amount", f.subsidy_amount, "资助金额")
    if not errors and personal + subsidy != due:
        errors["amount_due"] = (
            f"应缴金额 {yuan(due)} 元不等于个人缴费 {yuan(personal)} 元与资助 {yuan(subsidy)} 元"
            "之和，请核对缴费记录"
        )
    if not errors and subsidy > 0 and not (f.subsidy_payer or "").strip():
        errors["subsidy_payer"] = "有资助金额时必须写明资助单位"
    if errors:
        raise ValidationError(errors)
    return {"due": due, "personal": personal, "subsidy": subsidy}


def receipt_document(
    f: ReceiptFacts,
    *,
    printed_at: str,
    mac_key: bytes,
    key_id: str,
    copy_no: int = 1,
    masked: bool = True,
) -> Document:
    amounts = check_receipt_facts(f)
    paid_date = fmt_date(f.paid_at)
    payload = verification_payload(
        mac_key, key_id, receipt_no=f.receipt_no, amount=amounts["personal"], date=paid_date
    )
    waiting_text = _waiting_label(f.waiting_months)
    itype = f.insurance_type
    person = Section(
        "参保人信息",
        [
            Field("姓名", f.name.strip(), "name"),
            Field(f.cert_type or "证件号码", show_id(f.cert_no, masked=masked), "cert_no"),
            Field("医保区划", f.region, "region"),
            Field("参保人员类别", f.insured_category, "insured_category"),
            Field("资助类别", f.subsidy_category, "subsidy_category"),
            Field("险种", f"{itype} {INSURANCE_TYPES.get(itype, '')}".strip(), "insurance_type"),
            Field("参保年度", f"{f.year}年度", "year"),
        ],
    )
    money_fields = [
        Field("应缴金额", money_text(amounts["due"]), "amount_due"),
        Field("个人缴费", money_text(amounts["personal"]), "personal_amount", strong=True),
        Field("资助金额", money_text(amounts["subsidy"]), "subsidy_amount"),
        Field("资助单位", f.subsidy_payer or "—", "subsidy_payer"),
    ]
    if f.fiscal_subsidy not in (None, ""):
        money_fields.append(
            Field(
                "人均财政补助",
                money_text(parse_amount(f.fiscal_subsidy)),
                "fiscal_subsidy",
            )
        )
    money_fields += [
        Field("缴费日期", fmt_time(f.paid_at), "paid_at"),
        Field("缴费方式", f.channel, "channel"),
        Field("收据号", f.receipt_no, "receipt_no"),
    ]
    benefit = Section(
        "待遇享受",
        [
            Field(
                "待遇享受期",
                benefit_period_text(f.benefit_start, f.benefit_end),
                "benefit_period",
                wide=True,
            ),
            Field("等待期", waiting_text, "waiting"),
            Field("连续参保年数", f"{f.continuous_years}年", "continuous_years"),
        ],
    )
    return Document(
        kind="receipt",
        key=f.receipt_no,
        title=KINDS["receipt"],
        issuer=f.service_point,
        number=f.receipt_no,
        sections=[person, Section("缴费信息", money_fields), benefit],
        notes=[
            "本凭证为参保缴费的证明，请妥善保管；扫描二维码或凭校验码可向县医保部门核验真伪。",
        ]
        + (["证件号码已做隐藏处理。"] if masked else []),
        footer=[
            Field("经办人", f.operator, "operator"),
            Field("打印时间", printed_at, "printed_at"),
        ],
        copy_no=copy_no,
        qr_payload=payload,
        masked=masked,
    )


# --------------------------------------------------------------------------- certificate


@dataclass(frozen=True)
class CertificateFacts:
    service_point: str
    enrollment_id: str
    name: str
    cert_type: str
    cert_no: str
    sex: str  # label
    birth_date: str
    village: str
    region: str
    insured_category: str
    subsidy_category: str
    year: int
    status: str  # label, e.g. 已缴费
    benefit_start: str
    benefit_end: str
    waiting_months: int | str
    continuous_years: int
    receipt_no: str  # the payment's receipt ("" when not paid)
    paid_amount: Decimal | str | None
    paid_at: str
    operator: str
    insurance_type: str = "390"


def certificate_document(
    f: CertificateFacts,
    *,
    printed_at: str,
    mac_key: bytes | None,
    key_id: str,
    copy_no: int = 1,
    masked: bool = True,
) -> Document:
    errors: dict[str, str] = {}
    _require_text(errors, "name", f.name, "参保人没有登记姓名，请先在“参保登记”中补全姓名再打印")
    _require_text(
        errors, "cert_no", f.cert_no, "参保人没有登记证件号码，请先在“参保登记”中补全后再打印"
    )
    paid = None
    if f.paid_amount not in (None, ""):
        paid = _amount(errors, "paid_amount", f.paid_amount, "缴费金额")
    if errors:
        raise ValidationError(errors)
    payload = ""
    if f.receipt_no and paid is not None and mac_key:
        payload = verification_payload(
            mac_key, key_id, receipt_no=f.receipt_no, amount=paid, date=fmt_date(f.paid_at)
        )
    waiting_text = _waiting_label(f.waiting_months)
    itype = f.insurance_type
    sections = [
        Section(
            "参保人信息",
            [
                Field("姓名", f.name.strip(), "name"),
                Field(f.cert_type or "证件号码", show_id(f.cert_no, masked=masked), "cert_no"),
                Field("性别", f.sex, "sex"),
                Field("出生日期", fmt_date(f.birth_date), "birth_date"),
                Field("村（居委会）", f.village or "—", "village"),
                Field("医保区划", f.region, "region"),
            ],
        ),
        Section(
            "参保信息",
            [
                Field("参保年度", f"{f.year}年度", "year"),
                Field(
                    "险种", f"{itype} {INSURANCE_TYPES.get(itype, '')}".strip(), "insurance_type"
                ),
                Field("参保人员类别", f.insured_category, "insured_category"),
                Field("资助类别", f.subsidy_category, "subsidy_category"),
                Field("参保状态", f.status, "status"),
                Field("连续参保年数", f"{f.continuous_years}年", "continuous_years"),
                Field(
                    "待遇享受期",
                    benefit_period_text(f.benefit_start, f.benefit_end)
                    if f.benefit_start
                    else "未缴费，暂无待遇",
                    "benefit_period",
                    wide=True,
                ),
                Field("等待期", waiting_text, "waiting"),
                Field("缴费收据号", f.receipt_no or "—", "receipt_no"),
                Field("缴费金额", money_text(paid) if paid is not None else "—", "paid_amount"),
                Field("缴费日期", fmt_date(f.paid_at) or "—", "paid_at"),
            ],
        ),
    ]
    return Document(
        kind="certificate",
        key=f.enrollment_id,
        title=KINDS["certificate"],
        issuer=f.service_point,
        number=f"{f.year}年度",
        sections=sections,
        notes=[
            f"兹证明上述人员已参加{f.year}年度城乡居民基本医疗保险。",
            "以上信息以县医保部门核定为准；扫描二维码可核验缴费收据。"
            if payload
            else "以上信息以县医保部门核定为准。",
        ],
        footer=[
            Field("经办人", f.operator, "operator"),
            Field("打印时间", printed_at, "printed_at"),
            Field("经办机构（盖章）", "", "stamp"),
        ],
        copy_no=copy_no,
        qr_payload=payload,
        masked=masked,
    )


# --------------------------------------------------------------------------- estimate


# national settlement names (domain notes §4) → what the sheet calls them
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
    main_codes = {"medfee_sumamt", "fund_pay_sumamt", "psn_part_amt"}
    totals = Table(
        "测算结果",
        ["项目", "金额（元）"],  # in words only: no settlement codes on a resident's paper
        [[label, yuan(a)] for code, label, a in amounts if code not in main_codes]
        + [[label, yuan(a)] for code, label, a in amounts if code in main_codes],
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
                s.rule,
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
