"""poverty_alert.raise from a desk: a 因病返贫 warning, kept for the console's list. The
person must be one the desk's service point holds; one warning per person and year."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from core import syncproto as sp
from core.categories import INSURED_CATEGORIES
from county.ingest.common import Device, _canon, _linked, _result, _scope_error
from county.model import OpRejected


def _money(v) -> Decimal:
    try:
        d = Decimal(str(v))
    except InvalidOperation as e:
        raise OpRejected(sp.R_INVALID, "预警金额格式不对") from e
    if not d.is_finite() or d < 0 or d > Decimal("99999999"):
        raise OpRejected(sp.R_INVALID, "预警金额超出范围")
    return d.quantize(Decimal("0.01"))


def alert_raise(conn, dev: Device, op: sp.Op) -> dict:
    p = op.payload
    missing = [f for f in sp.ALERT_FIELDS if f not in p]
    if missing:
        raise OpRejected(sp.R_INVALID, f"预警缺少内容：{'、'.join(missing)}")
    if p["category"] not in INSURED_CATEGORIES:
        raise OpRejected(sp.R_INVALID, "预警的人员类别不认识")
    try:
        year = int(p["year"])
    except (TypeError, ValueError) as e:
        raise OpRejected(sp.R_INVALID, "预警的年度不对") from e
    person_id = _canon(conn, sp.E_PERSON, str(p["person_id"]))
    if conn.execute("SELECT 1 FROM person_key WHERE id = %s", (person_id,)).fetchone() is None:
        raise OpRejected(sp.R_NOT_FOUND, "县里还没有该居民的登记，请先同步居民信息")
    if _linked(conn, person_id, dev.sp_id) is None:
        raise _scope_error("该居民")
    row = conn.execute(
        "INSERT INTO poverty_alert(id, person_id, sp_id, device_id, year, category, burden,"
        " threshold, basis, raised_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING id",
        (
            op.entity_id,
            person_id,
            dev.sp_id,
            dev.device_id,
            year,
            p["category"],
            _money(p["burden"]),
            _money(p["threshold"]),
            str(p.get("basis") or "")[:40],
            str(p["created_at"])[:40],
        ),
    ).fetchone()
    if row is None:
        return _result(op.op_id, sp.ST_DUPLICATE, message="县里已收到该居民本年度的预警")
    return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id)


def list_alerts(
    conn, *, state: str = "open", region: str = "", limit: int | None = 500
) -> list[dict]:
    """The warnings in ``state`` (open / handed / all) of residents of the county
    ``region`` ("" for all), newest first; ``limit`` rows (None: all of them — the list
    handed to civil affairs)."""
    where = {"open": "a.handed_at IS NULL", "handed": "a.handed_at IS NOT NULL"}.get(state, "TRUE")
    where += " AND (%(r)s = '' OR k.region = %(r)s)"
    return conn.execute(
        "SELECT a.*, sp.name AS sp_name, pe.cert_no, pe.data->>'name' AS name,"
        " h.data->>'village_name' AS village FROM poverty_alert a"
        " JOIN service_point sp ON sp.id = a.sp_id JOIN person_key k ON k.id = a.person_id"
        " JOIN person pe ON pe.region = k.region AND pe.id = a.person_id"
        " LEFT JOIN person_link pl ON pl.person_id = a.person_id AND pl.sp_id = a.sp_id"
        " LEFT JOIN household h ON h.id = pl.household_id"
        f" WHERE {where} ORDER BY a.received_at DESC LIMIT %(n)s",
        {"r": region, "n": limit},
    ).fetchall()


def hand_over(conn, alert_id: str, by: str, note: str, region: str = "") -> bool:
    """Mark a warning as handed to civil affairs (推送民政); with ``region``, only one of a
    resident of that county."""
    row = conn.execute(
        "UPDATE poverty_alert a SET handed_at = now(), handed_by = %(b)s, handed_note = %(t)s"
        " WHERE a.id = %(i)s AND a.handed_at IS NULL AND (%(r)s = '' OR EXISTS"
        " (SELECT 1 FROM person_key k WHERE k.id = a.person_id AND k.region = %(r)s))"
        " RETURNING a.id",
        {"b": by, "t": note[:200], "i": alert_id, "r": region},
    ).fetchone()
    return row is not None
