"""County administration: service points, registration codes, roster and tax-bureau
imports, policy publishing, conflicts. Used by the CLI and the admin router; each
function runs inside the caller's transaction unless it says otherwise."""

from __future__ import annotations

import datetime as dt
import hashlib
import tomllib
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg

from core import syncproto as sp
from core.categories import INSURED_CATEGORIES, RELATIONS, SUBSIDY_CATEGORIES
from core.ids import check_id
from county.conflicts import det_id, evaluate_enrollments, upsert_notice
from county.db import emit, jsonb, notice_stream, sp_stream
from county.model import OpRejected, mask, parse_money
from county.people import emit_person
from county.security import new_registration_code, normalize_code, sha256_hex
from county.tables import AdminError, ImportReport, _cell, _code, _pick, read_table  # noqa: F401


# ------------------------------------------------------------------ service points, codes
def create_service_point(conn: psycopg.Connection, code: str, name: str, region_code: str) -> dict:
    code = (code or "").strip().upper()
    name = (name or "").strip()
    if not (code.isascii() and code.isalnum() and 1 <= len(code) <= 12):
        raise AdminError("服务点编码应为1-12位字母或数字")
    if not name or len(name) > 50:
        raise AdminError("请填写服务点名称（最多50字）")
    if not (len(region_code) == 6 and region_code.isascii() and region_code.isdigit()):
        raise AdminError("医保区划代码应为6位数字")
    if conn.execute("SELECT 1 FROM service_point WHERE code = %s", (code,)).fetchone():
        raise AdminError(f"服务点编码 {code} 已存在")
    sid = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO service_point(id, code, name, region_code) VALUES (%s, %s, %s, %s)",
        (sid, code, name, region_code),
    )
    for stream in (sp_stream(sid), notice_stream(sid)):
        conn.execute(
            "INSERT INTO stream_head(stream) VALUES (%s) ON CONFLICT DO NOTHING", (stream,)
        )
    data = {"id": sid, "code": code, "name": name, "region_code": region_code}
    emit(conn, "county", sp.E_SERVICE_POINT, sid, 1, data)
    from county.receipt_keys import create_key

    create_key(conn, sid, code)  # its receipt verification key, handed over at registration
    return data


def service_point_by_code(conn: psycopg.Connection, code: str) -> dict:
    row = conn.execute(
        "SELECT id, code, name, region_code FROM service_point WHERE code = %s",
        ((code or "").strip().upper(),),
    ).fetchone()
    if row is None:
        raise AdminError(f"没有编码为 {code} 的服务点（先用 service-point create 创建）", 404)
    return row


def issue_device_code(
    conn: psycopg.Connection, sp_code: str, ttl_hours: int = 72, note: str = ""
) -> dict:
    if not (1 <= ttl_hours <= 24 * 30):
        raise AdminError("注册码有效期应为1小时到30天")
    spr = service_point_by_code(conn, sp_code)
    code = new_registration_code()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=ttl_hours)
    conn.execute(
        "INSERT INTO registration_code(code_sha256, service_point_id, expires_at, note)"
        " VALUES (%s, %s, %s, %s)",
        (sha256_hex(normalize_code(code)), spr["id"], expires, note),
    )
    return {"code": code, "service_point": spr["code"], "expires_at": expires.isoformat()}


# ------------------------------------------------------------------ roster import
ROSTER_OWNED = (
    "status",
    "subsidy_category",
    "insured_category",
    "name",
    "sex",
    "birth_date",
    "address",
)


def import_roster(conn: psycopg.Connection, rows: list[dict], first_row: int = 2) -> ImportReport:
    """The county roster: persons (and households by 户号) become county rows on their
    service point's stream. Each row in its own savepoint: a bad row is reported, the
    others go in."""
    rep = ImportReport()
    sps: dict[str, dict] = {}
    for i, row in enumerate(rows, start=first_row):
        try:
            with conn.transaction():
                outcome = _roster_row(conn, row, sps)
            setattr(rep, outcome, getattr(rep, outcome) + 1)
        except (AdminError, OpRejected) as e:
            rep.errors.append((i, str(e)))
    return rep


def _roster_row(conn, row: dict, sps: dict) -> str:
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
    relation = _pick(row, "与户主关系", "relation")
    relation = _code(relation, RELATIONS, "与户主关系") if relation else None
    hh_no = _pick(row, "户号", "household_no")
    hh_id = (
        _roster_household(
            conn,
            spr,
            hh_no,
            _pick(row, "村", "村居委会", "village_name"),
            fields.get("address", ""),
        )
        if hh_no
        else None
    )

    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data, field_src FROM person"
        " WHERE cert_type = 'resident_id' AND cert_no = %s FOR UPDATE",
        (chk.normalized,),
    ).fetchone()
    if person is None:
        pid = str(uuid.uuid4())
        data = {
            "id": pid,
            "insured_category": "ordinary",
            "subsidy_category": "none",
            "status": 1,
            **fields,
        }
        src = {f: [1, "county"] for f in data}
        conn.execute(
            "INSERT INTO person(id, cert_type, cert_no, home_sp_id, data, field_src, origin)"
            " VALUES (%s, 'resident_id', %s, %s, %s, %s, 'county')",
            (pid, chk.normalized, spr["id"], jsonb(data), jsonb(src)),
        )
        conn.execute(
            "INSERT INTO person_link(person_id, sp_id, household_id, relation)"
            " VALUES (%s, %s, %s, %s)",
            (pid, spr["id"], hh_id, relation or "head"),
        )
        emit_person(conn, {"id": pid, "home_sp_id": spr["id"], "version": 1, "data": data})
        return "created"
    data, src = dict(person["data"]), dict(person["field_src"] or {})
    changed = {f: v for f, v in fields.items() if data.get(f) != v and f != "cert_type"}
    link_changed = False
    if hh_id or relation:
        link = conn.execute(
            "SELECT household_id, relation FROM person_link WHERE person_id = %s AND sp_id = %s",
            (person["id"], spr["id"]),
        ).fetchone()
        if link is None:
            conn.execute(
                "INSERT INTO person_link(person_id, sp_id, household_id, relation)"
                " VALUES (%s, %s, %s, %s)",
                (person["id"], spr["id"], hh_id, relation or "head"),
            )
            link_changed = True
            from county.ytd import emit_ytd_to

            emit_ytd_to(conn, person["id"], spr["id"])
        elif (hh_id and link["household_id"] != hh_id) or (
            relation and link["relation"] != relation
        ):
            conn.execute(
                "UPDATE person_link SET household_id = COALESCE(%s, household_id),"
                " relation = COALESCE(%s, relation) WHERE person_id = %s AND sp_id = %s",
                (hh_id, relation, person["id"], spr["id"]),
            )
            link_changed = True
    if not changed and not link_changed:
        return "unchanged"
    version = person["version"] + 1
    data.update(changed)
    for f in changed:
        src[f] = [version, "county"]
    conn.execute(
        "UPDATE person SET data = %s, field_src = %s, version = %s, updated_at = now()"
        " WHERE id = %s",
        (jsonb(data), jsonb(src), version, person["id"]),
    )
    emit_person(conn, {**person, "data": data, "version": version})
    return "updated"


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


# ------------------------------------------------------------------ tax confirmations
def import_payments(conn: psycopg.Connection, rows: list[dict], first_row: int = 2) -> ImportReport:
    """Tax-bureau payment confirmations (身份证号, 参保年度, 缴费金额, 完税凭证号, 缴费日期):
    each confirms the matching recorded payment or becomes a county payment; the
    double-enrollment winner is re-evaluated (a tax-confirmed payment wins)."""
    rep = ImportReport()
    for i, row in enumerate(rows, start=first_row):
        try:
            with conn.transaction():
                outcome = _payment_row(conn, row)
            setattr(rep, outcome, getattr(rep, outcome) + 1)
        except (AdminError, OpRejected) as e:
            rep.errors.append((i, str(e)))
    return rep


def _payment_row(conn, row: dict) -> str:
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
    sp_filter = service_point_by_code(conn, sp_code)["id"] if sp_code else None
    person = conn.execute(
        "SELECT id, cert_no, home_sp_id, version, data FROM person"
        " WHERE cert_type = 'resident_id' AND cert_no = %s FOR UPDATE",
        (cert,),
    ).fetchone()
    if person is None:
        raise AdminError(f"县里没有身份证号为 {mask(cert)} 的居民（先导入花名册）")
    if conn.execute(
        "SELECT 1 FROM payment WHERE data->>'tax_voucher_no' = %s", (voucher,)
    ).fetchone():
        return "unchanged"
    enrollments = conn.execute(
        "SELECT id, sp_id, conflict_status, data FROM enrollment WHERE person_id = %s AND year = %s"
        " ORDER BY (conflict_status = 'won') DESC, arrival",
        (person["id"], year),
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
    if enrollments:
        match = conn.execute(
            "SELECT p.id, p.sp_id, p.version, p.data, p.field_src FROM payment p"
            " JOIN enrollment e ON e.id = p.enrollment_id"
            " WHERE e.person_id = %s AND e.year = %s AND NOT p.tax_confirmed AND p.amount = %s"
            " AND NOT p.cancelled"
            " AND (%s::text IS NULL OR p.sp_id = %s::text)"
            " ORDER BY (e.conflict_status = 'won') DESC, e.arrival, p.id LIMIT 1 FOR UPDATE OF p",
            (person["id"], year, amount, sp_filter, sp_filter),
        ).fetchone()
        if match is not None:
            version = match["version"] + 1
            data = {**match["data"], **tax}
            src = {**(match["field_src"] or {}), **{f: [version, "county"] for f in tax}}
            conn.execute(
                "UPDATE payment SET tax_confirmed = true, data = %s, field_src = %s, version = %s,"
                " updated_at = now() WHERE id = %s",
                (jsonb(data), jsonb(src), version, match["id"]),
            )
            emit(conn, sp_stream(match["sp_id"]), sp.E_PAYMENT, match["id"], version, data)
            _enrollment_confirmed(conn, match["data"]["enrollment_id"], confirmed_at)
            evaluate_enrollments(conn, person, year)
            return "updated"
        enr = enrollments[0]
    else:
        eid = str(uuid.uuid4())
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
            "INSERT INTO enrollment(id, person_id, year, sp_id, data, field_src, origin)"
            " VALUES (%s, %s, %s, %s, %s, %s, 'county')",
            (
                eid,
                person["id"],
                year,
                person["home_sp_id"],
                jsonb(edata),
                jsonb({f: [1, "county"] for f in edata}),
            ),
        )
        emit(conn, sp_stream(person["home_sp_id"]), sp.E_ENROLLMENT, eid, 1, edata)
        enr = {"id": eid, "sp_id": person["home_sp_id"]}
    pid = str(uuid.uuid4())
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
        " origin) VALUES (%s, %s, %s, %s, true, %s, %s, 'county')",
        (
            pid,
            enr["id"],
            enr["sp_id"],
            amount,
            jsonb(pdata),
            jsonb({f: [1, "county"] for f in pdata}),
        ),
    )
    emit(conn, sp_stream(enr["sp_id"]), sp.E_PAYMENT, pid, 1, pdata)
    _enrollment_confirmed(conn, enr["id"], confirmed_at)
    evaluate_enrollments(conn, person, year)
    return "created"


def _enrollment_confirmed(conn, enrollment_id: str, confirmed_at: str) -> None:
    """The enrollment year is confirmed by the county (desktop column county_confirmed_at)."""
    row = conn.execute(
        "SELECT sp_id, version, data, field_src FROM enrollment WHERE id = %s FOR UPDATE",
        (enrollment_id,),
    ).fetchone()
    if row is None or row["data"].get("county_confirmed_at") == confirmed_at:
        return
    version = row["version"] + 1
    data = {**row["data"], "county_confirmed_at": confirmed_at}
    src = {**(row["field_src"] or {}), "county_confirmed_at": [version, "county"]}
    conn.execute(
        "UPDATE enrollment SET data = %s, field_src = %s, version = %s, updated_at = now()"
        " WHERE id = %s",
        (jsonb(data), jsonb(src), version, enrollment_id),
    )
    emit(conn, sp_stream(row["sp_id"]), sp.E_ENROLLMENT, enrollment_id, version, data)


# ------------------------------------------------------------------ policies
def publish_policy(conn: psycopg.Connection, path: str | Path) -> dict:
    """Check a policy file with the desktop's own parser and publish it on the county
    stream (every device gets it). Re-publishing an unchanged file does nothing."""
    from core.policy import PolicyError, parse_policy

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
        pol = parse_policy(tomllib.loads(text), p.name)
    except FileNotFoundError as e:
        raise AdminError(f"找不到政策文件：{p}") from e
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AdminError(f"政策文件格式错误：{p.name}：{e}") from e
    except PolicyError as e:
        raise AdminError(f"政策文件有误：{e}") from e
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = conn.execute(
        "SELECT version, sha256 FROM policy WHERE id = %s FOR UPDATE", (pol.id,)
    ).fetchone()
    if row and row["sha256"] == digest:
        return {"id": pol.id, "version": row["version"], "changed": False}
    version = (row["version"] + 1) if row else 1
    r = conn.execute(
        "INSERT INTO policy(id, version, region, year, title, source, toml, sha256)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
        " version = EXCLUDED.version, region = EXCLUDED.region, year = EXCLUDED.year,"
        " title = EXCLUDED.title, source = EXCLUDED.source, toml = EXCLUDED.toml,"
        " sha256 = EXCLUDED.sha256, published_at = now() RETURNING *",
        (pol.id, version, pol.region, pol.year, pol.title, pol.source, text, digest),
    ).fetchone()
    from county.streams import policy_data

    emit(conn, "county", sp.E_POLICY, pol.id, version, policy_data(r))
    return {"id": pol.id, "version": version, "changed": True}


# ------------------------------------------------------------------ conflicts
def list_conflicts(conn: psycopg.Connection, status: str = "open") -> list[dict]:
    where = "" if status == "all" else "WHERE status = %(s)s"
    rows = conn.execute(
        "SELECT id, kind, status, person_id, year, entity, entity_id, sp_ids, summary, detail,"
        f" created_at, resolved_at, resolution FROM conflict {where} ORDER BY created_at, id",
        {"s": status},
    ).fetchall()
    for r in rows:
        for k in ("created_at", "resolved_at"):
            if r[k] is not None:
                r[k] = r[k].isoformat(timespec="seconds")
    return rows


DECISIONS = {
    "double_enrollment": ("keep", "winner"),
    "identity_review": ("keep_county", "use_desktop"),
    "correction_request": ("accept", "reject"),
    "stale_update": ("keep_county", "use_desktop"),
}


def resolve_conflict(
    conn: psycopg.Connection,
    conflict_id: str,
    decision: str,
    *,
    winner_id: str | None = None,
    note: str = "",
) -> dict:
    c = conn.execute("SELECT * FROM conflict WHERE id = %s FOR UPDATE", (conflict_id,)).fetchone()
    if c is None:
        raise AdminError(f"没有编号为 {conflict_id} 的冲突", 404, "not_found")
    if c["status"] == "resolved":
        raise AdminError("该冲突已处理过", 409, "conflict_resolved")
    allowed = DECISIONS.get(c["kind"], ())
    if decision not in allowed:
        raise AdminError(f"处理方式应为：{' / '.join(allowed)}")
    detail = dict(c["detail"] or {})
    text = ""
    if c["kind"] == "double_enrollment":
        person = conn.execute(
            "SELECT id, cert_no, home_sp_id, version, data FROM person WHERE id = %s FOR UPDATE",
            (c["person_id"],),
        ).fetchone()
        if decision == "winner":
            ids = [e["id"] for e in detail.get("enrollments", [])]
            if winner_id not in ids:
                raise AdminError(f"--winner 应为该冲突中的参保登记编号之一：{', '.join(ids)}")
            detail["pinned_winner"] = winner_id
        else:
            detail["pinned_winner"] = detail.get("winner")
        conn.execute("UPDATE conflict SET detail = %s WHERE id = %s", (jsonb(detail), c["id"]))
        out = evaluate_enrollments(conn, person, c["year"])
        text = f"县医保部门已裁定保留参保登记 {out['winner'] if out else detail['pinned_winner']}"
    elif c["kind"] in ("identity_review", "stale_update", "correction_request"):
        apply = decision in ("use_desktop", "accept")
        if apply:
            fields = detail.get("differences") or detail.get("fields") or {}
            values = {
                f: (v.get("desktop") if "desktop" in v else v.get("requested"))
                for f, v in fields.items()
            }
            _county_set(conn, c["entity"] or sp.E_PERSON, c["entity_id"], values)
            text = "县医保部门已采用服务点提交的信息"
        else:
            text = "县医保部门决定保留县里的信息"
    conn.execute(
        "UPDATE conflict SET status = 'resolved', resolved_at = now(), resolution = %s"
        " WHERE id = %s",
        (jsonb({"decision": decision, "winner_id": winner_id, "note": note}), c["id"]),
    )
    for n in conn.execute(
        "SELECT id, sp_id, data FROM notice WHERE data->>'conflict_id' = %s", (c["id"],)
    ).fetchall():
        data = dict(n["data"])
        data["status"] = "resolved"
        data["message"] = f"{data['message']}\n【已处理】{text}{('：' + note) if note else ''}"
        upsert_notice(conn, n["sp_id"], sp.Notice.from_dict(data))
    return {"id": c["id"], "status": "resolved", "decision": decision, "result": text}


def _county_set(conn, entity: str, entity_id: str, values: dict) -> None:
    table = {sp.E_PERSON: "person", sp.E_HOUSEHOLD: "household", sp.E_ENROLLMENT: "enrollment"}[
        entity
    ]
    row = conn.execute(f"SELECT * FROM {table} WHERE id = %s FOR UPDATE", (entity_id,)).fetchone()
    if row is None:
        raise AdminError("冲突涉及的记录已不存在", 404, "not_found")
    version = row["version"] + 1
    data = {**row["data"], **values}
    src = {**(row["field_src"] or {}), **{f: [version, "county"] for f in values}}
    conn.execute(
        f"UPDATE {table} SET data = %s, field_src = %s, version = %s, updated_at = now()"
        " WHERE id = %s",
        (jsonb(data), jsonb(src), version, entity_id),
    )
    new = {**row, "data": data, "version": version}
    if entity == sp.E_PERSON:
        emit_person(conn, new)
    else:
        emit(
            conn,
            sp_stream(row.get("home_sp_id") or row.get("sp_id")),
            entity,
            entity_id,
            version,
            data,
        )


def security_events(conn: psycopg.Connection, limit: int = 100) -> list[dict]:
    rows = conn.execute(
        "SELECT id, at, kind, device_id, sp_id, remote, path, detail FROM security_event"
        " ORDER BY id DESC LIMIT %s",
        (limit,),
    ).fetchall()
    for r in rows:
        r["at"] = r["at"].isoformat(timespec="seconds")
    return rows


def money(value: Decimal) -> str:
    return f"{value:.2f}"


__all__ = ["det_id"]
