"""person.create from a desk: a new person, or the same ID number met again (merged with an alias and an identity review)."""

from __future__ import annotations

from core import syncproto as sp
from county.conflicts import new_conflict, sp_name, upsert_notice
from county.db import emit, jsonb, log_security, person_by_cert, row_by_id, sp_stream
from county.ingest.common import LINK_FIELDS, Device, _linked, _result, _scope_error
from county.model import clean_fields, label, mask, person_view


# ------------------------------------------------------------------ persons
def person_create(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_PERSON, {**op.payload, "id": op.entity_id}, partial=False)
    fields["cert_no"] = fields["cert_no"].strip().upper()
    hh_id = fields.get("household_id")
    pre = conn.execute(
        "SELECT (SELECT canonical_id FROM alias WHERE entity = 'person' AND alias_id = %(id)s)"
        "   AS alias,"
        " (SELECT region FROM person_key WHERE id = %(id)s) AS region,"
        " EXISTS (SELECT 1 FROM person_link WHERE person_id = %(id)s AND sp_id = %(sp)s)"
        "   AS linked,"
        " (SELECT home_sp_id FROM household WHERE id = %(hh)s) AS hh_home",
        {"id": op.entity_id, "sp": dev.sp_id, "hh": hh_id},
    ).fetchone()
    if pre["alias"] is not None:
        row = row_by_id(conn, "person", pre["alias"], "version", county=dev.region)
        return _result(
            op.op_id,
            sp.ST_MERGED,
            canonical_id=pre["alias"],
            version=row["version"],
            message="该居民已在县里登记，已合并",
        )
    if pre["region"] is not None:
        if not pre["linked"]:
            raise _scope_error("该居民")
        held = conn.execute(
            "SELECT version FROM person WHERE region = %s AND id = %s",
            (pre["region"], op.entity_id),
        ).fetchone()
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=held["version"],
            message="县里已有该居民，未重复登记",
        )
    if pre["hh_home"] is not None and pre["hh_home"] != dev.sp_id:
        raise _scope_error("所选的户")
    data = {k: v for k, v in fields.items() if k not in LINK_FIELDS}
    data.setdefault("status", 1)
    src = {f: [1, dev.sp_id] for f in data}
    # the certificate is claimed province-wide first (person_key); held already → a merge
    claimed = conn.execute(
        "INSERT INTO person_key(id, region, cert_type, cert_no) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (cert_type, cert_no) DO NOTHING RETURNING id",
        (op.entity_id, dev.region, fields["cert_type"], fields["cert_no"]),
    ).fetchone()
    if claimed is not None:
        ins = conn.execute(
            "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, field_src, region)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)"
            " RETURNING id, cert_no, home_sp_id, version, data, region",
            (
                op.entity_id,
                fields["cert_type"],
                fields["cert_no"],
                dev.sp_id,
                jsonb(data),
                jsonb(src),
                dev.region,
            ),
        ).fetchone()
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
    person = person_by_cert(
        conn,
        fields["cert_type"],
        fields["cert_no"],
        "id, cert_no, home_sp_id, version, data, region",
        lock=True,
        county=dev.region,
    )
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
    foreign = _link_point(conn, dev, op, person, fields)
    diffs = {
        f: {"county": person["data"].get(f), "desktop": fields.get(f)}
        for f in ("name", "birth_date", "sex")
        if fields.get(f) != person["data"].get(f)
    }
    sps = sorted({person["home_sp_id"], dev.sp_id})
    conflict_id = _open_review(conn, dev, op, person, diffs, sps, foreign)
    there = _tell_merged(conn, dev, op, person, diffs, conflict_id, sps)
    return _result(
        op.op_id,
        sp.ST_MERGED,
        canonical_id=cid,
        version=person["version"],
        conflict_id=conflict_id,
        message=f"该居民已由{there}在县里登记，已合并为同一人"
        + ("；姓名或出生日期不一致，已转县里核实" if diffs else ""),
    )


def _link_point(conn, dev: Device, op: sp.Op, person, fields: dict) -> bool:
    """Link this point to the person and tell it the county's id. Another point's resident:
    this point sees only what it sent until the county confirms the identity (an ID number
    alone must not hand over a stranger's record); returns whether it is one."""
    cid = person["id"]
    foreign = person["home_sp_id"] != dev.sp_id
    sent = {k: v for k, v in fields.items() if k not in LINK_FIELDS} if foreign else None
    conn.execute(
        "INSERT INTO person_link(person_id, sp_id, household_id, relation, sent)"
        " VALUES (%s, %s, %s, %s, %s)"
        " ON CONFLICT (person_id, sp_id) DO UPDATE SET household_id = EXCLUDED.household_id,"
        " relation = EXCLUDED.relation",
        (
            cid,
            dev.sp_id,
            fields.get("household_id"),
            fields.get("relation"),
            jsonb(sent) if sent is not None else None,
        ),
    )
    link = _linked(conn, cid, dev.sp_id)
    held = conn.execute(  # a link the county already confirmed keeps its full view
        "SELECT sent FROM person_link WHERE person_id = %s AND sp_id = %s", (cid, dev.sp_id)
    ).fetchone()["sent"]
    seen = {**person, "data": held} if held is not None else person
    emit(conn, sp_stream(dev.sp_id), sp.E_PERSON, cid, person["version"], person_view(seen, link))
    if foreign:
        log_security(
            conn,
            "cross_point_merge",
            device_id=dev.device_id,
            sp_id=dev.sp_id,
            detail={"person_id": cid, "home_sp_id": person["home_sp_id"], "op_id": op.op_id},
        )
    else:
        from county.ytd import (
            emit_ytd_to,
        )  # deferred: breaks an import cycle (ytd/conflicts/fastpath import ingest)

        emit_ytd_to(conn, cid, dev.sp_id)  # the county's year-to-date figures for this person
    return foreign


def _open_review(conn, dev: Device, op: sp.Op, person, diffs, sps, foreign) -> str | None:
    """A review when name/birth differ; for another point's resident with the same name and
    birth date, a confirmation the county still owes (no review of differences)."""
    cid = person["id"]
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
    elif foreign:
        # the same name and birth date: still the county's to confirm before the other
        # point sees the record (an ID number and a name are not proof of identity)
        new_conflict(
            conn,
            "identity_confirm",
            summary=f"另一服务点登记了证件号码{mask(person['cert_no'])}的居民，待县里确认为同一人",
            sp_ids=sps,
            person_id=cid,
            entity=sp.E_PERSON,
            entity_id=cid,
            detail={"alias_id": op.entity_id, "from_sp": dev.sp_id},
        )
    return conflict_id


def _tell_merged(conn, dev: Device, op: sp.Op, person, diffs, conflict_id, sps) -> str:
    """A notice to each service point holding the person: merged, or merged with an
    identity to check. Returns the name of the point that registered the person first."""
    home, name = person["home_sp_id"], person["data"].get("name", "")
    cid = person["id"]
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
    return there


def det_id_for(*parts: str) -> str:
    from county.conflicts import (
        det_id,
    )  # deferred: breaks an import cycle (ytd/conflicts/fastpath import ingest)

    return det_id("merge", *parts)
