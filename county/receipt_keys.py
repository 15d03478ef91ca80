"""Receipt verification keys: one per service point, made with the service point, handed
to its devices at registration, and used by ``township-county receipt verify``."""

from __future__ import annotations

import secrets
from decimal import Decimal

import psycopg

from core.receipt import parse_payload, verify_payload
from county import sealing


def key_id_for(sp_code: str) -> str:
    return f"C-{sp_code}"


def create_key(conn: psycopg.Connection, sp_id: str, sp_code: str) -> dict:
    """The service point's key, made (and sealed: :mod:`county.sealing`) when it has none."""
    conn.execute(
        "INSERT INTO receipt_key(sp_id, key_id, key_hex) VALUES (%s, %s, %s)"
        " ON CONFLICT (sp_id) DO NOTHING",
        (sp_id, key_id_for(sp_code), sealing.seal(secrets.token_hex(32))),
    )
    return key_for(conn, sp_id)


def key_for(conn: psycopg.Connection, sp_id: str) -> dict | None:
    """{"key_id", "key_hex"} of a service point (None when it has none)."""
    row = conn.execute(
        "SELECT key_id, key_hex FROM receipt_key WHERE sp_id = %s", (sp_id,)
    ).fetchone()
    return {"key_id": row["key_id"], "key_hex": sealing.unseal(row["key_hex"])} if row else None


def seal_plain_keys(conn: psycopg.Connection) -> int:
    """Seal the keys an older version kept as plain hex (at start-up; idempotent)."""
    rows = conn.execute("SELECT sp_id, key_hex FROM receipt_key").fetchall()
    plain = [
        (sp_id, key_hex)
        for sp_id, key_hex in (tuple(r.values()) if isinstance(r, dict) else r for r in rows)
        if not sealing.is_sealed(key_hex)
    ]
    for sp_id, key_hex in plain:
        conn.execute(
            "UPDATE receipt_key SET key_hex = %s WHERE sp_id = %s", (sealing.seal(key_hex), sp_id)
        )
    return len(plain)


def wire_key(conn: psycopg.Connection, sp_id: str) -> dict | None:
    """The register response's ``receipt_key`` (syncproto.ReceiptKey)."""
    row = key_for(conn, sp_id)
    return {"key_id": row["key_id"], "key": row["key_hex"]} if row else None


def verify(conn: psycopg.Connection, code: str) -> dict:
    """Check a receipt verification code with the key of the service point that issued it,
    then compare it with the payment the county holds (when that point has synced it).
    Returns {"ok", "message", "service_point", "receipt_no", "amount", "date", "on_file"}."""
    parsed = parse_payload(code)
    key_id = parsed[3] if parsed else ""
    row = conn.execute(
        "SELECT k.sp_id, k.key_id, k.key_hex, s.code, s.name FROM receipt_key k"
        " JOIN service_point s ON s.id = k.sp_id WHERE k.key_id = %s",
        (key_id,),
    ).fetchone()
    keys = {row["key_id"]: bytes.fromhex(sealing.unseal(row["key_hex"]))} if row else {}
    v = verify_payload(code, keys)
    out = {
        "ok": v.ok,
        "message": v.message,
        "service_point": f"{row['code']} {row['name']}" if row else "",
        "receipt_no": v.receipt_no,
        "amount": f"{v.amount:.2f}" if v.amount is not None else "",
        "date": v.date,
        "on_file": False,
    }
    if not v.ok:
        return out
    pay = conn.execute(
        "SELECT amount, cancelled, data FROM payment WHERE sp_id = %s"
        " AND receipt_no = %s ORDER BY created_at LIMIT 1",
        (row["sp_id"], v.receipt_no),
    ).fetchone()
    if pay is None:
        out["message"] += (
            f"（{out['service_point']}；县里尚未收到这笔缴费记录，服务点同步后可再核对）"
        )
        return out
    out["on_file"] = True
    paid_on = pay["data"].get("paid_on")
    if Decimal(pay["amount"]) != v.amount or (paid_on and paid_on != v.date):
        out["ok"] = False
        out["message"] = "校验码有效，但与县里收到的缴费记录金额或日期不一致，请核查"
    elif pay["cancelled"]:
        out["ok"] = False
        out["message"] = "校验码有效，但该笔缴费已作废或退费，此收据已失效"
    else:
        out["message"] += f"（{out['service_point']}；县里已有这笔缴费记录）"
    return out
