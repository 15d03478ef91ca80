"""Titles, the document model (plain data a renderer draws) and the formatting helpers shared by every document."""

from __future__ import annotations

import datetime as dt
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
class Chart:
    """A bar chart on paper (reports): one bar per category, series stacked when more than
    one; ``target`` draws a dashed line (the 参保率 target); ``marks`` one point per category
    (last year's rate)."""

    title: str
    categories: list[str]
    series: list[tuple[str, list[float]]]
    target: float | None = None
    target_label: str = ""
    marks: list[float | None] = field(default_factory=list)
    marks_label: str = ""
    unit: str = ""


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
    charts: list[Chart] = field(default_factory=list)  # reports only

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
            charts=[
                Chart(**{**c, "series": [tuple(x) for x in c["series"]]})
                for c in d.get("charts", [])
            ],
        )


def reprint_mark(copy_no: int) -> str:
    """``""`` for the original; ``补打（第1次）`` for the first reprint, and so on."""
    return "" if copy_no <= 1 else f"补打（第{copy_no - 1}次）"


# --------------------------------------------------------------------------- helpers


def region_label(code: str) -> str:
    """``140121 山西省清徐县`` (GB/T 2260 names from python-stdnum's table; the code alone
    when the table does not know it)."""
    from stdnum import numdb  # deferred: the region table loads when a region is named

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
