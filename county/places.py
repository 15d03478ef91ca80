"""Service points (服务点) and the one-time registration codes their desks register with."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from core import syncproto as sp
from county.db import emit, log_security, notice_stream, sp_stream
from county.receipt_keys import create_key
from county.security import new_registration_code, normalize_code, sha256_hex
from county.tables import AdminError
from county.updates import describe as describe_update


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


DISABLE_REASONS = {"lost": "报失（丢失或被盗）", "retired": "停用（换下或报废）"}


def _point_filter(also: str = "") -> str:
    """A console's filter on service points ``sp``: a county (区划, ``%(r)s``) and a piece
    of the code or name (``%(q)s``, or of ``also``), "" for any. A piece of text, not a
    pattern: a % or _ typed is matched as itself."""
    return (
        " (%(r)s = '' OR sp.region_code = %(r)s) AND (%(q)s = ''"
        " OR strpos(lower(sp.code), lower(%(q)s)) > 0 OR strpos(sp.name, %(q)s) > 0"
        + (f" OR strpos({also}, %(q)s) > 0" if also else "")
        + ")"
    )


def list_devices(
    conn: psycopg.Connection,
    sp_code: str | None = None,
    *,
    region: str = "",
    q: str = "",
    limit: int | None = None,
    quiet_since: dt.datetime | None = None,
) -> list[dict]:
    """Devices with their service point and state (在用 / 待清除 / 已清除 / 已注销): of one
    service point, or of a county (``region``) and matching ``q`` (a piece of the point's
    code or name, or of the PC's name); with ``quiet_since``, only PCs in use that have not
    synced since then (in the database: a province has tens of thousands); the first
    ``limit`` by service point."""
    rows = conn.execute(
        "SELECT d.id, sp.code AS sp_code, sp.name AS sp_name, d.name, d.app_version,"
        " d.registered_at, d.last_seen_at, d.revoked_at, d.disabled_at, d.disabled_reason,"
        " d.wiped_at, d.reported_pending, d.reported_error, d.reported_at, d.reported_update"
        " FROM device d JOIN service_point sp ON sp.id = d.service_point_id"
        " WHERE (%(c)s::text IS NULL OR sp.code = %(c)s) AND (%(t)s::timestamptz IS NULL"
        " OR (d.revoked_at IS NULL AND d.disabled_at IS NULL AND d.wiped_at IS NULL"
        " AND (d.last_seen_at IS NULL OR d.last_seen_at < %(t)s))) AND"
        + _point_filter("coalesce(d.name, '')")
        + " ORDER BY sp.code, d.registered_at LIMIT %(n)s",
        {"c": sp_code, "r": region, "q": q, "n": limit, "t": quiet_since},
    ).fetchall()
    for r in rows:
        r["update_state"] = describe_update(r["reported_update"])
        if r["wiped_at"]:
            r["state"] = "已清除"
        elif r["disabled_at"]:
            r["state"] = "待清除（下次联网时上传并清除）"
        elif r["revoked_at"]:
            r["state"] = "已注销"
        else:
            r["state"] = "在用"
    return rows


def disable_device(conn: psycopg.Connection, device_id: str, reason: str) -> dict:
    """Disable a device: at its next contact it pushes what it holds, erases its personal
    data and is revoked. Logged as a security event."""
    if reason not in DISABLE_REASONS:
        raise AdminError(f"停用原因应为 {'、'.join(DISABLE_REASONS)} 之一")
    row = conn.execute(
        "UPDATE device SET disabled_at = coalesce(disabled_at, now()), disabled_reason = %s"
        " WHERE id = %s RETURNING id, service_point_id, disabled_at",
        (reason, device_id),
    ).fetchone()
    if row is None:
        raise AdminError(f"找不到设备 {device_id}（township-county device list 可查设备号）")
    log_security(
        conn,
        "device_disabled",
        device_id=row["id"],
        sp_id=row["service_point_id"],
        detail={"reason": reason},
    )
    return row


def issue_recovery_code(conn: psycopg.Connection, device_id: str, hours: int = 24) -> dict:
    """A one-time code that hands the device's escrowed key to a replacement PC."""
    row = conn.execute(
        "SELECT id, service_point_id, escrow_key FROM device WHERE id = %s", (device_id,)
    ).fetchone()
    if row is None:
        raise AdminError(f"找不到设备 {device_id}（township-county device list 可查设备号）")
    if not row["escrow_key"]:
        raise AdminError(
            "这台设备没有托管数据钥匙（注册后从未同步过），无法恢复；请重新注册新电脑并从县里下载数据"
        )
    code = new_registration_code()
    conn.execute(
        "INSERT INTO recovery_code(code_sha256, device_id, expires_at)"
        " VALUES (%s, %s, now() + make_interval(hours => %s))",
        (sha256_hex(normalize_code(code)), device_id, hours),
    )
    log_security(conn, "recovery_code_issued", device_id=device_id, sp_id=row["service_point_id"])
    return {"code": code, "device_id": device_id, "hours": hours}


def list_service_points(
    conn: psycopg.Connection, *, region: str = "", q: str = "", limit: int | None = None
) -> list[dict]:
    """Service points with their devices in use and the last contact of any of them: all,
    or of a county (``region``) and matching ``q`` (a piece of the code or name); the first
    ``limit`` by code."""
    return conn.execute(
        "SELECT sp.id, sp.code, sp.name, sp.region_code,"
        " count(d.id) FILTER (WHERE d.revoked_at IS NULL) AS devices,"
        " max(d.last_seen_at) AS last_seen"
        " FROM service_point sp LEFT JOIN device d ON d.service_point_id = sp.id"
        " WHERE" + _point_filter() + " GROUP BY sp.id ORDER BY sp.code LIMIT %(n)s",
        {"r": region, "q": q, "n": limit},
    ).fetchall()


def points_by_id(conn: psycopg.Connection, ids: list[str]) -> dict[str, dict]:
    """The service points of ``ids`` (name, code, county), by id: the few a page names,
    not every point of a province."""
    rows = conn.execute(
        "SELECT id, code, name, region_code FROM service_point WHERE id = ANY(%s)", (list(ids),)
    ).fetchall()
    return {r["id"]: r for r in rows}


def device_region(conn: psycopg.Connection, device_id: str) -> str | None:
    """The county (区划) of a device's service point; None: no such device."""
    row = conn.execute(
        "SELECT sp.region_code FROM device d JOIN service_point sp ON sp.id = d.service_point_id"
        " WHERE d.id = %s",
        (device_id,),
    ).fetchone()
    return row["region_code"] if row else None


def regions(conn: psycopg.Connection) -> list[dict]:
    """The counties (区划) the service points are in, with how many points each."""
    return conn.execute(
        "SELECT region_code AS code, count(*) AS points FROM service_point GROUP BY 1 ORDER BY 1"
    ).fetchall()


def seen_operator(conn, sp_id: str, operator_id: str, name: str, device_id: str) -> None:
    """An operator of the service point synced from one of its desks (the console lists
    them by service point)."""
    conn.execute(
        "INSERT INTO sp_operator(sp_id, operator_id, name, device_id) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (sp_id, operator_id) DO UPDATE SET name = EXCLUDED.name,"
        " device_id = EXCLUDED.device_id, last_seen = now()",
        (sp_id, operator_id[:64], (name or "")[:100], device_id),
    )


def point_detail(conn: psycopg.Connection, code: str) -> dict | None:
    """One service point: its villages (households and residents it holds) and operators."""
    rows = conn.execute(
        "SELECT id, code, name, region_code FROM service_point WHERE code = %s", (code,)
    ).fetchall()
    if not rows:
        return None
    point = rows[0]
    point["villages"] = conn.execute(
        "SELECT coalesce(nullif(h.data->>'village_name', ''), '（未填村）') AS village,"
        " count(DISTINCT h.id) AS households, count(pl.person_id) AS residents"
        " FROM household h LEFT JOIN person_link pl ON pl.household_id = h.id"
        " AND pl.sp_id = h.home_sp_id WHERE h.home_sp_id = %s GROUP BY 1 ORDER BY 1",
        (point["id"],),
    ).fetchall()
    point["operators"] = conn.execute(
        "SELECT o.name, o.first_seen, o.last_seen, d.name AS device_name, d.id AS device_id"
        " FROM sp_operator o JOIN device d ON d.id = o.device_id WHERE o.sp_id = %s"
        " ORDER BY o.last_seen DESC",
        (point["id"],),
    ).fetchall()
    point["devices"] = list_devices(conn, code)
    return point
