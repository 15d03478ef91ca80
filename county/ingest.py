"""Push: apply a batch of desktop operations exactly once.

One transaction per batch, one savepoint per op: a rejected op rolls back only itself.
Every op is stored with its payload hash and result (``applied_op``): the same op again
returns the stored result; the same op_id with another hash is rejected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import psycopg
from psycopg import errors as pgerr

from core import syncproto as sp
from county.conflicts import evaluate_enrollments, new_conflict, sp_name, upsert_notice
from county.db import emit, jsonb, log_security, sp_stream
from county.model import OpRejected, clean_fields, label, mask, parse_money, person_view
from county.people import emit_person

log = logging.getLogger("county.ingest")

LINK_FIELDS = ("household_id", "relation")


@dataclass(frozen=True)
class Device:
    device_id: str
    sp_id: str
    operator_id: str = ""


def _result(op_id: str, status: str, **kw) -> dict:
    return sp.OpResult(op_id=op_id, status=status, **kw).as_dict()


class BatchRetry(Exception):
    """Another send of one of these ops committed meanwhile: roll back and run the batch
    again (it then finds the stored results)."""


def push_batch(
    conn: psycopg.Connection, dev: Device, batch_id: str, ops: list[sp.Op]
) -> list[dict]:
    """Apply ops in order inside the caller's transaction; returns one result per op.
    Known op_ids are read in one query; results are stored in one round trip at the end."""
    known = {
        r["op_id"]: r
        for r in conn.execute(
            "SELECT op_id, device_id, payload_sha256, result FROM applied_op WHERE op_id = ANY(%s)",
            ([o.op_id for o in ops],),
        ).fetchall()
    }
    results, store_rows = [], []
    if not known:
        from county.fastpath import try_bulk

        bulk = try_bulk(conn, dev, ops)
        if bulk is not None:
            _store_all(conn, dev, batch_id, ops, bulk)
            return bulk
    conn.execute("SAVEPOINT op")
    for op in ops:
        if op.op_id in known:
            results.append(_replay(op, known[op.op_id]))
            continue
        result, keep = apply_op(conn, dev, op)
        if keep:
            known[op.op_id] = {"payload_sha256": op.payload_sha256, "result": result}
            store_rows.append(
                (
                    op.op_id,
                    dev.device_id,
                    op.device_seq,
                    op.op_type,
                    op.entity_id,
                    op.payload_sha256,
                    batch_id,
                    jsonb(result),
                )
            )
        results.append(result)
    _store_rows(conn, store_rows)
    return results


def _store_all(conn, dev: Device, batch_id: str, ops: list[sp.Op], results: list[dict]) -> None:
    _store_rows(
        conn,
        [
            (
                op.op_id,
                dev.device_id,
                op.device_seq,
                op.op_type,
                op.entity_id,
                op.payload_sha256,
                batch_id,
                jsonb(r),
            )
            for op, r in zip(ops, results, strict=True)
        ],
    )


def _store_rows(conn, store_rows: list[tuple]) -> None:
    if store_rows:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(
                    "INSERT INTO applied_op(op_id, device_id, device_seq, op_type, entity_id,"
                    " payload_sha256, batch_id, result) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    store_rows,
                )
        except pgerr.UniqueViolation as e:
            raise BatchRetry(str(e)) from e


def apply_op(conn: psycopg.Connection, dev: Device, op: sp.Op) -> tuple[dict, bool]:
    """(result, store it?). Runs the op under the savepoint ``op`` (re-armed per op)."""
    body_bytes = len(sp.canonical_json(op.payload).encode("utf-8"))
    if body_bytes > sp.MAX_PAYLOAD_BYTES:
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_TOO_LARGE,
            message=f"这条操作内容过大（{body_bytes}字节，上限{sp.MAX_PAYLOAD_BYTES}字节）",
        ), True
    if sp.payload_sha256(op.payload) != op.payload_sha256:
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_HASH_MISMATCH,
            message="操作内容与其校验值不符（传输中损坏或软件错误），未保存",
        ), False
    try:
        result = _apply(conn, dev, op)
        conn.execute("RELEASE SAVEPOINT op; SAVEPOINT op")
        return result, True
    except OpRejected as r:
        conn.execute("ROLLBACK TO SAVEPOINT op")
        result = _result(op.op_id, sp.ST_REJECTED, code=r.code, message=r.message)
        if r.code == sp.R_SCOPE:
            log_security(
                conn,
                "forbidden_scope",
                device_id=dev.device_id,
                sp_id=dev.sp_id,
                detail={
                    "op_id": op.op_id,
                    "op_type": op.op_type,
                    "entity_id": op.entity_id,
                    "message": r.message,
                },
            )
            conn.execute("RELEASE SAVEPOINT op; SAVEPOINT op")
        return result, True
    except (pgerr.DeadlockDetected, pgerr.SerializationFailure, pgerr.LockNotAvailable):
        raise
    except pgerr.UniqueViolation:
        conn.execute("ROLLBACK TO SAVEPOINT op")
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_INVALID,
            message="与县里已有的记录冲突（证件号码或编号重复），未保存",
        ), True
    except (pgerr.DataError, pgerr.IntegrityError) as e:
        conn.execute("ROLLBACK TO SAVEPOINT op")
        log.info("op %s rejected by the database: %s", op.op_id, e)
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_INVALID,
            message="操作内容不符合县里数据要求，未保存",
        ), True


def _replay(op: sp.Op, stored: dict) -> dict:
    if stored["payload_sha256"] != op.payload_sha256:
        return _result(
            op.op_id,
            sp.ST_REJECTED,
            code=sp.R_HASH_MISMATCH,
            message="该操作编号已用于另一份内容，县里保留原内容；请联系技术人员",
        )
    return {**stored["result"], "replayed": True}


def _apply(conn, dev: Device, op: sp.Op) -> dict:
    entity = sp.entity_of(op.op_type)
    if entity is None:
        raise OpRejected(sp.R_UNKNOWN_OP, f"县里不认识这种操作：{op.op_type[:40]}（请升级软件）")
    if not isinstance(op.payload, dict):
        raise OpRejected(sp.R_INVALID, "操作内容应为对象")
    pid = op.payload.get("id")
    if op.op_type.endswith((".create", ".record")) and pid is not None and pid != op.entity_id:
        raise OpRejected(sp.R_INVALID, "操作内容中的编号与操作的对象编号不一致")
    handler = {
        "household.create": _household_create,
        "person.create": _person_create,
        "enrollment.create": _enrollment_create,
        "payment.record": _payment_record,
        "payment.void": _payment_cancel,
        "payment.refund": _payment_cancel,
    }.get(op.op_type)
    if handler is not None:
        return handler(conn, dev, op)
    return _update(conn, dev, op, entity)


def _canon(conn, entity: str, entity_id: str | None) -> str | None:
    if entity_id is None:
        return None
    r = conn.execute(
        "SELECT canonical_id FROM alias WHERE entity = %s AND alias_id = %s", (entity, entity_id)
    ).fetchone()
    return r["canonical_id"] if r else entity_id


def _scope_error(what: str) -> OpRejected:
    return OpRejected(sp.R_SCOPE, f"{what}属于其他服务点，本机无权修改（已记录）")


def _linked(conn, person_id: str, sp_id: str) -> dict | None:
    return conn.execute(
        "SELECT household_id, relation FROM person_link WHERE person_id = %s AND sp_id = %s",
        (person_id, sp_id),
    ).fetchone()


# ------------------------------------------------------------------ households
def _household_create(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_HOUSEHOLD, {**op.payload, "id": op.entity_id}, partial=False)
    existing = conn.execute(
        "SELECT home_sp_id, version, data FROM household WHERE id = %s", (op.entity_id,)
    ).fetchone()
    if existing is not None:
        if existing["home_sp_id"] != dev.sp_id:
            raise _scope_error("该户")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=existing["version"],
            message="县里已有这一户，未重复登记",
        )
    fields["home_service_point_id"] = dev.sp_id
    src = {f: [1, dev.sp_id] for f in fields}
    conn.execute(
        "INSERT INTO household(id, home_sp_id, data, field_src) VALUES (%s, %s, %s, %s)",
        (op.entity_id, dev.sp_id, jsonb(fields), jsonb(src)),
    )
    emit(conn, sp_stream(dev.sp_id), sp.E_HOUSEHOLD, op.entity_id, 1, fields)
    return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id, version=1)


# ------------------------------------------------------------------ persons
def _person_create(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_PERSON, {**op.payload, "id": op.entity_id}, partial=False)
    fields["cert_no"] = fields["cert_no"].strip().upper()
    hh_id = fields.get("household_id")
    pre = conn.execute(
        "SELECT (SELECT canonical_id FROM alias WHERE entity = 'person' AND alias_id = %(id)s)"
        "   AS alias,"
        " (SELECT version FROM person WHERE id = %(id)s) AS version,"
        " EXISTS (SELECT 1 FROM person_link WHERE person_id = %(id)s AND sp_id = %(sp)s)"
        "   AS linked,"
        " (SELECT home_sp_id FROM household WHERE id = %(hh)s) AS hh_home",
        {"id": op.entity_id, "sp": dev.sp_id, "hh": hh_id},
    ).fetchone()
    if pre["alias"] is not None:
        row = conn.execute("SELECT version FROM person WHERE id = %s", (pre["alias"],)).fetchone()
        return _result(
            op.op_id,
            sp.ST_MERGED,
            canonical_id=pre["alias"],
            version=row["version"],
            message="该居民已在县里登记，已合并",
        )
    if pre["version"] is not None:
        if not pre["linked"]:
            raise _scope_error("该居民")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=pre["version"],
            message="县里已有该居民，未重复登记",
        )
    if pre["hh_home"] is not None and pre["hh_home"] != dev.sp_id:
        raise _scope_error("所选的户")
    data = {k: v for k, v in fields.items() if k not in LINK_FIELDS}
    data.setdefault("status", 1)
    src = {f: [1, dev.sp_id] for f in data}
    ins = conn.execute(
        "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, field_src)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (cert_type, cert_no) DO NOTHING"
        " RETURNING id, cert_no, home_sp_id, version, data",
        (op.entity_id, fields["cert_type"], fields["cert_no"], dev.sp_id, jsonb(data), jsonb(src)),
    ).fetchone()
    if ins is not None:
        conn.execute(
            "INSERT INTO person_link(person_id, sp_id, household_id, relation)"
            " VALUES (%s, %s, %s, %s)",
            (op.entity_id, dev.sp_id, hh_id, fields.get("relation")),
        )
        link = {"household_id": hh_id, "relation": fields.get("relation")}
        emit(conn, sp_stream(dev.sp_id), sp.E_PERSON, op.entity_id, 1, person_view(ins, link))
        return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id, version=1)
    return _merge_person(conn, dev, op, fields)


def _merge_person(conn, dev: Device, op: sp.Op, fields: dict) -> dict:
    """The same certificate already held by the county: one person, an alias for the
    desktop's id, a link for this service point, and a review when name/birth differ."""
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data FROM person"
        " WHERE cert_type = %s AND cert_no = %s FOR UPDATE",
        (fields["cert_type"], fields["cert_no"]),
    ).fetchone()
    cid = person["id"]
    conn.execute(
        "INSERT INTO alias(entity, alias_id, canonical_id, sp_id) VALUES ('person', %s, %s, %s)",
        (op.entity_id, cid, dev.sp_id),
    )
    emit(
        conn,
        sp_stream(dev.sp_id),
        sp.E_ALIAS,
        op.entity_id,
        1,
        {"entity": sp.E_PERSON, "canonical_id": cid},
    )
    conn.execute(
        "INSERT INTO person_link(person_id, sp_id, household_id, relation) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (person_id, sp_id) DO UPDATE SET household_id = EXCLUDED.household_id,"
        " relation = EXCLUDED.relation",
        (cid, dev.sp_id, fields.get("household_id"), fields.get("relation")),
    )
    link = _linked(conn, cid, dev.sp_id)
    emit(conn, sp_stream(dev.sp_id), sp.E_PERSON, cid, person["version"], person_view(person, link))
    from county.ytd import emit_ytd_to

    emit_ytd_to(conn, cid, dev.sp_id)  # the county's year-to-date figures for this person
    diffs = {
        f: {"county": person["data"].get(f), "desktop": fields.get(f)}
        for f in ("name", "birth_date", "sex")
        if fields.get(f) != person["data"].get(f)
    }
    home, name = person["home_sp_id"], person["data"].get("name", "")
    sps = sorted({home, dev.sp_id})
    conflict_id = None
    if diffs:
        what = "、".join(label(f) for f in diffs)
        conflict_id = new_conflict(
            conn,
            "identity_review",
            summary=f"同一证件号码{mask(person['cert_no'])}的{what}不一致，需要核实",
            sp_ids=sps,
            person_id=cid,
            entity=sp.E_PERSON,
            entity_id=cid,
            detail={"alias_id": op.entity_id, "differences": diffs, "from_sp": dev.sp_id},
        )
    here, there = sp_name(conn, dev.sp_id), sp_name(conn, home)
    for sid in sps:
        if diffs:
            kind, title = sp.N_IDENTITY_REVIEW, f"身份信息待核实：{name}"
            msg = (
                f"证件号码{mask(person['cert_no'])}已由{there}登记为“{name}”，{here}登记的"
                f"{'、'.join(label(f) for f in diffs)}与之不同。县里已合并为同一人，"
                "请核对居民户口本或身份证后，把正确信息报县医保部门。"
            )
        else:
            kind, title = sp.N_IDENTITY_MERGED, f"同一居民已合并：{name}"
            msg = (
                f"居民{name}（{mask(person['cert_no'])}）已由{there}登记，{here}的登记已合并为同一人，"
                "以后两边都可办理。无需操作；如该居民重复参保，县里会另行通知。"
            )
        upsert_notice(
            conn,
            sid,
            sp.Notice(
                id=det_id_for(op.entity_id, sid),
                kind=kind,
                title=title,
                message=msg,
                conflict_id=conflict_id,
                person_id=cid,
                entity_ids=[op.entity_id, cid],
            ),
        )
    return _result(
        op.op_id,
        sp.ST_MERGED,
        canonical_id=cid,
        version=person["version"],
        conflict_id=conflict_id,
        message=f"该居民已由{there}在县里登记，已合并为同一人"
        + ("；姓名或出生日期不一致，已转县里核实" if diffs else ""),
    )


def det_id_for(*parts: str) -> str:
    from county.conflicts import det_id

    return det_id("merge", *parts)


# ------------------------------------------------------------------ enrollments
def _enrollment_create(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_ENROLLMENT, {**op.payload, "id": op.entity_id}, partial=False)
    pre = conn.execute(
        "SELECT (SELECT sp_id FROM enrollment WHERE id = %(id)s) AS sp_id,"
        " (SELECT version FROM enrollment WHERE id = %(id)s) AS version,"
        " COALESCE((SELECT canonical_id FROM alias WHERE entity = 'person'"
        "   AND alias_id = %(p)s), %(p)s) AS person_id",
        {"id": op.entity_id, "p": fields["person_id"]},
    ).fetchone()
    if pre["sp_id"] is not None:
        if pre["sp_id"] != dev.sp_id:
            raise _scope_error("该参保登记")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=pre["version"],
            message="县里已有这条参保登记",
        )
    person_id = pre["person_id"]
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data,"
        " EXISTS (SELECT 1 FROM person_link l WHERE l.person_id = person.id AND l.sp_id = %s)"
        "   AS linked FROM person WHERE id = %s FOR UPDATE",
        (dev.sp_id, person_id),
    ).fetchone()
    if person is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里还没有该居民的登记，请先同步居民信息")
    if not person["linked"]:
        raise _scope_error("该居民")
    fields["person_id"] = person_id
    fields["service_point_id"] = dev.sp_id
    fields["conflict_status"] = "none"
    fields.setdefault("status", "registered")
    src = {f: [1, dev.sp_id] for f in fields}
    conn.execute(
        "INSERT INTO enrollment(id, person_id, year, sp_id, data, field_src)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (op.entity_id, person_id, fields["year"], dev.sp_id, jsonb(fields), jsonb(src)),
    )
    emit(conn, sp_stream(dev.sp_id), sp.E_ENROLLMENT, op.entity_id, 1, fields)
    # a separate statement after the lock: it sees enrollments committed while we waited
    # (a subquery in the locking SELECT would still read the statement's old snapshot)
    outcome = evaluate_enrollments(conn, person, fields["year"])
    return _enrollment_result(conn, op, outcome, fields["year"])


def _enrollment_result(conn, op: sp.Op, outcome: dict | None, year: int) -> dict:
    if outcome is None:
        return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id, version=1)
    version = conn.execute(
        "SELECT version FROM enrollment WHERE id = %s", (op.entity_id,)
    ).fetchone()["version"]
    if outcome["statuses"][op.entity_id] == "lost":
        return _result(
            op.op_id,
            sp.ST_CONFLICT,
            canonical_id=op.entity_id,
            version=version,
            conflict_id=outcome["conflict_id"],
            code="double_enrollment",
            message=f"该居民{year}年度已在其他服务点参保登记，县里保留了那边的登记；详见通知",
        )
    return _result(
        op.op_id,
        sp.ST_APPLIED,
        canonical_id=op.entity_id,
        version=version,
        conflict_id=outcome["conflict_id"],
        code="double_enrollment",
        message=f"该居民{year}年度在其他服务点也有登记，县里按规则保留本服务点的登记；详见通知",
    )


# ------------------------------------------------------------------ payments
def _payment_record(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_PAYMENT, {**op.payload, "id": op.entity_id}, partial=False)
    pre = conn.execute(
        "SELECT p.sp_id AS pay_sp, p.version AS pay_version, e.id, e.person_id, e.year,"
        " e.sp_id FROM (SELECT 1) x LEFT JOIN payment p ON p.id = %(id)s"
        " LEFT JOIN enrollment e ON e.id = %(e)s",
        {"id": op.entity_id, "e": fields.get("enrollment_id")},
    ).fetchone()
    if pre["pay_sp"] is not None:
        if pre["pay_sp"] != dev.sp_id:
            raise _scope_error("该笔缴费")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=pre["pay_version"],
            message="县里已有这笔缴费",
        )
    if fields.get("enrollment_id"):
        enr = pre if pre["id"] is not None else None
    elif fields.get("person_id") and fields.get("year"):
        enr = conn.execute(
            "SELECT id, person_id, year, sp_id FROM enrollment"
            " WHERE person_id = %s AND year = %s AND sp_id = %s ORDER BY arrival LIMIT 1",
            (_canon(conn, sp.E_PERSON, fields["person_id"]), fields["year"], dev.sp_id),
        ).fetchone()
    else:
        raise OpRejected(sp.R_INVALID, "缴费缺少参保登记（enrollment_id）或居民与年度")
    if enr is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里还没有这笔缴费对应的参保登记，请先同步参保登记")
    if enr["sp_id"] != dev.sp_id:
        raise _scope_error("该参保登记")
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data FROM person WHERE id = %s FOR UPDATE",
        (enr["person_id"],),
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
        "INSERT INTO payment(id, enrollment_id, sp_id, amount, receipt_no, data, field_src)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            op.entity_id,
            enr["id"],
            dev.sp_id,
            amount,
            fields.get("receipt_no") or "",
            jsonb(fields),
            jsonb(src),
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


def _payment_cancel(conn, dev: Device, op: sp.Op) -> dict:
    """payment.void / payment.refund: the payment is kept, marked, and no longer counts
    for the winner rule; a tax-confirmed one also goes to the county for review."""
    status = "voided" if op.op_type == "payment.void" else "refunded"
    p = op.payload
    reason = p.get("reason") or p.get("void_reason") or ""
    if not isinstance(reason, str) or len(reason) > 200:
        raise OpRejected(sp.R_INVALID, "作废或退费原因格式不正确（最多200字）")
    row = conn.execute(
        "SELECT id, enrollment_id, sp_id, version, data, tax_confirmed, cancelled FROM payment"
        " WHERE id = %s",
        (op.entity_id,),
    ).fetchone()
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
    enr = conn.execute(
        "SELECT person_id, year FROM enrollment WHERE id = %s", (row["enrollment_id"],)
    ).fetchone()
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data FROM person WHERE id = %s FOR UPDATE",
        (enr["person_id"],),
    ).fetchone()
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
        " WHERE id = %s",
        (jsonb(data), version, row["id"]),
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


# ------------------------------------------------------------------ updates
TABLES = {sp.E_PERSON: "person", sp.E_HOUSEHOLD: "household", sp.E_ENROLLMENT: "enrollment"}
FIXED = {
    sp.E_ENROLLMENT: {"person_id", "year"},
    sp.E_PERSON: {"cert_type"},
    sp.E_HOUSEHOLD: set(),
}


def _update(conn, dev: Device, op: sp.Op, entity: str) -> dict:
    table = TABLES[entity]
    eid = _canon(conn, entity, op.entity_id)
    row = conn.execute(f"SELECT * FROM {table} WHERE id = %s FOR UPDATE", (eid,)).fetchone()
    if row is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里没有这条记录，请先同步")
    link = None
    if entity == sp.E_PERSON:
        link = _linked(conn, eid, dev.sp_id)
        if link is None:
            raise _scope_error("该居民")
    elif (row.get("home_sp_id") or row.get("sp_id")) != dev.sp_id:
        raise _scope_error("该记录")
    payload = op.payload
    three_way = isinstance(payload.get("changes"), dict)
    new = clean_fields(entity, payload["changes"] if three_way else payload, partial=True)
    before = payload.get("before") if three_way and isinstance(payload.get("before"), dict) else {}
    new.pop("id", None)
    data, src = dict(row["data"]), dict(row["field_src"] or {})
    base = op.base_version or 0
    applied, corrections, conflicts = {}, {}, {}
    link_changes = {}
    for f, v in new.items():
        if entity == sp.E_PERSON and f in LINK_FIELDS:
            if link.get(f) != v:
                link_changes[f] = v
            continue
        if f == "cert_no" and isinstance(v, str):
            v = v.strip().upper()
        cur = data.get(f)
        if v == cur:
            continue
        if f in sp.COUNTY_OWNED_FIELDS.get(entity, ()) or f in FIXED[entity]:
            if cur is None and not three_way:
                continue  # a full row echoing a value the county never set: not a request
            corrections[f] = {"county": cur, "requested": v}
            continue
        if three_way and f in before:
            stale = before[f] != cur
        else:
            last = src.get(f)
            stale = bool(last) and last[1] != dev.sp_id and last[0] > base
        if stale:
            conflicts[f] = {"county": cur, "desktop": v}
        else:
            applied[f] = v
    if link_changes:
        hh = link_changes.get("household_id")
        if hh:
            h = conn.execute("SELECT home_sp_id FROM household WHERE id = %s", (hh,)).fetchone()
            if h is not None and h["home_sp_id"] != dev.sp_id:
                raise _scope_error("所选的户")
        merged_link = {**link, **link_changes}
        conn.execute(
            "UPDATE person_link SET household_id = %s, relation = %s"
            " WHERE person_id = %s AND sp_id = %s",
            (merged_link["household_id"], merged_link["relation"], eid, dev.sp_id),
        )
    version = row["version"]
    if applied or link_changes:
        version += 1
        data.update(applied)
        for f in applied:
            src[f] = [version, dev.sp_id]
        extra = ""
        if entity == sp.E_PERSON and "cert_no" in applied:
            extra = ", cert_no = %(cert_no)s"
        conn.execute(
            f"UPDATE {table} SET data = %(data)s, field_src = %(src)s, version = %(v)s,"
            f" updated_at = now(){extra} WHERE id = %(id)s",
            {
                "data": jsonb(data),
                "src": jsonb(src),
                "v": version,
                "id": eid,
                "cert_no": applied.get("cert_no"),
            },
        )
        _emit_row(conn, entity, {**row, "data": data, "version": version})
    conflict_id = None
    name = (row["data"] or {}).get("name") or ""

    def tell(
        kind: str,
        fields: dict,
        summary: str,
        notice_kind: str,
        title: str,
        message: str,
        detail: dict,
        suffix: str,
    ) -> str:
        """Record a conflict for the county and a notice for this service point."""
        cid = new_conflict(
            conn,
            kind,
            summary=f"{sp_name(conn, dev.sp_id)}{summary}" + "、".join(label(f) for f in fields),
            sp_ids=[dev.sp_id],
            entity=entity,
            entity_id=eid,
            person_id=eid if entity == sp.E_PERSON else None,
            detail={"fields": fields, "op_id": op.op_id, **detail},
        )
        upsert_notice(
            conn,
            dev.sp_id,
            sp.Notice(
                id=det_id_for(op.op_id, suffix),
                kind=notice_kind,
                title=f"{title}{('：' + name) if name else ''}",
                message="、".join(label(f) for f in fields) + message,
                conflict_id=cid,
                entity_ids=[eid],
            ),
        )
        return cid

    if corrections:
        conflict_id = tell(
            "correction_request",
            corrections,
            "申请更正县里管理的字段：",
            sp.N_CORRECTION,
            "已提交更正申请",
            "由县医保部门管理，本机的修改未直接生效，已作为更正申请报县里审核；审核后会同步下来。",
            {"device_id": dev.device_id},
            "correction",
        )
    if conflicts:
        conflict_id = tell(
            "stale_update",
            conflicts,
            "的修改与县里较新的数据冲突：",
            sp.N_STALE_UPDATE,
            "修改未生效",
            "在县里已被其他人改过，本机的修改未覆盖县里的数据。请同步后核对，需要时重新修改。",
            {"base_version": op.base_version},
            "stale",
        )
        return _result(
            op.op_id,
            sp.ST_CONFLICT,
            canonical_id=eid,
            version=version,
            conflict_id=conflict_id,
            corrections=sorted(corrections),
            message="部分字段在县里已被其他人修改，未覆盖；详见通知",
        )
    msg = "县里管理的字段已转为更正申请" if corrections else ""
    status = sp.ST_MERGED if eid != op.entity_id else sp.ST_APPLIED
    return _result(
        op.op_id,
        status,
        canonical_id=eid,
        version=version,
        message=msg,
        corrections=sorted(corrections),
        conflict_id=conflict_id,
    )


def _emit_row(conn, entity: str, row: dict) -> None:
    if entity == sp.E_PERSON:
        emit_person(conn, row)
    elif entity == sp.E_HOUSEHOLD:
        emit(conn, sp_stream(row["home_sp_id"]), entity, row["id"], row["version"], row["data"])
    else:
        emit(conn, sp_stream(row["sp_id"]), entity, row["id"], row["version"], row["data"])
