"""person/household/enrollment updates from a desk: applied, or recorded as a correction request or a stale update."""

from __future__ import annotations

from core import syncproto as sp
from county.conflicts import new_conflict, sp_name, upsert_notice
from county.db import emit, jsonb, row_by_id, sp_stream
from county.ingest.common import LINK_FIELDS, Device, _canon, _linked, _result, _scope_error
from county.ingest.persons import det_id_for
from county.model import OpRejected, clean_fields, label
from county.people import emit_person

# ------------------------------------------------------------------ updates
TABLES = {sp.E_PERSON: "person", sp.E_HOUSEHOLD: "household", sp.E_ENROLLMENT: "enrollment"}
FIXED = {
    sp.E_ENROLLMENT: {"person_id", "year"},
    sp.E_PERSON: {"cert_type"},
    sp.E_HOUSEHOLD: set(),
}


def apply_update(conn, dev: Device, op: sp.Op, entity: str) -> dict:
    table, eid, row, link = _target(conn, dev, op, entity)
    payload = op.payload
    three_way = isinstance(payload.get("changes"), dict)
    new = clean_fields(entity, payload["changes"] if three_way else payload, partial=True)
    before = payload.get("before") if three_way and isinstance(payload.get("before"), dict) else {}
    new.pop("id", None)
    sorted_ = _sort_fields(entity, new, row, link, before, three_way, op.base_version or 0, dev)
    applied, corrections, conflicts, link_changes = sorted_
    moved_elsewhere = _moved_elsewhere(conn, dev, eid, link_changes, op.base_version or 0)
    if moved_elsewhere:
        link_changes = {}
    if link_changes:
        _save_link(conn, dev, eid, link, link_changes, row["version"] + 1)
    version = row["version"]
    if applied or link_changes:
        version = _save_row(conn, table, entity, row, applied, dev)
    conflict_id = _tell_requests(conn, dev, op, entity, eid, row, corrections)
    if moved_elsewhere:
        conflict_id = _move_conflict(conn, dev, op, eid, row, link, moved_elsewhere, new)
        return _result(
            op.op_id,
            sp.ST_CONFLICT,
            canonical_id=eid,
            version=version,
            conflict_id=conflict_id,
            corrections=sorted(corrections),
            message="该居民已由另一服务点迁入别的户，本次迁移未生效；详见通知",
        )
    if conflicts:
        conflict_id = _tell_stale(conn, dev, op, entity, eid, row, conflicts)
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


def _tell_requests(conn, dev: Device, op: sp.Op, entity, eid, row, corrections) -> str | None:
    """County-owned fields the desk changed: a correction request, told to the point."""
    if not corrections:
        return None
    return _tell(
        conn,
        dev,
        op,
        entity,
        eid,
        row,
        "correction_request",
        corrections,
        "申请更正县里管理的字段：",
        sp.N_CORRECTION,
        "已提交更正申请",
        "由县医保部门管理，本机的修改未直接生效，已作为更正申请报县里审核；审核后会同步下来。",
        {"device_id": dev.device_id},
        "correction",
    )


def _tell_stale(conn, dev: Device, op: sp.Op, entity, eid, row, conflicts) -> str:
    """Fields someone else changed since the desk's version: kept, the point is told."""
    return _tell(
        conn,
        dev,
        op,
        entity,
        eid,
        row,
        "stale_update",
        conflicts,
        "的修改与县里较新的数据冲突：",
        sp.N_STALE_UPDATE,
        "修改未生效",
        "在县里已被其他人改过，本机的修改未覆盖县里的数据。请同步后核对，需要时重新修改。",
        {"base_version": op.base_version},
        "stale",
    )


def _target(conn, dev: Device, op: sp.Op, entity: str):
    """The row an update names (through aliases), locked, and the device's link to it:
    (table, canonical id, row, person link or None). Another point's row is refused."""
    table = TABLES[entity]
    eid = _canon(conn, entity, op.entity_id)
    row = row_by_id(conn, table, eid, lock=True, county=dev.region)
    if row is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里没有这条记录，请先同步")
    link = None
    if entity == sp.E_PERSON:
        link = _linked(conn, eid, dev.sp_id)
        if link is None:
            raise _scope_error("该居民")
    elif (row.get("home_sp_id") or row.get("sp_id")) != dev.sp_id:
        raise _scope_error("该记录")
    return table, eid, row, link


def _sort_fields(
    entity: str,
    new: dict,
    row: dict,
    link: dict | None,
    before: dict,
    three_way: bool,
    base: int,
    dev: Device,
):
    """Each changed field goes one way: applied, a correction request (county-owned or
    fixed), a conflict (stale: someone else changed it since the desk's version), or a
    change of the person's link (household, relation) at this service point."""
    data, src = row["data"], row["field_src"] or {}
    applied, corrections, conflicts, link_changes = {}, {}, {}, {}
    # a death the county recorded wins: what a desk changes afterwards goes to the county
    # as a correction request, never straight onto the record
    dead = entity == sp.E_PERSON and data.get("status") == 3 and _died(data)
    # a person whose home is another service point: changes go to the county as correction
    # requests, never straight onto the other point's record
    foreign = entity == sp.E_PERSON and row.get("home_sp_id") not in (None, dev.sp_id)
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
        if dead or foreign or f in sp.COUNTY_OWNED_FIELDS.get(entity, ()) or f in FIXED[entity]:
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
    return applied, corrections, conflicts, link_changes


def _died(data: dict) -> bool:
    return str(data.get("exit_reason") or "").startswith("死亡")


def _moved_elsewhere(conn, dev: Device, eid: str, link_changes: dict, base: int) -> list[dict]:
    """Another service point's move of this person that the desk did not know of (made at
    a person version after the desk's base): the first move to reach the county wins."""
    if "household_id" not in link_changes:
        return []
    return conn.execute(
        "SELECT l.sp_id, l.household_id, l.moved_version, s.name AS sp_name"
        " FROM person_link l JOIN service_point s ON s.id = l.sp_id"
        " WHERE l.person_id = %s AND l.sp_id <> %s AND l.moved_version > %s",
        (eid, dev.sp_id, base),
    ).fetchall()


def _move_conflict(conn, dev: Device, op: sp.Op, eid, row, link, theirs, new) -> str:
    """Keep the first move; record both versions for the county and tell both points."""
    name = (row["data"] or {}).get("name") or ""
    mine = {"sp": sp_name(conn, dev.sp_id), "household_id": new.get("household_id")}
    first = [{"sp": t["sp_name"], "household_id": t["household_id"]} for t in theirs]
    sp_ids = sorted({dev.sp_id, *(t["sp_id"] for t in theirs)})
    cid = new_conflict(
        conn,
        "move_conflict",
        summary=f"{name}被两个服务点迁入不同的家庭户（{'、'.join(f['sp'] for f in first)}在先）",
        sp_ids=sp_ids,
        entity=sp.E_PERSON,
        entity_id=eid,
        person_id=eid,
        detail={
            "kept": first,
            "refused": mine,
            "op_id": op.op_id,
            "household_before": link.get("household_id"),
        },
    )
    for sid in sp_ids:
        here = sid == dev.sp_id
        upsert_notice(
            conn,
            sid,
            sp.Notice(
                id=det_id_for(op.op_id, "move", sid),
                kind=sp.N_MOVE_CONFLICT,
                title=f"迁移冲突：{name}",
                message=(
                    f"{first[0]['sp']}已先把{name}迁入其他户，本服务点的迁移未生效。"
                    if here
                    else f"{mine['sp']}也要把{name}迁入另一户，县里保留了本服务点先办的迁移。"
                )
                + "请与居民核实实际所在户；如需改动，报县医保局裁定。",
                conflict_id=cid,
                entity_ids=[eid],
            ),
        )
    return cid


def _save_link(conn, dev: Device, eid: str, link: dict, link_changes: dict, version: int) -> None:
    hh = link_changes.get("household_id")
    if hh:
        h = conn.execute("SELECT home_sp_id FROM household WHERE id = %s", (hh,)).fetchone()
        if h is not None and h["home_sp_id"] != dev.sp_id:
            raise _scope_error("所选的户")
    merged_link = {**link, **link_changes}
    moved = version if "household_id" in link_changes else None
    conn.execute(
        "UPDATE person_link SET household_id = %s, relation = %s,"
        " moved_version = COALESCE(%s, moved_version) WHERE person_id = %s AND sp_id = %s",
        (merged_link["household_id"], merged_link["relation"], moved, eid, dev.sp_id),
    )


def _save_row(conn, table: str, entity: str, row: dict, applied: dict, dev: Device) -> int:
    """Write the applied fields as a new version (each field's source: this point)."""
    version = row["version"] + 1
    data = {**row["data"], **applied}
    src = {**(row["field_src"] or {}), **{f: [version, dev.sp_id] for f in applied}}
    extra = ""
    if entity == sp.E_PERSON and "cert_no" in applied:
        extra = ", cert_no = %(cert_no)s"
    in_county = " AND region = %(region)s" if "region" in row else ""
    conn.execute(
        f"UPDATE {table} SET data = %(data)s, field_src = %(src)s, version = %(v)s,"
        f" updated_at = now(){extra} WHERE id = %(id)s{in_county}",
        {
            "data": jsonb(data),
            "src": jsonb(src),
            "v": version,
            "id": row["id"],
            "region": row.get("region"),
            "cert_no": applied.get("cert_no"),
        },
    )
    _emit_row(conn, entity, {**row, "data": data, "version": version})
    return version


def _tell(
    conn,
    dev: Device,
    op: sp.Op,
    entity: str,
    eid: str,
    row: dict,
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
    name = (row["data"] or {}).get("name") or ""
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


def _emit_row(conn, entity: str, row: dict) -> None:
    if entity == sp.E_PERSON:
        emit_person(conn, row)
    elif entity == sp.E_HOUSEHOLD:
        emit(conn, sp_stream(row["home_sp_id"]), entity, row["id"], row["version"], row["data"])
    else:
        emit(conn, sp_stream(row["sp_id"]), entity, row["id"], row["version"], row["data"])
