"""Paper at the window: make the PDF of a receipt, an enrollment certificate, an estimate
sheet or an operator's day sheet; record every print, reprint, failed print and saved PDF;
verify a receipt's code.

How printing is recorded (nothing is marked printed that was not):

1. :func:`prepare` (or :func:`prepare_batch`) builds the PDF for the NEXT copy of each
   document: copy 1 is the original, copy n > 1 is marked 补打（第n-1次）. The copy number is
   the number of copies already handed out (``print_log`` rows with status ``printed`` or
   ``saved``) plus one. Preparing writes nothing except, for a receipt, the snapshot of its
   content the first time (so a reprint shows what the original showed).
2. The caller sends the PDF to the printer (the GUI: :mod:`desktop.gui.print_support`), then
   calls :func:`record_printed` only when the printer accepted the job, or
   :func:`record_failed` with the error. :func:`print_with` does both around a ``send``
   function. :func:`save_pdf` writes the file and records ``saved`` (a saved PDF is a copy:
   the next copy is marked 补打).
3. Every outcome is one write transaction: a ``print_log`` row and an audit entry
   (``document.print``, ``document.reprint``, ``document.print_failed``, ``document.save``).

ID numbers are shown in full only on the original receipt and certificate handed to the
person; every other copy, the estimate sheet and the day sheet mask them (1101**********002X).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path

from core import receipt as core
from core.categories import CERT_TYPES, INSURED_CATEGORIES, SEXES, SUBSIDY_CATEGORIES
from core.errors import ValidationError
from core.estimate import LAYER_LABELS
from core.money import ZERO, parse_amount, yuan
from core.policy.benefits import SETTING_LABELS
from desktop.documents import render_documents
from desktop.services import estimate as est
from desktop.services.context import Actor
from desktop.store import Store
from desktop.store.journal import append_audit, canonical_json, new_id, now_iso
from desktop.store.numbering import parse_receipt_no  # noqa: F401 (the pages' way to read a number)

KINDS = tuple(core.KINDS)
KEY_MAC_KEY = "receipt.mac_key"  # hex; issued by the county, or made here on first use
KEY_MAC_KEY_ID = "receipt.mac_key_id"
KEY_MAC_RETIRED = "receipt.mac_keys_retired"  # {key id: hex}: earlier keys, still verified
CHANNEL_LABELS = {"cash": "现金", "qr": "扫码支付", "bank": "银行代扣/转账"}
PAYMENT_STATUS = {
    "local": "已缴费（待县级确认）",
    "confirmed": "已缴费（县级已确认）",
    "voided": "已作废",
    "refunded": "已退费",
}
LIVE = ("local", "confirmed")
SHEET_PAGE = "A4"  # estimate and day sheets: tables need the width


class PrintFailed(Exception):
    """The printer did not take the job; the message is for the clerk (Chinese)."""


# --------------------------------------------------------------------------- keys


def mac_key(store: Store, *, operator_id: str | None = None) -> tuple[str, bytes]:
    """(key id, key) used for receipt verification codes. A key issued by the county is set
    with :func:`set_mac_key`; without one, a random key is made on first use and kept in
    the settings (its id is the service point scope, e.g. ``SP01-01``) — the county needs a
    copy of it to check this desk's receipts."""
    key_hex = store.setting(KEY_MAC_KEY)
    key_id = store.setting(KEY_MAC_KEY_ID)
    if key_hex and key_id:
        return key_id, bytes.fromhex(key_hex)
    with store.write() as db:
        key_hex = store.setting(KEY_MAC_KEY)
        key_id = store.setting(KEY_MAC_KEY_ID)
        if key_hex and key_id:
            return key_id, bytes.fromhex(key_hex)
        from desktop.store.numbering import current_scope

        key_id = f"L-{current_scope(store)}"
        key_hex = secrets.token_hex(32)
        for k, v in ((KEY_MAC_KEY, key_hex), (KEY_MAC_KEY_ID, key_id)):
            db.conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (k, v),
            )
        append_audit(
            db,
            operator_id=operator_id,
            action="receipt.mac_key_create",
            entity="settings",
            entity_id=KEY_MAC_KEY_ID,
            detail={"key_id": key_id, "fingerprint": _fingerprint(bytes.fromhex(key_hex))},
        )
    return key_id, bytes.fromhex(key_hex)


def _fingerprint(key: bytes) -> str:
    import hashlib

    return hashlib.sha256(key).hexdigest()[:16]


def set_mac_key(store: Store, actor: Actor, key_id: str, key_hex: str) -> None:
    """Install the county's receipt key (supervisor; audited with a fingerprint only)."""
    actor.require_supervisor("设置收据校验密钥")
    _install_key(
        store, key_id, key_hex, operator_id=actor.operator_id, action="receipt.mac_key_set"
    )


def install_county_key(
    store: Store, key_id: str, key_hex: str, *, operator_id: str | None = None
) -> bool:
    """Install the receipt key the county holds for this service point (handed over at
    device registration). Audited with a fingerprint only; receipt numbering is untouched.
    Returns False when that key is already in use."""
    if (
        store.setting(KEY_MAC_KEY_ID) == (key_id or "").strip()
        and store.setting(KEY_MAC_KEY) == (key_hex or "").strip().lower()
    ):
        return False
    _install_key(store, key_id, key_hex, operator_id=operator_id, action="receipt.mac_key_county")
    return True


def _retired_keys(store: Store) -> dict[str, str]:
    try:
        return dict(json.loads(store.setting(KEY_MAC_RETIRED) or "{}"))
    except (ValueError, TypeError):
        return {}


def _install_key(
    store: Store, key_id: str, key_hex: str, *, operator_id: str | None, action: str
) -> None:
    key_id = (key_id or "").strip()
    errors = {}
    if not key_id or "|" in key_id or len(key_id) > 32:
        errors["key_id"] = "密钥编号应为1-32个字符，不能含“|”"
    try:
        key = bytes.fromhex((key_hex or "").strip())
        if len(key) < 16:
            raise ValueError
    except ValueError:
        errors["key"] = "密钥应为至少32位十六进制字符（县医保部门提供）"
        key = b""
    if errors:
        raise ValidationError(errors)
    with store.write() as db:
        # the key in use until now still checks the receipts it signed (here, not elsewhere)
        retired = _retired_keys(store)
        old_hex, old_id = store.setting(KEY_MAC_KEY), store.setting(KEY_MAC_KEY_ID)
        if old_hex and old_id and old_id != key_id:
            retired[old_id] = old_hex
        retired.pop(key_id, None)
        values = (
            (KEY_MAC_KEY, key.hex()),
            (KEY_MAC_KEY_ID, key_id),
            (KEY_MAC_RETIRED, canonical_json(retired)),
        )
        for k, v in values:
            db.conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (k, v),
            )
        append_audit(
            db,
            operator_id=operator_id,
            action=action,
            entity="settings",
            entity_id=KEY_MAC_KEY_ID,
            detail={"key_id": key_id, "fingerprint": _fingerprint(key), "replaced": old_id},
        )


# --------------------------------------------------------------------------- facts


def _data_dir(store: Store) -> Path | None:
    return Path(store.path).parent if store.path is not None else None


def _service_point(store: Store) -> dict:
    sp = store.query_one("SELECT * FROM service_point LIMIT 1")
    if sp is None:
        raise ValidationError({"service_point": "尚未完成服务点设置，不能打印单据"})
    return sp


def _waiting_text(unit: str | None, n: int | None) -> str:
    if not n:
        return "无等待期"
    return f"{n}天" if unit == "days" else f"{n}个月"


def _payment_row(store: Store, receipt_no: str) -> dict:
    row = store.query_one(
        "SELECT pay.*, p.name, p.cert_type, p.cert_no, p.region_code,"
        " p.insured_category AS p_insured, p.subsidy_category AS p_subsidy,"
        " e.insured_category AS e_insured, e.subsidy_category AS e_subsidy,"
        " e.insurance_type, e.subsidized_amount, e.subsidized_by, e.benefits_from,"
        " e.benefits_to, e.waiting_unit, e.waiting, e.continuous_years, e.terms_json,"
        " o.display_name AS operator FROM payment pay"
        " JOIN person p ON p.id = pay.person_id"
        " LEFT JOIN enrollment e ON e.id = pay.enrollment_id"
        " LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.receipt_no = ?",
        ((receipt_no or "").strip().upper(),),
    )
    if row is None:
        raise ValidationError({"receipt_no": f"找不到收据号为“{receipt_no}”的缴费记录"})
    return row


def receipt_facts_from_db(store: Store, receipt_no: str) -> core.ReceiptFacts:
    row = _payment_row(store, receipt_no)
    sp = _service_point(store)
    terms = json.loads(row["terms_json"]) if row.get("terms_json") else {}
    subsidy = row.get("subsidized_amount") or "0.00"
    try:
        personal = parse_amount(row["amount"], field="personal_amount", label="个人缴费金额")
        sub = parse_amount(subsidy, field="subsidy_amount", label="资助金额")
    except ValidationError as e:
        raise ValidationError(
            {k: f"缴费记录中的金额有误：{v}" for k, v in e.errors.items()}
        ) from None
    insured = row.get("e_insured") or row.get("p_insured") or ""
    sub_cat = row.get("e_subsidy") or row.get("p_subsidy") or "none"
    return core.ReceiptFacts(
        service_point=sp["name"],
        receipt_no=row["receipt_no"],
        name=row.get("name") or "",
        cert_type=CERT_TYPES.get(row.get("cert_type") or "", "证件号码"),
        cert_no=row.get("cert_no") or "",
        region=core.region_label(row.get("region_code") or ""),
        insured_category=INSURED_CATEGORIES.get(insured, insured),
        subsidy_category=SUBSIDY_CATEGORIES.get(sub_cat, sub_cat),
        year=int(row["year"]),
        amount_due=str(personal + sub),
        personal_amount=str(personal),
        subsidy_amount=str(sub),
        subsidy_payer=row.get("subsidized_by") or "",
        paid_at=row["paid_on"],
        channel=CHANNEL_LABELS.get(row["channel"], row["channel"]),
        benefit_start=row.get("benefits_from") or "",
        benefit_end=row.get("benefits_to") or "",
        waiting_months=_waiting_text(row.get("waiting_unit"), row.get("waiting")),
        continuous_years=int(row.get("continuous_years") or 0),
        operator=row.get("operator") or "",
        insurance_type=row.get("insurance_type") or "390",
        fiscal_subsidy=terms.get("subsidy"),
    )


def _facts_to_json(facts) -> str:
    return canonical_json(asdict(facts))


def receipt_facts(store: Store, receipt_no: str) -> core.ReceiptFacts:
    """The receipt's facts: the snapshot taken when it was first made, else from the db."""
    snap = store.query_one(
        "SELECT content FROM document_snapshot WHERE doc_kind = 'receipt' AND doc_key = ?",
        ((receipt_no or "").strip().upper(),),
    )
    if snap:
        return core.ReceiptFacts(**json.loads(snap["content"]))
    return receipt_facts_from_db(store, receipt_no)


def certificate_facts(store: Store, enrollment_id: str) -> core.CertificateFacts:
    row = store.query_one(
        "SELECT e.*, p.name, p.cert_type, p.cert_no, p.sex, p.birth_date, p.region_code,"
        " v.name AS village FROM enrollment e JOIN person p ON p.id = e.person_id"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id WHERE e.id = ?",
        (enrollment_id or "",),
    )
    if row is None:
        raise ValidationError({"enrollment": "找不到该参保记录"})
    sp = _service_point(store)
    pay = store.query_one(
        "SELECT pay.*, o.display_name AS operator FROM payment pay"
        " LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.person_id = ? AND pay.year = ? AND pay.status IN ('local','confirmed')",
        (row["person_id"], row["year"]),
    )
    subsidized = (row.get("subsidized_by") or "") and (row.get("amount_due") or "") == "0.00"
    if pay is None and not subsidized:
        raise ValidationError(
            {
                "enrollment": f"{row['name']} {row['year']}年度尚未缴费，不能打印参保凭证；"
                "请先在“缴费查询”中收费"
            }
        )
    if pay is not None:
        status = PAYMENT_STATUS.get(pay["status"], pay["status"])
    else:
        status = f"资助参保（{row['subsidized_by']}全额代缴）"
    return core.CertificateFacts(
        service_point=sp["name"],
        enrollment_id=row["id"],
        name=row.get("name") or "",
        cert_type=CERT_TYPES.get(row.get("cert_type") or "", "证件号码"),
        cert_no=row.get("cert_no") or "",
        sex=SEXES.get(row.get("sex") or "", ""),
        birth_date=row.get("birth_date") or "",
        village=row.get("village") or "",
        region=core.region_label(row.get("region_code") or ""),
        insured_category=INSURED_CATEGORIES.get(row["insured_category"], row["insured_category"]),
        subsidy_category=SUBSIDY_CATEGORIES.get(
            row.get("subsidy_category") or "none", row.get("subsidy_category") or ""
        ),
        year=int(row["year"]),
        status=status,
        benefit_start=row.get("benefits_from") or "",
        benefit_end=row.get("benefits_to") or "",
        waiting_months=_waiting_text(row.get("waiting_unit"), row.get("waiting")),
        continuous_years=int(row.get("continuous_years") or 0),
        receipt_no=pay["receipt_no"] if pay else "",
        paid_amount=pay["amount"] if pay else None,
        paid_at=pay["paid_on"] if pay else "",
        operator=(pay.get("operator") if pay else "") or "",
        insurance_type=row.get("insurance_type") or "390",
    )


def estimate_facts(store: Store, estimate_id: str) -> core.EstimateFacts:
    e = est.get(store, estimate_id)
    if e is None:
        raise ValidationError({"estimate": "找不到该测算记录"})
    sp = _service_point(store)
    person = (
        store.query_one("SELECT * FROM person WHERE id = ?", (e["person_id"],))
        if e.get("person_id")
        else None
    )
    result = e["result"]
    inp = e.get("input") or {}
    level = result.get("level") or inp.get("level") or inp.get("price_class") or ""
    policy_title = ""
    try:
        from desktop.services import policies

        pol = policies.get(e["policy_id"], _data_dir(store))
        policy_title = pol.title
        section = pol.section(e.get("setting") or "")
        level = f"{section.levels[level].label}" if level in section.levels else level
    except Exception:  # noqa: BLE001 - a policy file removed since: print the code
        pass
    steps = [
        core.EstimateStep(
            layer={**LAYER_LABELS, "total": "合计"}.get(s.get("layer", ""), s.get("layer", "")),
            rule=s.get("rule", ""),
            text=s.get("text", ""),
            source=s.get("source", ""),
        )
        for s in result.get("steps", [])
    ]
    cat = (person or {}).get("insured_category") or inp.get("category") or ""
    return core.EstimateFacts(
        service_point=sp["name"],
        estimate_id=e["id"],
        name=(person or {}).get("name") or e.get("anon_label") or "",
        cert_no=(person or {}).get("cert_no") or "",
        insured_category=INSURED_CATEGORIES.get(cat, cat),
        year=int(e["year"]),
        setting=SETTING_LABELS.get(e.get("setting") or "", e.get("setting") or ""),
        level=str(level),
        totals={k: result[k] for k in core.ESTIMATE_TOTALS if result.get(k) not in (None, "")},
        steps=steps,
        made_at=e["created_at"],
        operator=e.get("operator") or "",
        policy=policy_title,
        caveats=tuple(_estimate_caveats(store, e)),
        settled=bool(e.get("settled")),
    )


def _estimate_caveats(store: Store, e: dict) -> list[str]:
    """The same warnings the page shows, printed on the sheet (issue 11: the paper never
    drops what the screen says)."""
    try:
        return est.caveats(
            store,
            policy_id=e["policy_id"],
            person_id=e.get("person_id"),
            year=int(e["year"]),
            data_dir=_data_dir(store),
        )
    except ValidationError:  # the policy file is gone since: say so rather than nothing
        return ["本测算所用的政策文件已不在本机，测算结果仅供参考。"]


def day_sheet_key(operator_id: str, day: str | dt.date) -> str:
    d = day.isoformat() if isinstance(day, dt.date) else str(day)
    return f"{operator_id}:{d}"


def day_sheet_facts(store: Store, key: str) -> core.DaySheetFacts:
    operator_id, _, day = (key or "").partition(":")
    try:
        dt.date.fromisoformat(day)
    except ValueError:
        raise ValidationError({"day": "日期格式应为 YYYY-MM-DD"}) from None
    op = store.query_one("SELECT * FROM operator WHERE id = ?", (operator_id,))
    if op is None:
        raise ValidationError({"operator": "找不到该经办人"})
    sp = _service_point(store)
    rows = store.query(
        "SELECT pay.*, p.name, p.cert_no FROM payment pay JOIN person p ON p.id = pay.person_id"
        " WHERE pay.operator_id = ? AND pay.paid_on = ? ORDER BY pay.receipt_no",
        (operator_id, day),
    )
    lines = [
        core.DayLine(
            receipt_no=r["receipt_no"] or "",
            time=r["created_at"],
            name=r["name"],
            cert_no=r["cert_no"],
            year=int(r["year"]),
            channel=CHANNEL_LABELS.get(r["channel"], r["channel"]),
            amount=r["amount"],
            voided=r["status"] not in LIVE,
            void_reason=(
                ("退费：" if r["status"] == "refunded" else "") + (r.get("void_reason") or "")
            ),
            voided_at=r.get("voided_at") or "",
        )
        for r in rows
    ]
    return core.DaySheetFacts(sp["name"], op["display_name"], operator_id, day, lines)


# --------------------------------------------------------------------------- documents


def copies_handed_out(store: Store, kind: str, key: str) -> int:
    row = store.query_one(
        "SELECT COUNT(*) AS n FROM print_log WHERE doc_kind = ? AND doc_key = ?"
        " AND status IN ('printed', 'saved')",
        (kind, key),
    )
    return int(row["n"]) if row else 0


def print_history(store: Store, kind: str, key: str) -> list[dict]:
    return store.query(
        "SELECT l.*, o.display_name AS operator FROM print_log l"
        " LEFT JOIN operator o ON o.id = l.operator_id"
        " WHERE l.doc_kind = ? AND l.doc_key = ? ORDER BY l.at, l.copy_no",
        (kind, key),
    )


def _normal_key(kind: str, key: str) -> str:
    if kind not in core.KINDS:
        raise ValidationError({"kind": f"未知的单据种类“{kind}”"})
    key = (key or "").strip()
    return key.upper() if kind == "receipt" else key


def build_document(
    store: Store,
    kind: str,
    key: str,
    *,
    copy_no: int,
    printed_at: str | None = None,
    operator_id: str | None = None,
) -> core.Document:
    """The content of copy ``copy_no`` of one document (raises ValidationError with a
    Chinese message per field when it cannot be printed)."""
    key = _normal_key(kind, key)
    printed_at = printed_at or core.fmt_time(now_iso())
    if kind == "receipt":
        facts = receipt_facts(store, key)
        pay = store.query_one("SELECT status FROM payment WHERE receipt_no = ?", (key,))
        if pay is not None and pay["status"] not in LIVE:
            raise ValidationError(
                {"receipt_no": f"收据 {key} 对应的缴费{PAYMENT_STATUS[pay['status']]}，不能打印"}
            )
        key_id, k = mac_key(store, operator_id=operator_id)
        return core.receipt_document(
            facts,
            printed_at=printed_at,
            mac_key=k,
            key_id=key_id,
            copy_no=copy_no,
            masked=copy_no > 1,
        )
    if kind == "certificate":
        facts = certificate_facts(store, key)
        key_id, k = mac_key(store, operator_id=operator_id)
        return core.certificate_document(
            facts,
            printed_at=printed_at,
            mac_key=k,
            key_id=key_id,
            copy_no=copy_no,
            masked=copy_no > 1,
        )
    if kind == "estimate":
        return core.estimate_document(
            estimate_facts(store, key), printed_at=printed_at, copy_no=copy_no
        )
    return core.day_sheet_document(
        day_sheet_facts(store, key), printed_at=printed_at, copy_no=copy_no
    )


def _snapshot_receipt(store: Store, receipt_no: str, operator_id: str | None) -> None:
    """Freeze a receipt's facts the first time it is made (checked, so a receipt that
    cannot be printed leaves no snapshot)."""
    with store.write() as db:
        if db.conn.execute(
            "SELECT 1 FROM document_snapshot WHERE doc_kind = 'receipt' AND doc_key = ?",
            (receipt_no,),
        ).fetchone():
            return
        facts = receipt_facts_from_db(store, receipt_no)
        core.check_receipt_facts(facts)
        db.conn.execute(
            "INSERT INTO document_snapshot(doc_kind, doc_key, content, created_at, operator_id)"
            " VALUES ('receipt', ?, ?, ?, ?)",
            (receipt_no, _facts_to_json(facts), now_iso(), operator_id),
        )


@dataclass(frozen=True)
class Prepared:
    """A PDF ready to print: one document, or a batch (one document per page group)."""

    kind: str
    items: list[tuple[str, int]]  # (key, copy no) of each document in the PDF
    pdf: bytes
    page: str
    title: str
    filename: str
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (key, why) not included

    @property
    def key(self) -> str:
        return self.items[0][0]

    @property
    def copy_no(self) -> int:
        return self.items[0][1]

    @property
    def is_reprint(self) -> bool:
        return any(c > 1 for _k, c in self.items)


def _page_for(store: Store, kind: str, page: str | None) -> str:
    if page:
        page = page.upper()
        if page not in ("A4", "A5"):
            raise ValidationError({"page": "纸张只能选 A4 或 A5"})
        return page
    if kind in ("estimate", "day_sheet"):
        return SHEET_PAGE
    from desktop.services.settings import get_settings

    return get_settings(store).paper  # the 纸张 the supervisor chose (A4 when not set)


def _filename(doc, copy_no: int, today: dt.date | None = None) -> str:
    """A name a clerk recognises in a folder: 测算单_韩长根_2026-12-02.pdf (the person's name,
    or the sheet's number for a 日结单), never an internal id."""
    who = doc.field_values().get("name") or doc.number or ""
    safe = "".join(ch for ch in who if ch.isalnum() or ch in "-_·")[:30] or "单据"
    suffix = f"_补打{copy_no - 1}" if copy_no > 1 else ""
    # a receipt is known by its number; other papers by the day they were made
    tail = doc.number if doc.kind == "receipt" else (today or dt.date.today()).isoformat()
    return f"{core.SHORT_TITLES[doc.kind]}_{safe}_{tail}{suffix}.pdf"


def prepare(
    store: Store, actor: Actor, kind: str, key: str, *, page: str | None = None
) -> Prepared:
    """The PDF of the next copy of one document. Raises ValidationError when it cannot
    be printed (no name or ID on file, an amount with more than two decimals, …)."""
    key = _normal_key(kind, key)
    if kind == "receipt":
        _snapshot_receipt(store, key, actor.operator_id)
    copy_no = copies_handed_out(store, kind, key) + 1
    doc = build_document(store, kind, key, copy_no=copy_no, operator_id=actor.operator_id)
    page = _page_for(store, kind, page)
    pdf = render_documents([doc], page=page)
    return Prepared(kind, [(key, copy_no)], pdf, page, doc.title, _filename(doc, copy_no))


def prepare_batch(
    store: Store,
    actor: Actor,
    kind: str,
    keys: Sequence[str],
    *,
    page: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Prepared:
    """One PDF with the next copy of each document (e.g. a village's certificates).
    Documents that cannot be printed are skipped and listed in ``skipped`` with why.
    ``progress(done, total)``; ``cancelled()`` True stops with RenderCancelled."""
    from desktop.documents import RenderCancelled

    docs, items, skipped = [], [], []
    total = len(keys)
    for i, raw in enumerate(keys):
        if cancelled is not None and cancelled():
            raise RenderCancelled()
        key = _normal_key(kind, raw)
        try:
            if kind == "receipt":
                _snapshot_receipt(store, key, actor.operator_id)
            copy_no = copies_handed_out(store, kind, key) + 1
            doc = build_document(store, kind, key, copy_no=copy_no, operator_id=actor.operator_id)
        except ValidationError as e:
            skipped.append((key, str(e)))
            continue
        docs.append(doc)
        items.append((key, copy_no))
        if progress is not None:
            progress(i + 1, total * 2)
    if not docs:
        raise ValidationError(
            {"batch": "没有可打印的单据" + (f"：{skipped[0][1]}" if skipped else "")}
        )
    page = _page_for(store, kind, page)
    pdf = render_documents(
        docs,
        page=page,
        progress=(lambda n: progress(total + n * total // len(docs), total * 2))
        if progress
        else None,
        cancelled=cancelled,
    )
    title = f"{core.SHORT_TITLES[kind]}（{len(docs)}份）"
    return Prepared(
        kind, items, pdf, page, title, f"{core.SHORT_TITLES[kind]}-批量{len(docs)}份.pdf", skipped
    )


def _record(
    store: Store,
    actor: Actor,
    prepared: Prepared,
    *,
    status: str,
    printer: str = "",
    error: str = "",
    path: str = "",
) -> None:
    at = now_iso()
    with store.write() as db:
        for key, copy_no in prepared.items:
            db.conn.execute(
                "INSERT INTO print_log(id, doc_kind, doc_key, copy_no, status, printer, at,"
                " operator_id, error) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    new_id(),
                    prepared.kind,
                    key,
                    copy_no,
                    status,
                    printer,
                    at,
                    actor.operator_id,
                    error,
                ),
            )
            if status == "printed":
                action = "document.reprint" if copy_no > 1 else "document.print"
            elif status == "saved":
                action = "document.save"
            else:
                action = "document.print_failed"
            detail = {"kind": prepared.kind, "copy_no": copy_no, "page": prepared.page}
            if copy_no > 1:
                detail["mark"] = core.reprint_mark(copy_no)
            if printer:
                detail["printer"] = printer
            if error:
                detail["error"] = error
            if path:
                detail["path"] = path
            append_audit(
                db,
                operator_id=actor.operator_id,
                action=action,
                entity=prepared.kind,
                entity_id=key,
                detail=detail,
                at=at,
            )


def record_printed(store: Store, actor: Actor, prepared: Prepared, *, printer: str) -> None:
    """The printer accepted the job: count the copies and audit them."""
    _record(store, actor, prepared, status="printed", printer=printer or "")


def record_failed(
    store: Store, actor: Actor, prepared: Prepared, *, printer: str, error: str
) -> None:
    """The job did not print: audit the failure; the copy is not counted."""
    _record(store, actor, prepared, status="failed", printer=printer or "", error=error or "")


def print_with(store: Store, actor: Actor, prepared: Prepared, send: Callable[[bytes], str]) -> str:
    """Send the PDF with ``send(pdf) -> printer name`` (raises on failure); record the
    outcome. Raises :class:`PrintFailed` with a message for the clerk when it failed."""
    try:
        printer = send(prepared.pdf)
    except Exception as e:  # noqa: BLE001 - any printer error is reported, none is hidden
        record_failed(store, actor, prepared, printer="", error=f"{type(e).__name__}: {e}")
        raise PrintFailed(
            f"打印失败：{e}。单据没有记为已打印，请检查打印机（电源、纸张、连接）后重新打印。"
        ) from e
    record_printed(store, actor, prepared, printer=printer)
    return printer


def save_pdf(store: Store, actor: Actor, prepared: Prepared, path: str | Path) -> Path:
    """Write the PDF (a temp file renamed into place) and record it as a saved copy."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() != ".pdf":  # a folder, existing or to be made
        path = path / prepared.filename
    tmp = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(prepared.pdf)
        tmp.replace(path)
    except OSError as e:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise ValidationError({"path": f"无法保存到 {path}：{e.strerror or e}"}) from e
    _record(store, actor, prepared, status="saved", path=str(path))
    return path


# --------------------------------------------------------------------------- lists


def recent_receipts(store: Store, *, limit: int = 100, query: str = "") -> list[dict]:
    """Recent payments with receipts (newest first), with how often each was handed out."""
    like = f"%{query.strip()}%"
    rows = store.query(
        "SELECT pay.receipt_no, pay.paid_on, pay.amount, pay.channel, pay.status, pay.year,"
        " p.name, p.cert_no, o.display_name AS operator,"
        " (SELECT COUNT(*) FROM print_log l WHERE l.doc_kind = 'receipt'"
        "   AND l.doc_key = pay.receipt_no AND l.status IN ('printed','saved')) AS copies"
        " FROM payment pay JOIN person p ON p.id = pay.person_id"
        " LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.receipt_no IS NOT NULL AND (? = '%%' OR pay.receipt_no LIKE ?"
        "   OR p.name LIKE ? OR p.cert_no LIKE ?)"
        " ORDER BY pay.created_at DESC, pay.receipt_no DESC LIMIT ?",
        (like, like, like, like, limit),
    )
    for r in rows:
        r["cert_masked"] = core.mask_id(r["cert_no"]) if r["cert_no"] else ""
        r["channel_label"] = CHANNEL_LABELS.get(r["channel"], r["channel"])
        r["status_label"] = PAYMENT_STATUS.get(r["status"], r["status"])
    return rows


def certificate_list(store: Store, *, year: int, village_id: str | None = None) -> list[dict]:
    """Enrollments of ``year`` (optionally one village) with whether a certificate can be
    printed (paid or fully subsidized) and how often it was handed out."""
    sql = (
        "SELECT e.id AS enrollment_id, e.year, p.name, p.cert_no, v.name AS village,"
        " e.subsidized_by, e.amount_due,"
        " (SELECT pay.status FROM payment pay WHERE pay.person_id = e.person_id"
        "   AND pay.year = e.year AND pay.status IN ('local','confirmed')) AS pay_status,"
        " (SELECT COUNT(*) FROM print_log l WHERE l.doc_kind = 'certificate'"
        "   AND l.doc_key = e.id AND l.status IN ('printed','saved')) AS copies"
        " FROM enrollment e JOIN person p ON p.id = e.person_id"
        " LEFT JOIN household h ON h.id = p.household_id"
        " LEFT JOIN village v ON v.id = h.village_id WHERE e.year = ?"
    )
    params: list = [int(year)]
    if village_id:
        sql += " AND h.village_id = ?"
        params.append(village_id)
    sql += " ORDER BY v.name, p.name_pinyin, p.name"
    rows = store.query(sql, params)
    for r in rows:
        r["cert_masked"] = core.mask_id(r["cert_no"]) if r["cert_no"] else ""
        subsidized = bool(r["subsidized_by"]) and r["amount_due"] == "0.00"
        r["printable"] = bool(r["pay_status"]) or subsidized
        r["status_label"] = (
            PAYMENT_STATUS.get(r["pay_status"], "")
            if r["pay_status"]
            else ("资助参保" if subsidized else "未缴费")
        )
    return rows


def day_sheet_list(store: Store, *, limit: int = 60) -> list[dict]:
    """(operator, day) pairs that have payments, newest first, with count and sum."""
    rows = store.query(
        "SELECT pay.operator_id, o.display_name AS operator, pay.paid_on AS day,"
        " COUNT(*) AS n, SUM(pay.status IN ('local','confirmed')) AS live"
        " FROM payment pay LEFT JOIN operator o ON o.id = pay.operator_id"
        " WHERE pay.operator_id IS NOT NULL"
        " GROUP BY pay.operator_id, pay.paid_on ORDER BY pay.paid_on DESC, o.display_name"
        " LIMIT ?",
        (limit,),
    )
    for r in rows:
        r["key"] = day_sheet_key(r["operator_id"], r["day"])
        amounts = store.query(
            "SELECT amount FROM payment WHERE operator_id = ? AND paid_on = ?"
            " AND status IN ('local','confirmed')",
            (r["operator_id"], r["day"]),
        )
        r["sum"] = yuan(sum((Decimal(a["amount"]) for a in amounts), ZERO))
    return rows


# --------------------------------------------------------------------------- verify


def verify(store: Store, code: str) -> dict:
    """Check a verification code with this desk's key; when the receipt is on file, also
    compare it with the payment. Returns {"ok", "message", "receipt_no", "amount", "date",
    "on_file", "status"}."""
    keys: dict[str, bytes] = {k: bytes.fromhex(v) for k, v in _retired_keys(store).items()}
    key_hex, key_id = store.setting(KEY_MAC_KEY), store.setting(KEY_MAC_KEY_ID)
    if key_hex and key_id:
        keys[key_id] = bytes.fromhex(key_hex)
    v = core.verify_payload(code, keys)
    out = {
        "ok": v.ok,
        "message": v.message,
        "receipt_no": v.receipt_no,
        "amount": yuan(v.amount) if v.amount is not None else "",
        "date": v.date,
        "on_file": False,
        "status": "",
    }
    if not v.ok:
        return out
    pay = store.query_one(
        "SELECT amount, paid_on, status FROM payment WHERE receipt_no = ?", (v.receipt_no,)
    )
    if pay is not None:
        out["on_file"] = True
        out["status"] = PAYMENT_STATUS.get(pay["status"], pay["status"])
        if Decimal(pay["amount"]) != v.amount or pay["paid_on"] != v.date:
            out["ok"] = False
            out["message"] = "校验码有效，但与本机缴费记录的金额或日期不一致，请联系县医保部门核查"
        elif pay["status"] not in LIVE:
            out["ok"] = False
            out["message"] = f"校验码有效，但该缴费{out['status']}，此收据已失效"
        else:
            out["message"] = v.message + f"；本机记录：{out['status']}"
    return out


# --------------------------------------------------------------------------- demo


def _demo_payments(store: Store, actor: Actor) -> list[str]:
    """Make sure the demo clerk's collection day shows every channel and one void, recording
    what is missing through the contribution service (the demo residents' payments may
    already exist from the contribution seeder). Returns the receipts of that day."""
    from desktop.services import contribution

    year = 2025  # the year of the shipped national policy file; paid in its collection period
    row = store.query_one(
        "SELECT paid_on, COUNT(*) AS n FROM payment WHERE operator_id = ? AND year = ?"
        " GROUP BY paid_on ORDER BY n DESC, paid_on LIMIT 1",
        (actor.operator_id, year),
    )
    day = row["paid_on"] if row else "2024-11-15"

    def of_day() -> list[dict]:
        return store.query(
            "SELECT id, receipt_no, channel, status FROM payment WHERE operator_id = ?"
            " AND paid_on = ? ORDER BY receipt_no",
            (actor.operator_id, day),
        )

    def unpaid() -> list[str]:
        return [
            r["id"]
            for r in store.query(
                "SELECT p.id FROM person p WHERE NOT EXISTS (SELECT 1 FROM payment pay"
                " WHERE pay.person_id = p.id AND pay.year = ? AND pay.status IN"
                " ('local','confirmed')) ORDER BY p.created_at, p.rowid",
                (year,),
            )
        ]

    def collect(channel: str) -> str | None:
        for pid in unpaid():
            try:
                q = contribution.quote(store, pid, year, day)
                if Decimal(q["amount_due"]) <= 0:
                    continue
                r = contribution.record_payment(
                    store,
                    actor,
                    {
                        "person_id": pid,
                        "year": year,
                        "amount": q["amount_due"],
                        "channel": channel,
                        "paid_on": day,
                    },
                    today=dt.date.fromisoformat(day),  # collected at the window that day
                )
            except ValidationError:
                continue
            return r["payment"]["id"]
        return None

    have = {r["channel"] for r in of_day() if r["status"] in LIVE}
    for channel in ("cash", "qr", "bank"):
        if channel not in have:
            collect(channel)
    sup = store.query_one(
        "SELECT id, username, display_name FROM operator WHERE role = 'supervisor'"
        " AND active = 1 ORDER BY created_at LIMIT 1"
    )
    if sup is not None and not any(r["status"] not in LIVE for r in of_day()):
        pid = collect("qr")
        if pid is not None:  # one demo void, allowed by the demo supervisor
            supervisor = Actor(
                sup["id"],
                sup["username"],
                sup["display_name"],
                "supervisor",
                actor.service_point_id,
            )
            contribution.void_payment(
                store, actor, pid, reason="演示：收费后发现重复登记", supervisor=supervisor
            )
    return [r["receipt_no"] for r in of_day() if r["receipt_no"]]


def _demo_estimate(store: Store, actor: Actor) -> str | None:
    from desktop.services import estimate as est

    row = store.query_one("SELECT id FROM estimate ORDER BY created_at LIMIT 1")
    if row:
        return row["id"]
    person = store.query_one("SELECT id FROM person WHERE name = '李建国'") or store.query_one(
        "SELECT id FROM person ORDER BY created_at LIMIT 1"
    )
    given = {
        "setting": "inpatient",
        "price_class": "class3",
        "admission_no": 1,
        "total": "12000.00",
        "in_policy": "10000.00",
        "basic_paid_ytd": "0.00",
    }
    try:
        saved = est.save(
            store,
            actor,
            policy_id="shanxi-2025",
            given=given,
            person_id=person["id"] if person else None,
            anon_label="" if person else "演示",
            year=2025,
            data_dir=_data_dir(store),
        )
    except ValidationError:
        return None
    return saved["id"]


def write_demo_documents(store: Store, actor: Actor, out_dir: str | Path) -> list[Path]:
    """One PDF of each kind from demo data (``township-desk --demo --documents DIR``): a
    receipt, a reprint of it (补打), an enrollment certificate, an estimate sheet and the
    day sheet of the demo payments. Demo payments and an estimate are recorded through
    the ordinary services when the store has none. Saved copies are recorded as such."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    receipts = _demo_payments(store, actor)
    if not receipts:
        raise ValidationError({"demo": "没有可用的演示缴费记录，无法生成演示单据"})
    written: list[Path] = []

    def save(kind: str, key: str, name: str, page: str | None = None) -> None:
        p = prepare(store, actor, kind, key, page=page)
        written.append(save_pdf(store, actor, p, out / name))

    live = store.query(
        "SELECT receipt_no FROM payment WHERE status IN ('local','confirmed')"
        f" AND receipt_no IN ({','.join('?' * len(receipts))}) ORDER BY receipt_no",
        receipts,
    )
    if not live:
        raise ValidationError({"demo": "没有可用的演示缴费记录，无法生成演示单据"})
    first = live[0]["receipt_no"]
    save("receipt", first, "receipt.pdf", "A5")  # the half-page layout
    save("receipt", first, "receipt-reprint.pdf", "A5")
    pay = store.query_one(
        "SELECT enrollment_id, operator_id, paid_on FROM payment WHERE receipt_no = ?", (first,)
    )
    if pay and pay["enrollment_id"]:
        save("certificate", pay["enrollment_id"], "certificate.pdf")
    est_id = _demo_estimate(store, actor)
    if est_id:
        save("estimate", est_id, "estimate.pdf")
    if pay:
        save("day_sheet", day_sheet_key(pay["operator_id"], pay["paid_on"]), "day-sheet.pdf")
    return written
