"""Tax-bureau payment confirmations (税务缴费确认): each row confirms the matching payment a
desk recorded, or becomes a county payment; the double-enrollment winner is re-evaluated."""

from __future__ import annotations

import datetime as dt

import psycopg

from core import rowids
from core import syncproto as sp
from county.conflicts import evaluate_enrollments
from county.db import emit, jsonb, person_by_cert, sp_stream
from county.model import OpRejected, mask, parse_money
from county.places import service_point_by_code
from county.tables import AdminError, ImportReport, _pick, import_rows, outside


def import_payments(
    conn: psycopg.Connection, rows: list[dict], first_row: int = 2, region: str | None = None
) -> ImportReport:
    """Tax-bureau payment confirmations (身份证号, 参保年度, 缴费金额, 完税凭证号, 缴费日期):
    each confirms the matching recorded payment or becomes a county payment; the
    double-enrollment winner is re-evaluated (a tax-confirmed payment wins). ``region``:
    the one county the importing account works for (another county's resident is refused)."""
    return import_rows(
        conn, rows, first_row, lambda c, row: _payment_row(c, row, region), (OpRejected,)
    )


def _payment_row(conn, row: dict, region: str | None = None) -> str:
    cert = _pick(row, "身份证号", "公民身份号码", "cert_no").upper()
    year_s = _pick(row, "参保年度", "year")
    voucher = _pick(row, "完税凭证号", "税票号", "voucher_no")
    if not voucher:
        raise AdminError("缺少完税凭证号")
    if not (year_s.isdigit() and 2000 <= int(year_s) <= 2100):
        raise AdminError("参保年度应为4位年份")
    year = int(year_s)
    amount = parse_money(_pick(row, "缴费金额", "金额", "amount"))
    paid_on = _pick(row, "缴费日期", "确认日期", "paid_at")
    sp_code = _pick(row, "服务点编码", "service_point")
    point = service_point_by_code(conn, sp_code) if sp_code else None
    sp_filter = point["id"] if point else None
    person = _payer(conn, cert, point, region)
    if conn.execute(
        "SELECT 1 FROM payment WHERE region = %s AND data->>'tax_voucher_no' = %s",
        (person["region"], voucher),
    ).fetchone():
        return "unchanged"
    enrollments = conn.execute(
        "SELECT id, sp_id, conflict_status, data FROM enrollment"
        " WHERE region = %s AND person_id = %s AND year = %s"
        " ORDER BY (conflict_status = 'won') DESC, arrival",
        (person["region"], person["id"], year),
    ).fetchall()
    confirmed_at = paid_on or dt.date.today().isoformat()
    tax = {
        "tax_confirmed": True,
        "tax_voucher_no": voucher,
        "tax_confirmed_at": confirmed_at,
        "status": "confirmed",
        "confirmed_at": confirmed_at,
        "confirmed_ref": voucher,
    }
    if enrollments and _confirm_recorded(conn, person, year, amount, sp_filter, tax):
        return "updated"
    enr = enrollments[0] if enrollments else _county_enrollment(conn, person, year)
    pid = rowids.new_row_id(person["region"])
    pdata = {
        "id": pid,
        "enrollment_id": enr["id"],
        "person_id": person["id"],
        "year": year,
        "amount": str(amount),
        "channel": "tax",
        "receipt_no": "",
        "paid_at": paid_on,
        "service_point_id": enr["sp_id"],
        **tax,
    }
    conn.execute(
        "INSERT INTO payment(id, enrollment_id, sp_id, amount, tax_confirmed, data, field_src,"
        " origin, region) VALUES (%s, %s, %s, %s, true, %s, %s, 'county', %s)",
        (
            pid,
            enr["id"],
            enr["sp_id"],
            amount,
            jsonb(pdata),
            jsonb({f: [1, "county"] for f in pdata}),
            person["region"],
        ),
    )
    emit(conn, sp_stream(enr["sp_id"]), sp.E_PAYMENT, pid, 1, pdata)
    _enrollment_confirmed(conn, person["region"], enr["id"], tax["confirmed_at"])
    evaluate_enrollments(conn, person, year)
    return "created"


def _payer(conn, cert: str, point: dict | None, region: str | None) -> dict:
    """The resident a tax row is for (locked), read in the row's service point's county;
    with ``region`` (the importing account's county), refused when another county's."""
    if region and point and point["region_code"] != region:
        raise AdminError(outside(region, f"服务点 {point['code']}"))
    person = person_by_cert(
        conn,
        "resident_id",
        cert,
        "id, cert_no, home_sp_id, version, data, region",
        lock=True,
        county=point["region_code"] if point else region,
    )
    if person is None:
        raise AdminError(f"县里没有身份证号为 {mask(cert)} 的居民（先导入花名册）")
    if region and person["region"] != region:
        raise AdminError(outside(region, f"身份证号为 {mask(cert)} 的居民"))
    return person


def _confirm_recorded(conn, person: dict, year: int, amount, sp_filter, tax: dict) -> bool:
    """Confirm the payment a desk recorded for this person, year and amount (the winning
    enrollment first); False when there is none to confirm."""
    match = conn.execute(
        "SELECT p.id, p.sp_id, p.version, p.data, p.field_src FROM payment p"
        " JOIN enrollment e ON e.region = p.region AND e.id = p.enrollment_id"
        " WHERE p.region = %s AND e.region = %s"
        " AND e.person_id = %s AND e.year = %s AND NOT p.tax_confirmed AND p.amount = %s"
        " AND NOT p.cancelled"
        " AND (%s::text IS NULL OR p.sp_id = %s::text)"
        " ORDER BY (e.conflict_status = 'won') DESC, e.arrival, p.id LIMIT 1 FOR UPDATE OF p",
        (person["region"], person["region"], person["id"], year, amount, sp_filter, sp_filter),
    ).fetchone()
    if match is None:
        return False
    version = match["version"] + 1
    data = {**match["data"], **tax}
    src = {**(match["field_src"] or {}), **{f: [version, "county"] for f in tax}}
    conn.execute(
        "UPDATE payment SET tax_confirmed = true, data = %s, field_src = %s, version = %s,"
        " updated_at = now() WHERE region = %s AND id = %s",
        (jsonb(data), jsonb(src), version, person["region"], match["id"]),
    )
    emit(conn, sp_stream(match["sp_id"]), sp.E_PAYMENT, match["id"], version, data)
    _enrollment_confirmed(
        conn, person["region"], match["data"]["enrollment_id"], tax["confirmed_at"]
    )
    evaluate_enrollments(conn, person, year)
    return True


def _county_enrollment(conn, person: dict, year: int) -> dict:
    """A tax payment for a year no desk enrolled: the county enrolls the person at their
    home service point."""
    eid = rowids.new_row_id(person["region"])
    edata = {
        "id": eid,
        "person_id": person["id"],
        "year": year,
        "insurance_type": "390",
        "insured_category": person["data"].get("insured_category", "ordinary"),
        "subsidy_category": person["data"].get("subsidy_category", "none"),
        "status": "registered",
        "service_point_id": person["home_sp_id"],
        "conflict_status": "none",
    }
    conn.execute(
        "INSERT INTO enrollment(id, person_id, year, sp_id, data, field_src, origin, region)"
        " VALUES (%s, %s, %s, %s, %s, %s, 'county', %s)",
        (
            eid,
            person["id"],
            year,
            person["home_sp_id"],
            jsonb(edata),
            jsonb({f: [1, "county"] for f in edata}),
            person["region"],
        ),
    )
    emit(conn, sp_stream(person["home_sp_id"]), sp.E_ENROLLMENT, eid, 1, edata)
    return {"id": eid, "sp_id": person["home_sp_id"]}


def _enrollment_confirmed(conn, region: str, enrollment_id: str, confirmed_at: str) -> None:
    """The enrollment year is confirmed by the county (desktop column county_confirmed_at)."""
    row = conn.execute(
        "SELECT sp_id, version, data, field_src FROM enrollment"
        " WHERE region = %s AND id = %s FOR UPDATE",
        (region, enrollment_id),
    ).fetchone()
    if row is None or row["data"].get("county_confirmed_at") == confirmed_at:
        return
    version = row["version"] + 1
    data = {**row["data"], "county_confirmed_at": confirmed_at}
    src = {**(row["field_src"] or {}), "county_confirmed_at": [version, "county"]}
    conn.execute(
        "UPDATE enrollment SET data = %s, field_src = %s, version = %s, updated_at = now()"
        " WHERE region = %s AND id = %s",
        (jsonb(data), jsonb(src), version, region, enrollment_id),
    )
    emit(conn, sp_stream(row["sp_id"]), sp.E_ENROLLMENT, enrollment_id, version, data)
