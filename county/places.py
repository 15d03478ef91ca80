"""Service points (服务点) and the one-time registration codes their desks register with."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from core import syncproto as sp
from county.db import emit, notice_stream, sp_stream
from county.receipt_keys import create_key
from county.security import new_registration_code, normalize_code, sha256_hex
from county.tables import AdminError


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
