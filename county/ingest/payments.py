"""payment.record and payment.void/refund from a desk."""

from __future__ import annotations

from core import syncproto as sp
from county.conflicts import evaluate_enrollments, new_conflict, sp_name
from county.db import emit, jsonb, region_of, row_by_id, sp_stream
from county.ingest.common import Device, _canon, _result, _scope_error
from county.model import OpRejected, clean_fields, parse_money


# ------------------------------------------------------------------ payments
def payment_record(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_PAYMENT, {**op.payload, "id": op.entity_id}, partial=False)
    # the county of the payment (if the county holds it), and the enrollment itself when it
    # is of this point's county (nearly always: read at once) — else its county (the key
    # table is read only then: a subquery in a CASE runs only when its branch is taken)
    pre = conn.execute(
        "SELECT (SELECT region FROM payment_key WHERE id = %(id)s) AS region,"
        " CASE WHEN e.id IS NULL THEN (SELECT region FROM enrollment_key WHERE id = %(e)s)"
        "   END AS enr_region,"
        " e.id, e.person_id, e.year, e.sp_id, e.region AS here"
        " FROM (SELECT 1) x LEFT JOIN enrollment e ON e.region = %(r)s AND e.id = %(e)s",
        {"id": op.entity_id, "e": fields.get("enrollment_id"), "r": dev.region},
    ).fetchone()
    if pre["region"] is not None:
        held = conn.execute(
            "SELECT sp_id, version FROM payment WHERE region = %s AND id = %s",
            (pre["region"], op.entity_id),
        ).fetchone()
        if held["sp_id"] != dev.sp_id:
            raise _scope_error("该笔缴费")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=held["version"],
            message="县里已有这笔缴费",
        )
    enr = _paid_enrollment(conn, dev, fields, pre)
    if enr is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里还没有这笔缴费对应的参保登记，请先同步参保登记")
    if enr["sp_id"] != dev.sp_id:
        raise _scope_error("该参保登记")
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data, region FROM person"
        " WHERE region = %s AND id = %s FOR UPDATE",
        (enr["region"], enr["person_id"]),
    ).fetchone()
    amount = parse_money(fields["amount"])
    fields.update(
        enrollment_id=enr["id"],
        person_id=enr["person_id"],
        year=enr["year"],
        service_point_id=dev.sp_id,
        tax_confirmed=False,
    )
    fields["status"] = "local"  # confirmation is the county's (tax import)
    src = {f: [1, dev.sp_id] for f in fields}
    conn.execute(
        "INSERT INTO payment(id, enrollment_id, sp_id, amount, receipt_no, data, field_src,"
        " region) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            op.entity_id,
            enr["id"],
            dev.sp_id,
            amount,
            fields.get("receipt_no") or "",
            jsonb(fields),
            jsonb(src),
            enr["region"],  # beside its enrollment and person
        ),
    )
    emit(conn, sp_stream(dev.sp_id), sp.E_PAYMENT, op.entity_id, 1, fields)
    outcome = evaluate_enrollments(conn, person, enr["year"])
    if outcome is not None and outcome["statuses"][enr["id"]] == "lost":
        return _result(
            op.op_id,
            sp.ST_CONFLICT,
            canonical_id=op.entity_id,
            version=1,
            conflict_id=outcome["conflict_id"],
            code="double_enrollment",
            message="该居民本年度已在其他服务点参保，这笔缴费已转为退费或转移任务；详见通知",
        )
    return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id, version=1)


def _paid_enrollment(conn, dev: Device, fields: dict, pre: dict) -> dict | None:
    """The enrollment a payment names (by id, or by person and year at this point)."""
    if fields.get("enrollment_id") and pre["here"] is not None:
        return {**pre, "region": pre["here"]}
    if fields.get("enrollment_id"):  # another county's resident (or no such enrollment)
        return conn.execute(
            "SELECT id, person_id, year, sp_id, region FROM enrollment"
            " WHERE region = %s AND id = %s",
            (pre["enr_region"], fields["enrollment_id"]),
        ).fetchone()
    if fields.get("person_id") and fields.get("year"):
        pid = _canon(conn, sp.E_PERSON, fields["person_id"])
        return conn.execute(
            "SELECT id, person_id, year, sp_id, region FROM enrollment"
            " WHERE region = %s AND person_id = %s AND year = %s AND sp_id = %s"
            " ORDER BY arrival LIMIT 1",
            (region_of(conn, "person", pid), pid, fields["year"], dev.sp_id),
        ).fetchone()
    raise OpRejected(sp.R_INVALID, "缴费缺少参保登记（enrollment_id）或居民与年度")


def payment_cancel(conn, dev: Device, op: sp.Op) -> dict:
    """payment.void / payment.refund: the payment is kept, marked, and no longer counts
    for the winner rule; a tax-confirmed one also goes to the county for review."""
    status = "voided" if op.op_type == "payment.void" else "refunded"
    p = op.payload
    reason = p.get("reason") or p.get("void_reason") or ""
    if not isinstance(reason, str) or len(reason) > 200:
        raise OpRejected(sp.R_INVALID, "作废或退费原因格式不正确（最多200字）")
    row = row_by_id(
        conn,
        "payment",
        op.entity_id,
        "id, enrollment_id, sp_id, version, data, tax_confirmed, cancelled, region",
        county=dev.region,
    )
    if row is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里没有这笔缴费，请先同步缴费记录")
    if row["sp_id"] != dev.sp_id:
        raise _scope_error("该笔缴费")
    if row["cancelled"]:
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=row["id"],
            version=row["version"],
            message="县里已记录该笔缴费作废/退费",
        )
    enr, person = _paid_by(conn, row)
    version = row["version"] + 1
    data = {
        **row["data"],
        "status": status,
        "void_reason": reason,
        "supervisor_id": p.get("supervisor_id"),
        "voided_at": p.get("at"),
    }
    conn.execute(
        "UPDATE payment SET cancelled = true, data = %s, version = %s, updated_at = now()"
        " WHERE region = %s AND id = %s",
        (jsonb(data), version, row["region"], row["id"]),
    )
    conn.execute(
        "UPDATE task SET status = 'cancelled' WHERE payment_id = %s AND status = 'open'",
        (row["id"],),
    )
    emit(conn, sp_stream(dev.sp_id), sp.E_PAYMENT, row["id"], version, data)
    conflict_id = None
    if row["tax_confirmed"]:
        conflict_id = new_conflict(
            conn,
            "correction_request",
            summary=f"{sp_name(conn, dev.sp_id)}将已税务确认的缴费"
            f"{'作废' if status == 'voided' else '退费'}，需要县里核对",
            sp_ids=[dev.sp_id],
            entity=sp.E_PAYMENT,
            entity_id=row["id"],
            person_id=person["id"],
            year=enr["year"],
            detail={
                "fields": {"status": {"county": "confirmed", "requested": status}},
                "reason": reason,
                "op_id": op.op_id,
            },
        )
    evaluate_enrollments(conn, person, enr["year"])
    return _result(
        op.op_id,
        sp.ST_APPLIED,
        canonical_id=row["id"],
        version=version,
        conflict_id=conflict_id,
        message="已税务确认的缴费作废/退费已报县里核对" if conflict_id else "",
    )


def _paid_by(conn, payment: dict) -> tuple[dict, dict]:
    """A payment's enrollment (person, year) and its person, locked (the winner rule's
    caller holds the person): both in the payment's county."""
    enr = conn.execute(
        "SELECT person_id, year FROM enrollment WHERE region = %s AND id = %s",
        (payment["region"], payment["enrollment_id"]),
    ).fetchone()
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data, region FROM person"
        " WHERE region = %s AND id = %s FOR UPDATE",
        (payment["region"], enr["person_id"]),
    ).fetchone()
    return enr, person
