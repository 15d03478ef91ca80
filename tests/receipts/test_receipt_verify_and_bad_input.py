"""Verification codes (service and ``township-desk receipt verify``) and bad input: no
name or ID on file, amounts with more than two decimals, a failing printer."""

from __future__ import annotations

import shutil
import subprocess
from decimal import Decimal

import pytest

from core import receipt as core
from core.errors import ValidationError
from desktop.cli import main as cli_main
from desktop.services import receipts

from .conftest import flat, pdf_text


def _code(store, clerk, receipt_no) -> str:
    text = flat(pdf_text(receipts.prepare(store, clerk, "receipt", receipt_no).pdf))
    start = text.index("校验码：") + len("校验码：")
    parts = text[start:].split("|")
    return "|".join(parts[:5] + [parts[5][:16]])


def test_genuine_code_is_accepted_and_changes_rejected(store, clerk, paid):
    no = paid["payments"]["张三"]["receipt_no"]
    code = _code(store, clerk, no)
    ok = receipts.verify(store, code)
    assert ok["ok"] and ok["receipt_no"] == no and ok["on_file"]
    assert "校验通过" in ok["message"]
    prefix, rno, amount, date, key_id, mac = code.split("|")
    changed = {
        "amount": "|".join([prefix, rno, "40.00", date, key_id, mac]),
        "number": "|".join([prefix, rno[:-1] + "9", amount, date, key_id, mac]),
        "date": "|".join([prefix, rno, amount, "2024-11-16", key_id, mac]),
        "mac": "|".join([prefix, rno, amount, date, key_id, "A" * 16]),
    }
    for what, bad in changed.items():
        r = receipts.verify(store, bad)
        assert not r["ok"], what
        assert "校验失败" in r["message"], what
    assert "格式" in receipts.verify(store, "hello")["message"]
    other_key = code.replace(key_id, "K-OTHER")
    assert "没有密钥" in receipts.verify(store, other_key)["message"]


def test_county_can_check_with_the_key_alone(store, clerk, paid):
    """The county holds the key (by key id) and needs nothing else from the desk."""
    no = paid["payments"]["李四"]["receipt_no"]
    code = _code(store, clerk, no)
    key_id, key = receipts.mac_key(store)
    assert core.verify_payload(code, {key_id: key}).ok
    assert not core.verify_payload(code, {key_id: b"another county key 32 bytes long"}).ok


def test_voided_payment_code_is_rejected(store, clerk, admin, paid):
    from desktop.services import contribution

    li = paid["payments"]["李四"]
    code = _code(store, clerk, li["receipt_no"])
    contribution.void_payment(
        store, clerk, li["payment"]["id"], reason="重复收费", supervisor=admin
    )
    r = receipts.verify(store, code)
    assert not r["ok"] and "已作废" in r["message"]


def test_cli_verify_exit_codes(store, clerk, paid, data_dir, capsys):
    code = _code(store, clerk, paid["payments"]["张三"]["receipt_no"])
    store.close()
    assert cli_main(["--data-dir", str(data_dir), "receipt", "verify", code]) == 0
    assert "校验通过" in capsys.readouterr().out
    parts = code.split("|")
    parts[2] = str(Decimal(parts[2]) + 1)
    assert cli_main(["--data-dir", str(data_dir), "receipt", "verify", "|".join(parts)]) == 1
    assert "校验失败" in capsys.readouterr().out
    parts = code.split("|")
    parts[1] = parts[1][:-1] + ("2" if parts[1][-1] != "2" else "3")
    assert cli_main(["--data-dir", str(data_dir), "receipt", "verify", "|".join(parts)]) == 1
    assert cli_main(["--data-dir", str(data_dir), "receipt", "numbers"]) == 0
    assert "重复 0 个，无说明的空号 0 个" in capsys.readouterr().out


def test_cli_pdf_saves_and_records(store, clerk, paid, data_dir, tmp_path, monkeypatch, capsys):
    import io

    no = paid["payments"]["张三"]["receipt_no"]
    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("clerk123\n"))
    out = tmp_path / "r.pdf"
    rc = cli_main(
        [
            "--data-dir",
            str(data_dir),
            "receipt",
            "pdf",
            "receipt",
            no,
            "--out",
            str(out),
            "--user",
            "clerk1",
            "--password-stdin",
        ]
    )
    assert rc == 0 and out.read_bytes()[:5] == b"%PDF-"
    assert "张三" in flat(pdf_text(out.read_bytes()))
    assert cli_main(["--data-dir", str(data_dir), "receipt", "history", "receipt", no]) == 0
    assert "已保存PDF  原件" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO("wrong\n"))
    rc = cli_main(
        [
            "--data-dir",
            str(data_dir),
            "receipt",
            "pdf",
            "receipt",
            no,
            "--out",
            str(out),
            "--user",
            "clerk1",
            "--password-stdin",
        ]
    )
    assert rc == 1


def test_cli_pdf_into_a_folder_that_does_not_exist_yet(
    store, clerk, paid, data_dir, tmp_path, monkeypatch
):
    import io

    no = paid["payments"]["张三"]["receipt_no"]
    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("clerk123\n"))
    folder = tmp_path / "new-folder"
    rc = cli_main(
        [
            "--data-dir",
            str(data_dir),
            "receipt",
            "pdf",
            "receipt",
            no,
            "--out",
            str(folder),
            "--user",
            "clerk1",
            "--password-stdin",
        ]
    )
    assert rc == 0 and folder.is_dir()
    (pdf,) = folder.iterdir()
    assert pdf.suffix == ".pdf" and pdf.read_bytes()[:5] == b"%PDF-"


def _nothing_recorded(store) -> None:
    assert store.query_one("SELECT COUNT(*) AS n FROM print_log")["n"] == 0
    assert store.query_one("SELECT COUNT(*) AS n FROM document_snapshot")["n"] == 0


def test_person_without_a_name(store, clerk, paid):
    no = paid["payments"]["张三"]["receipt_no"]
    with store.write() as db:
        db.conn.execute("UPDATE person SET name = '' WHERE id = ?", (paid["ids"]["张三"],))
    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "receipt", no)
    assert "没有登记姓名" in e.value.errors["name"]
    _nothing_recorded(store)


def test_person_without_an_id_number(store, clerk, paid):
    no = paid["payments"]["李四"]["receipt_no"]
    with store.write() as db:
        db.conn.execute("UPDATE person SET cert_no = '' WHERE id = ?", (paid["ids"]["李四"],))
    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "receipt", no)
    assert "没有登记证件号码" in e.value.errors["cert_no"]
    enr = store.query_one("SELECT id FROM enrollment WHERE person_id = ?", (paid["ids"]["李四"],))
    with pytest.raises(ValidationError):
        receipts.prepare(store, clerk, "certificate", enr["id"])
    _nothing_recorded(store)


def test_amount_with_more_than_two_decimals(store, clerk, paid):
    no = paid["payments"]["张三"]["receipt_no"]
    with store.write() as db:
        db.conn.execute("UPDATE payment SET amount = '400.005' WHERE receipt_no = ?", (no,))
    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "receipt", no)
    assert "最多两位小数" in str(e.value)
    _nothing_recorded(store)
    base = dict(
        service_point="示范乡卫生院",
        receipt_no="SP01-01-00000009",
        name="张三",
        cert_type="居民身份证",
        cert_no="11010519491231002X",
        region="140121",
        insured_category="普通居民",
        subsidy_category="无资助",
        year=2025,
        amount_due="400.00",
        personal_amount="400.001",
        subsidy_amount="0",
        subsidy_payer="",
        paid_at="2024-11-15",
        channel="现金",
        benefit_start="2025-01-01",
        benefit_end="2025-12-31",
        waiting_months=0,
        continuous_years=1,
        operator="李经办",
    )
    with pytest.raises(ValidationError) as e:
        core.receipt_document(core.ReceiptFacts(**base), printed_at="x", mac_key=b"k", key_id="K")
    assert "个人缴费金额最多两位小数" in e.value.errors["personal_amount"]
    with pytest.raises(ValidationError) as e:
        core.receipt_document(
            core.ReceiptFacts(**{**base, "personal_amount": "300.00"}),
            printed_at="x",
            mac_key=b"k",
            key_id="K",
        )
    assert "不等于" in e.value.errors["amount_due"]


def test_failing_printer_marks_nothing_printed(store, clerk, paid):
    no = paid["payments"]["张三"]["receipt_no"]
    prepared = receipts.prepare(store, clerk, "receipt", no)

    def broken_printer(pdf: bytes) -> str:
        assert pdf.startswith(b"%PDF-")
        raise OSError("打印机脱机")

    with pytest.raises(receipts.PrintFailed) as e:
        receipts.print_with(store, clerk, prepared, broken_printer)
    assert "打印失败" in str(e.value) and "没有记为已打印" in str(e.value)
    rows = store.query("SELECT status, copy_no, error FROM print_log")
    assert [(r["status"], r["copy_no"]) for r in rows] == [("failed", 1)]
    assert "打印机脱机" in rows[0]["error"]
    assert receipts.copies_handed_out(store, "receipt", no) == 0
    audit = store.query("SELECT action FROM audit_log WHERE action LIKE 'document.%'")
    assert [a["action"] for a in audit] == ["document.print_failed"]
    # the next attempt is still the original, not a reprint
    again = receipts.prepare(store, clerk, "receipt", no)
    assert again.copy_no == 1 and "补打" not in flat(pdf_text(again.pdf))
    assert receipts.print_with(store, clerk, again, lambda pdf: "HP-2") == "HP-2"
    assert receipts.copies_handed_out(store, "receipt", no) == 1


def test_unknown_documents(store, clerk, paid):
    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "receipt", "SP01-01-99999999")
    assert "找不到收据号" in str(e.value)
    with pytest.raises(ValidationError):
        receipts.prepare(store, clerk, "letter", "x")
    with pytest.raises(ValidationError):
        receipts.prepare(store, clerk, "day_sheet", f"{clerk.operator_id}:yesterday")
    with pytest.raises(ValidationError) as e:
        receipts.prepare(store, clerk, "receipt", paid["payments"]["张三"]["receipt_no"], page="B5")
    assert "A4 或 A5" in str(e.value)


def test_set_mac_key_needs_a_supervisor_and_a_real_key(store, clerk, admin, paid):
    from desktop.services.context import PermissionDenied

    with pytest.raises(PermissionDenied):
        receipts.set_mac_key(store, clerk, "K2026", "00" * 32)
    with pytest.raises(ValidationError) as e:
        receipts.set_mac_key(store, admin, "K|1", "zz")
    assert set(e.value.errors) == {"key_id", "key"}
    receipts.set_mac_key(store, admin, "K2026", "ab" * 32)
    assert receipts.mac_key(store) == ("K2026", bytes.fromhex("ab" * 32))
    code = _code(store, clerk, paid["payments"]["张三"]["receipt_no"])
    assert "|K2026|" in code and receipts.verify(store, code)["ok"]
    detail = store.query_one("SELECT detail FROM audit_log WHERE action = 'receipt.mac_key_set'")[
        "detail"
    ]
    assert "ab" * 32 not in detail  # only a fingerprint is audited


@pytest.mark.skipif(
    shutil.which("zbarimg") is None or shutil.which("pdftoppm") is None,
    reason="zbar-tools / poppler-utils not installed",
)
def test_printed_qr_code_scans_and_verifies(store, clerk, paid, tmp_path):
    """Render the receipt to PNG, scan its QR code like a phone would, verify the payload."""
    no = paid["payments"]["张三"]["receipt_no"]
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(receipts.prepare(store, clerk, "receipt", no).pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "150", str(pdf), str(tmp_path / "r")], check=True)
    png = next(tmp_path.glob("r-*.png"))
    scanned = subprocess.run(
        ["zbarimg", "-q", "--raw", str(png)], capture_output=True, text=True, timeout=60
    ).stdout.strip()
    assert scanned.startswith(f"TDR1|{no}|")
    assert receipts.verify(store, scanned)["ok"]


def test_cli_village_certificates(store, paid, data_dir, tmp_path, monkeypatch, capsys):
    import io

    store.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("clerk123\n"))
    rc = cli_main(
        [
            "--data-dir",
            str(data_dir),
            "receipt",
            "certificates",
            "--year",
            "2025",
            "--village",
            "东村",
            "--out",
            str(tmp_path),
            "--user",
            "clerk1",
            "--password-stdin",
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0 and "已保存" in out
    pdf = next(tmp_path.glob("*.pdf")).read_bytes()
    text = flat(pdf_text(pdf))
    for name in ("张三", "李四", "张小低"):
        assert name in text
    monkeypatch.setattr("sys.stdin", io.StringIO("clerk123\n"))
    rc = cli_main(
        [
            "--data-dir",
            str(data_dir),
            "receipt",
            "certificates",
            "--year",
            "2025",
            "--village",
            "北村",
            "--out",
            str(tmp_path),
            "--user",
            "clerk1",
            "--password-stdin",
        ]
    )
    assert rc == 1 and "没有名为“北村”" in capsys.readouterr().out


def test_receipt_for_a_year_whose_waiting_outlasts_it_says_no_benefits():
    """Paid late in December outside the period: 3 months of waiting end next year. The
    receipt says 本年度不享受待遇 instead of a benefit period that ends before it starts."""
    from core import receipt as core

    facts = dict(
        service_point="示范乡卫生院",
        receipt_no="SP01-01-00000010",
        name="李四",
        cert_type="居民身份证",
        cert_no="11010519491231002X",
        region="140121",
        insured_category="普通居民",
        subsidy_category="无资助",
        year=2025,
        amount_due="400.00",
        personal_amount="400.00",
        subsidy_amount="0",
        subsidy_payer="",
        paid_at="2025-12-20",
        channel="现金",
        benefit_start="2026-03-20",
        benefit_end="2025-12-31",
        waiting_months=3,
        continuous_years=1,
        operator="李经办",
    )
    doc = core.receipt_document(
        core.ReceiptFacts(**facts), printed_at="x", mac_key=b"k", key_id="K"
    )
    period = doc.field_values()["benefit_period"]
    assert period.startswith("本年度不享受待遇") and "2026-03-20" in period
    assert "2025-12-31" not in period
    normal = core.receipt_document(
        core.ReceiptFacts(**{**facts, "benefit_start": "2025-03-20"}),
        printed_at="x",
        mac_key=b"k",
        key_id="K",
    )
    assert normal.field_values()["benefit_period"] == "2025-03-20 至 2025-12-31"
