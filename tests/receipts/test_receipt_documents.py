"""Every kind of document: the PDF's text carries every field, every font is embedded, A4
and A5 layouts, reprints marked 补打 with their count and masked ID, PNG renders."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from pypdf import PdfReader

from core.ids import mask_id
from core.money import yuan
from desktop.services import estimate as est
from desktop.services import receipts
from desktop.store.numbering import parse_receipt_no

from .conftest import PAID_ON, YEAR, flat, pdf_fonts, pdf_text

A4_PT = (595.28, 841.89)
A5_PT = (419.53, 595.28)


def _page_size(pdf: bytes) -> tuple[float, float]:
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width), 2), round(float(box.height), 2)


def _all_embedded(pdf: bytes) -> None:
    fonts = pdf_fonts(pdf)
    assert fonts, "no font found in the PDF"
    assert all(emb for _name, emb in fonts), fonts
    assert all("WenQuanYi" in name or "Hana" in name or "SimSun" in name for name, _ in fonts)


def test_receipt_original_has_every_field(store, clerk, paid):
    pay = paid["payments"]["张三"]
    no = pay["receipt_no"]
    prepared = receipts.prepare(store, clerk, "receipt", no)
    assert prepared.copy_no == 1 and not prepared.is_reprint
    text = flat(pdf_text(prepared.pdf))
    cert = paid["certs"]["张三"]
    amount = yuan(Decimal(pay["payment"]["amount"]))
    for expected in (
        "城乡居民基本医疗保险参保缴费凭证",
        "示范乡卫生院",
        "张三",
        cert,  # the original handed to the person shows the full number
        "140121山西省清徐县",
        "普通居民",
        "无资助",
        "390城乡居民基本医疗保险",
        f"{YEAR}年度",
        f"应缴金额{amount}元",
        f"个人缴费{amount}元",
        "资助金额0.00元",
        f"缴费日期{PAID_ON}",
        "缴费方式现金",
        f"收据号{no}",
        f"No.{no}",
        "待遇享受期2025-01-01至2025-12-31",
        "等待期无等待期",
        "连续参保年数",
        "经办人：李经办",
        "打印时间：",
        f"校验码：TDR1|{no}|{amount}|{PAID_ON}|",
    ):
        assert expected in text, expected
    assert "补打" not in text
    _all_embedded(prepared.pdf)
    assert _page_size(prepared.pdf) == A4_PT  # the settings' default paper


def test_reprint_marked_with_count_and_masked(store, clerk, paid):
    no = paid["payments"]["李四"]["receipt_no"]
    cert = paid["certs"]["李四"]
    first = receipts.prepare(store, clerk, "receipt", no)
    receipts.record_printed(store, clerk, first, printer="HP LaserJet")
    second = receipts.prepare(store, clerk, "receipt", no)
    assert second.copy_no == 2 and second.is_reprint
    text = flat(pdf_text(second.pdf))
    assert "补打（第1次）" in text
    assert mask_id(cert) in text and cert not in text
    assert "缴费方式扫码支付" in text
    receipts.record_printed(store, clerk, second, printer="HP LaserJet")
    third = receipts.prepare(store, clerk, "receipt", no)
    assert "补打（第2次）" in flat(pdf_text(third.pdf))
    _all_embedded(third.pdf)
    # the audit log names the print and the reprint
    acts = [
        (r["action"], json.loads(r["detail"])["copy_no"])
        for r in store.query(
            "SELECT action, detail FROM audit_log WHERE entity = 'receipt' AND entity_id = ?"
            " AND action LIKE 'document.%' ORDER BY seq",
            (no,),
        )
    ]
    assert acts == [("document.print", 1), ("document.reprint", 2)]


def test_reprint_shows_the_original_content(store, clerk, paid):
    """A later change of the person's name does not change a reprinted receipt."""
    no = paid["payments"]["张三"]["receipt_no"]
    p = receipts.prepare(store, clerk, "receipt", no)
    receipts.record_printed(store, clerk, p, printer="P")
    with store.write() as db:
        db.conn.execute("UPDATE person SET name = '张叁' WHERE id = ?", (paid["ids"]["张三"],))
    again = flat(pdf_text(receipts.prepare(store, clerk, "receipt", no).pdf))
    assert "张三" in again and "张叁" not in again


def test_subsidized_receipt_names_payer(store, clerk, paid):
    pay = paid["payments"]["张小低"]
    text = flat(pdf_text(receipts.prepare(store, clerk, "receipt", pay["receipt_no"]).pdf))
    terms = pay["terms"]
    assert terms["subsidized_amount"] != "0.00"
    assert f"资助金额{yuan(Decimal(terms['subsidized_amount']))}元" in text
    assert terms["subsidized_by"] in text
    assert "最低生活保障对象（低保）" in text
    assert "缴费方式银行代扣/转账" in text


def test_certificate_fields_and_subsidized_member(store, clerk, paid):
    enr = store.query_one(
        "SELECT id FROM enrollment WHERE person_id = ? AND year = ?", (paid["ids"]["张三"], YEAR)
    )
    prepared = receipts.prepare(store, clerk, "certificate", enr["id"], page="A4")
    text = flat(pdf_text(prepared.pdf))
    for expected in (
        "城乡居民基本医疗保险参保凭证",
        "张三",
        paid["certs"]["张三"],
        "性别男",
        "出生日期1970-01-01",
        "东村",
        f"{YEAR}年度",
        "参保状态已缴费（待县级确认）",
        "待遇享受期2025-01-01至2025-12-31",
        f"缴费收据号{paid['payments']['张三']['receipt_no']}",
        f"缴费日期{PAID_ON}",
        f"兹证明上述人员已参加{YEAR}年度城乡居民基本医疗保险",
        "校验码：TDR1|",
    ):
        assert expected in text, expected
    assert _page_size(prepared.pdf) == A4_PT
    _all_embedded(prepared.pdf)


def test_certificate_refused_when_unpaid(store, clerk, paid):
    from core.errors import ValidationError

    # 张三 paid 2025; an enrollment of another year without a payment cannot be certified
    with store.write() as db:
        db.conn.execute(
            "INSERT INTO enrollment(id, person_id, year, insured_category, created_at,"
            " updated_at) VALUES ('e-unpaid', ?, 2024, 'ordinary', 'x', 'x')",
            (paid["ids"]["张三"],),
        )
    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "certificate", "e-unpaid")
    assert "尚未缴费" in str(e.value)
    assert store.query_one("SELECT COUNT(*) AS n FROM print_log")["n"] == 0


def test_estimate_sheet_has_results_and_steps(store, clerk, paid, data_dir):
    saved = est.save(
        store,
        clerk,
        policy_id="shanxi-2025",
        given={
            "setting": "inpatient",
            "price_class": "class3",
            "admission_no": 1,
            "total": "10000.00",
            "in_policy": "10000.00",
            "basic_paid_ytd": "0.00",
        },
        person_id=paid["ids"]["张三"],
        year=2025,
        data_dir=data_dir,
    )
    prepared = receipts.prepare(store, clerk, "estimate", saved["id"])
    text = flat(pdf_text(prepared.pdf))
    result = saved["result"]
    # acceptance case sx25-01: deductible 100.00, basic fund 8415.00, person 1585.00
    for expected in (
        "医疗费用报销测算单",
        "张三",
        mask_id(paid["certs"]["张三"]),
        "住院",
        "三类收费价格（乡镇卫生院等）",
        # the figures beside their names in words (issue 11: no settlement codes on paper)
        "起付标准（本次实付）100.00",
        "基本医保统筹基金支付8,415.00",
        "个人负担1,585.00",
        "医疗费用总额10,000.00",
        "计算步骤",
        "仅供参考",
    ):
        assert expected in text, expected
    assert result["hifp_pay"] == "8415.00"
    # the figures in the screen's order: the bill first, the sums last
    figures = text[text.index("测算结果") : text.index("计算步骤")]
    order = ["医疗费用总额", "政策范围内费用", "起付标准", "基本医保统筹基金支付", "基金支付合计"]
    assert [figures.index(w) for w in order] == sorted(figures.index(w) for w in order)
    assert figures.rindex("个人负担") > figures.index("基金支付合计")
    for code in ("hifp_pay", "act_pay_dedc", "psn_part_amt", "medfee_sumamt", "shanxi-2025"):
        assert code not in text, code
    for step in result["steps"]:
        assert flat(step["rule"]) in text, step["rule"]
    # 层次 and 规则 side by side: a step that is its own rule is not named twice
    assert "政策范围内费用政策范围内费用" not in text and "合计合计" not in text
    assert paid["certs"]["张三"] not in text
    assert _page_size(prepared.pdf) == A4_PT
    _all_embedded(prepared.pdf)


def test_day_sheet_counts_sums_and_voids(store, clerk, admin, paid):
    from desktop.services import contribution

    li = paid["payments"]["李四"]
    contribution.void_payment(
        store, clerk, li["payment"]["id"], reason="收费后发现重复", supervisor=admin
    )
    key = receipts.day_sheet_key(clerk.operator_id, PAID_ON)
    prepared = receipts.prepare(store, clerk, "day_sheet", key)
    text = flat(pdf_text(prepared.pdf))
    live = [paid["payments"][n] for n in ("张三", "张小低")]
    total = sum(Decimal(p["payment"]["amount"]) for p in live)
    for p in paid["payments"].values():
        assert p["receipt_no"] in text
    for expected in (
        "收款日结单",
        f"日期{PAID_ON}",
        "经办人李经办",
        "有效收据2张",
        f"实收金额{yuan(total)}元",
        "作废收据1张",
        f"作废金额{yuan(Decimal(li['payment']['amount']))}元",
        f"现金1{yuan(Decimal(paid['payments']['张三']['payment']['amount']))}",
        f"合计2{yuan(total)}",
        "收费后发现重复",
        "经办人签字",
        "复核人签字",
    ):
        assert expected in text, expected
    for name in ("张三", "李四"):
        assert paid["certs"][name] not in text
        assert mask_id(paid["certs"][name]) in text
    _all_embedded(prepared.pdf)
    # a voided receipt is not printed again
    from core.errors import ValidationError

    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "receipt", li["receipt_no"])
    assert "已作废" in str(e.value)


def test_page_sizes_a4_and_a5_for_each_kind(store, clerk, paid, admin):
    from desktop.services import settings

    settings.update_settings(
        store, admin, {**settings.get_settings(store).editable(), "paper": "A5"}
    )
    no0 = paid["payments"]["李四"]["receipt_no"]
    assert _page_size(receipts.prepare(store, clerk, "receipt", no0).pdf) == A5_PT
    no = paid["payments"]["张三"]["receipt_no"]
    assert _page_size(receipts.prepare(store, clerk, "receipt", no, page="A4").pdf) == A4_PT
    assert _page_size(receipts.prepare(store, clerk, "receipt", no, page="A5").pdf) == A5_PT
    key = receipts.day_sheet_key(clerk.operator_id, PAID_ON)
    assert _page_size(receipts.prepare(store, clerk, "day_sheet", key, page="A5").pdf) == A5_PT


def test_batch_of_village_certificates(store, clerk, paid):
    rows = receipts.certificate_list(store, year=YEAR, village_id=paid["village_id"])
    printable = [r["enrollment_id"] for r in rows if r["printable"]]
    assert len(printable) >= 3
    seen = []
    batch = receipts.prepare_batch(
        store, clerk, "certificate", printable, progress=lambda d, t: seen.append((d, t))
    )
    assert len(batch.items) == len(printable)
    assert seen and seen[-1][0] == seen[-1][1]
    reader = PdfReader(io.BytesIO(batch.pdf))
    assert len(reader.pages) >= len(printable)
    text = flat(pdf_text(batch.pdf))
    for name in ("张三", "李四", "张小低"):
        assert name in text
    receipts.record_printed(store, clerk, batch, printer="P")
    assert all(receipts.copies_handed_out(store, "certificate", k) == 1 for k in printable)


def test_batch_cancel_writes_nothing(store, clerk, paid):
    from desktop.documents import RenderCancelled

    keys = [
        r["enrollment_id"] for r in receipts.certificate_list(store, year=YEAR) if r["printable"]
    ]
    calls = {"n": 0}

    def cancelled() -> bool:
        calls["n"] += 1
        return calls["n"] > 2

    with pytest.raises(RenderCancelled):
        receipts.prepare_batch(store, clerk, "certificate", keys, cancelled=cancelled)
    assert store.query_one("SELECT COUNT(*) AS n FROM print_log")["n"] == 0


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_each_kind_renders_to_png(store, clerk, paid, data_dir, tmp_path):
    out = tmp_path / "docs"
    paths = receipts.write_demo_documents(store, clerk, out)
    names = sorted(p.name for p in paths)
    assert names == sorted(
        ["receipt.pdf", "receipt-reprint.pdf", "certificate.pdf", "estimate.pdf", "day-sheet.pdf"]
    )
    assert "补打（第1次）" in flat(pdf_text((out / "receipt-reprint.pdf").read_bytes()))
    for p in paths:
        _all_embedded(p.read_bytes())
        subprocess.run(
            ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(p), str(p.with_suffix(""))],
            check=True,
            timeout=60,
        )
        png = next(out.glob(p.stem + "-*.png"))
        data = png.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    # saved demo copies are recorded as saved, not printed
    assert store.query_one("SELECT COUNT(*) AS n FROM print_log WHERE status = 'printed'")["n"] == 0


def test_receipt_numbers_have_the_documented_shape(paid):
    for p in paid["payments"].values():
        parsed = parse_receipt_no(p["receipt_no"])
        assert parsed is not None and parsed.scope == "SP01-01"


def _rename(store, person_id, name):
    with store.write() as db:
        db.conn.execute("UPDATE person SET name = ? WHERE id = ?", (name, person_id))


def test_rare_character_outside_the_bmp_is_printed(store, clerk, paid):
    from desktop.documents.fonts import fallback_font_path

    if fallback_font_path() is None:
        pytest.skip("no fallback font with CJK Extension B on this PC (fonts-hanazono)")
    _rename(store, paid["ids"]["张三"], "𠮷祥")
    prepared = receipts.prepare(store, clerk, "receipt", paid["payments"]["张三"]["receipt_no"])
    text = flat(pdf_text(prepared.pdf))
    assert "𠮷祥" in text
    assert "缺少生僻字" not in text
    fonts = pdf_fonts(prepared.pdf)
    assert len(fonts) >= 2 and all(emb for _n, emb in fonts), fonts


def test_rare_character_without_a_font_is_named_not_hidden(store, clerk, paid, monkeypatch):
    from desktop.documents import fonts

    monkeypatch.setattr(fonts, "_fallback_cmap", lambda: frozenset())
    _rename(store, paid["ids"]["张三"], "𠮷祥")
    prepared = receipts.prepare(store, clerk, "receipt", paid["payments"]["张三"]["receipt_no"])
    text = flat(pdf_text(prepared.pdf))
    # (the character itself cannot be drawn here either: its code names it)
    assert "缺少生僻字" in text and "（U+20BB7）" in text and "手写补全" in text
