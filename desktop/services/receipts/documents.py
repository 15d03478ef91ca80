"""Building, numbering copies (补打), printing and saving documents; every copy audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core import receipt as core
from core.errors import ValidationError
from desktop.documents import render_documents
from desktop.services.context import Actor
from desktop.services.receipts.common import LIVE, PAYMENT_STATUS, SHEET_PAGE, PrintFailed
from desktop.services.receipts.facts import (
    _facts_to_json,
    certificate_facts,
    day_sheet_facts,
    estimate_facts,
    receipt_facts,
    receipt_facts_from_db,
)
from desktop.services.receipts.keys import mac_key
from desktop.store import Store, documents, payments
from desktop.store.journal import now_iso

# --------------------------------------------------------------------------- documents


def copies_handed_out(store: Store, kind: str, key: str) -> int:
    return documents.copies_handed_out(store, kind, key)


def print_history(store: Store, kind: str, key: str) -> list[dict]:
    return documents.print_history(store, kind, key)


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
        pay = payments.by_receipt_no(store, key)
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
        if documents.has_receipt_snapshot(db, receipt_no):
            return
        facts = receipt_facts_from_db(store, receipt_no)
        core.check_receipt_facts(facts)
        documents.insert_receipt_snapshot(
            db, receipt_no, _facts_to_json(facts), now_iso(), operator_id
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
    from desktop.services.settings import (
        get_settings,
    )  # deferred: avoids an import cycle with settings / the renderer

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
    from desktop.documents import (
        RenderCancelled,
    )  # deferred: avoids an import cycle with settings / the renderer

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
            documents.log_copy(
                db,
                kind=prepared.kind,
                key=key,
                copy_no=copy_no,
                status=status,
                printer=printer,
                at=at,
                operator_id=actor.operator_id,
                error=error,
                action=action,
                detail=detail,
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
