"""enrollment.create from a desk, with the double-enrollment rule."""

from __future__ import annotations

from core import syncproto as sp
from county.conflicts import evaluate_enrollments
from county.db import emit, jsonb, sp_stream
from county.ingest.common import Device, _result, _scope_error
from county.model import OpRejected, clean_fields


# ------------------------------------------------------------------ enrollments
def enrollment_create(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_ENROLLMENT, {**op.payload, "id": op.entity_id}, partial=False)
    # the counties of the enrollment (if the county holds it) and of its person
    pre = conn.execute(
        "SELECT (SELECT region FROM enrollment_key WHERE id = %(id)s) AS region, q.person_id,"
        " (SELECT region FROM person_key WHERE id = q.person_id) AS person_region"
        " FROM (SELECT COALESCE((SELECT canonical_id FROM alias WHERE entity = 'person'"
        "   AND alias_id = %(p)s), %(p)s) AS person_id) q",
        {"id": op.entity_id, "p": fields["person_id"]},
    ).fetchone()
    if pre["region"] is not None:
        held = conn.execute(
            "SELECT sp_id, version FROM enrollment WHERE region = %s AND id = %s",
            (pre["region"], op.entity_id),
        ).fetchone()
        if held["sp_id"] != dev.sp_id:
            raise _scope_error("该参保登记")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=held["version"],
            message="县里已有这条参保登记",
        )
    person_id = pre["person_id"]
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data,"
        " EXISTS (SELECT 1 FROM person_link l WHERE l.person_id = person.id AND l.sp_id = %s)"
        "   AS linked, region FROM person WHERE region = %s AND id = %s FOR UPDATE",
        (dev.sp_id, pre["person_region"], person_id),
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
        "INSERT INTO enrollment(id, person_id, year, sp_id, data, field_src, region)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s)",
        (
            op.entity_id,
            person_id,
            fields["year"],
            dev.sp_id,
            jsonb(fields),
            jsonb(src),
            person["region"],  # beside its person
        ),
    )
    emit(conn, sp_stream(dev.sp_id), sp.E_ENROLLMENT, op.entity_id, 1, fields)
    # a separate statement after the lock: it sees enrollments committed while we waited
    # (a subquery in the locking SELECT would still read the statement's old snapshot)
    outcome = evaluate_enrollments(conn, person, fields["year"])
    return _enrollment_result(conn, op, outcome, fields["year"], person["region"])


def _enrollment_result(conn, op: sp.Op, outcome: dict | None, year: int, region: str) -> dict:
    if outcome is None:
        return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id, version=1)
    version = conn.execute(
        "SELECT version FROM enrollment WHERE region = %s AND id = %s", (region, op.entity_id)
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
