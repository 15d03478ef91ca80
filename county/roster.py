"""The county roster import (花名册): persons, and households by 户号, become county rows
on their service point's stream; a changed row updates the county's fields."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from core import rowids
from core import syncproto as sp
from core.categories import INSURED_CATEGORIES, RELATIONS, SUBSIDY_CATEGORIES
from core.ids import check_id
from county.db import emit, jsonb, person_by_cert, sp_stream
from county.model import OpRejected
from county.people import emit_person
from county.places import service_point_by_code
from county.tables import AdminError, ImportReport, _code, _pick, import_rows, outside
from county.ytd import emit_ytd_to

ROSTER_OWNED = (
    "status",
    "subsidy_category",
    "insured_category",
    "name",
    "sex",
    "birth_date",
    "address",
)


def import_roster(
    conn: psycopg.Connection, rows: list[dict], first_row: int = 2, region: str | None = None
) -> ImportReport:
    """The county roster: persons (and households by 户号) become county rows on their
    service point's stream. Each row in its own savepoint: a bad row is reported, the
    others go in. ``region``: the one county the importing account works for — a row of a
    service point or a resident of another county is refused."""
    sps: dict[str, dict] = {}
    return import_rows(
        conn, rows, first_row, lambda c, row: _roster_row(c, row, sps, region), (OpRejected,)
    )


def _roster_row(conn, row: dict, sps: dict, region: str | None) -> str | tuple[str, str]:
    chk, spr, fields, relation, hh_no = _roster_fields(conn, row, sps)
    if region and spr["region_code"] != region:
        raise AdminError(outside(region, f"服务点 {spr['code']}"))
    village = _pick(row, "村", "村居委会", "village_name")
    hh_id = (
        _roster_household(conn, spr, hh_no, village, fields.get("address", "")) if hh_no else None
    )
    outcome, person_id = _roster_person(conn, chk, spr, fields, relation, hh_id, region)
    if village and not hh_no:
        # a village is a household's: with no 户号 the row names no household to put it on.
        # Said, not dropped without a word (the resident would count under （未填村）).
        home = conn.execute(
            "SELECT h.data->>'village_name' AS village FROM person_link pl"
            " JOIN household h ON h.id = pl.household_id"
            " WHERE pl.person_id = %s AND pl.sp_id = %s",
            (person_id, spr["id"]),
        ).fetchone()
        if home is None:
            return outcome, f"没有户号，村“{village[:20]}”未记入（村随户登记：补上户号再导入）"
        if home["village"] != village:
            return outcome, (
                f"村“{village[:20]}”与户里登记的“{home['village'] or '（未填村）'}”不同，"
                "未改（村随户登记：改村请在户里改）"
            )
    return outcome


def _roster_person(
    conn, chk, spr: dict, fields: dict, relation, hh_id: str | None, region: str | None = None
) -> tuple[str, str]:
    """The roster's resident made or brought up to date: (created / updated / unchanged,
    the person's id)."""
    person = person_by_cert(
        conn,
        "resident_id",
        chk.normalized,
        "id, cert_no, home_sp_id, version, data, field_src, region",
        lock=True,
        county=spr["region_code"],
    )
    if person is None:
        return "created", _new_roster_person(conn, chk.normalized, spr, fields, hh_id, relation)
    if region and person["region"] != region:
        raise AdminError(outside(region, "这位居民的参保登记"))
    link_changed = _roster_link(conn, person["id"], spr["id"], hh_id, relation)
    changed = {f: v for f, v in fields.items() if person["data"].get(f) != v and f != "cert_type"}
    if not changed and not link_changed:
        return "unchanged", person["id"]
    version = person["version"] + 1
    data = {**person["data"], **changed}
    src = {**(person["field_src"] or {}), **{f: [version, "county"] for f in changed}}
    conn.execute(
        "UPDATE person SET data = %s, field_src = %s, version = %s, updated_at = now()"
        " WHERE region = %s AND id = %s",
        (jsonb(data), jsonb(src), version, person["region"], person["id"]),
    )
    emit_person(conn, {**person, "data": data, "version": version})
    return "updated", person["id"]


def _roster_fields(conn, row: dict, sps: dict):
    """One roster row checked: (ID check, service point, person fields, relation, 户号)."""
    cert = _pick(row, "身份证号", "公民身份号码", "cert_no").upper()
    chk = check_id(cert)
    if not chk.valid:
        raise AdminError(f"身份证号 {cert[:20]}：{chk.message}")
    name = _pick(row, "姓名", "name")
    if not name or len(name) > 50:
        raise AdminError("缺少姓名")
    sp_code = _pick(row, "服务点编码", "service_point")
    if not sp_code:
        raise AdminError("缺少服务点编码")
    if sp_code not in sps:
        sps[sp_code] = service_point_by_code(conn, sp_code)
    spr = sps[sp_code]
    fields: dict = {
        "name": name,
        "sex": chk.sex,
        "birth_date": chk.birth_date.isoformat(),
        "cert_type": "resident_id",
        "cert_no": chk.normalized,
        "region_code": _pick(row, "医保区划", "region_code") or spr["region_code"],
    }
    if v := _pick(row, "参保人员类别", "insured_category"):
        fields["insured_category"] = _code(v, INSURED_CATEGORIES, "参保人员类别")
    if v := _pick(row, "资助类别", "subsidy_category"):
        fields["subsidy_category"] = _code(v, SUBSIDY_CATEGORIES, "资助类别")
    if v := _pick(row, "参保状态", "status"):
        if v not in ("0", "1", "2", "3"):
            raise AdminError("参保状态应为0-3")
        fields["status"] = int(v)
    if v := _pick(row, "地址", "address"):
        fields["address"] = v[:200]
    _exit_fields(row, fields)
    relation = _pick(row, "与户主关系", "relation")
    relation = _code(relation, RELATIONS, "与户主关系") if relation else None
    return chk, spr, fields, relation, _pick(row, "户号", "household_no")


def _exit_fields(row: dict, fields: dict) -> None:
    """A person the county's roster marks as having left (参保状态 3): when and why. A
    死亡日期 column names the reason by itself; a death recorded by the county wins over
    the desks' later edits (county/ingest/updates.py)."""
    died = _pick(row, "死亡日期")
    when = died or _pick(row, "终止日期", "exit_date")
    reason = _pick(row, "终止原因", "exit_reason") or ("死亡" if died else "")
    if not when and not reason:
        return
    if when:
        try:
            when = dt.date.fromisoformat(when.strip()).isoformat()
        except ValueError:
            raise AdminError(f"终止日期“{when[:20]}”应为 YYYY-MM-DD") from None
    fields.update(status=3, exit_reason=reason[:50] or "其他", exit_date=when or None)


def _new_roster_person(
    conn, cert_no: str, spr: dict, fields: dict, hh_id: str | None, relation: str | None
) -> str:
    pid = rowids.new_row_id(spr["region_code"])
    data = {
        "id": pid,
        "insured_category": "ordinary",
        "subsidy_category": "none",
        "status": 1,
        **fields,
    }
    src = {f: [1, "county"] for f in data}
    conn.execute(
        "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, field_src, origin, region)"
        " VALUES (%s, 'resident_id', %s, %s, %s, %s, 'county', %s)",
        (pid, cert_no, spr["id"], jsonb(data), jsonb(src), spr["region_code"]),
    )
    conn.execute(
        "INSERT INTO person_link(person_id, sp_id, household_id, relation) VALUES (%s, %s, %s, %s)",
        (pid, spr["id"], hh_id, relation or "head"),
    )
    emit_person(conn, {"id": pid, "home_sp_id": spr["id"], "version": 1, "data": data})
    return pid


def _roster_link(conn, person_id: str, sp_id: str, hh_id: str | None, relation: str | None) -> bool:
    """Link a known person to the roster's service point, household and relation; True
    when the link is new or changed."""
    if not (hh_id or relation):
        return False
    link = conn.execute(
        "SELECT household_id, relation FROM person_link WHERE person_id = %s AND sp_id = %s",
        (person_id, sp_id),
    ).fetchone()
    if link is None:
        conn.execute(
            "INSERT INTO person_link(person_id, sp_id, household_id, relation)"
            " VALUES (%s, %s, %s, %s)",
            (person_id, sp_id, hh_id, relation or "head"),
        )
        emit_ytd_to(conn, person_id, sp_id)
        return True
    if (hh_id and link["household_id"] != hh_id) or (relation and link["relation"] != relation):
        conn.execute(
            "UPDATE person_link SET household_id = COALESCE(%s, household_id),"
            " relation = COALESCE(%s, relation) WHERE person_id = %s AND sp_id = %s",
            (hh_id, relation, person_id, sp_id),
        )
        return True
    return False


def _roster_household(conn, spr: dict, hh_no: str, village: str, address: str) -> str:
    row = conn.execute(
        "SELECT id FROM household WHERE home_sp_id = %s AND data->>'household_no' = %s",
        (spr["id"], hh_no),
    ).fetchone()
    if row:
        return row["id"]
    hid = str(uuid.uuid4())
    data = {
        "id": hid,
        "household_no": hh_no,
        "village_name": village,
        "address": address,
        "hukou_type": "rural",
        "home_service_point_id": spr["id"],
    }
    conn.execute(
        "INSERT INTO household(id, home_sp_id, data, field_src, origin)"
        " VALUES (%s, %s, %s, %s, 'county')",
        (hid, spr["id"], jsonb(data), jsonb({f: [1, "county"] for f in data})),
    )
    emit(conn, sp_stream(spr["id"]), sp.E_HOUSEHOLD, hid, 1, data)
    return hid
