"""Conflicts on the county: the double-enrollment winner rule, notices to service points,
refund-or-transfer tasks, correction requests and identity reviews."""

from __future__ import annotations

import datetime as dt
import uuid

import psycopg

from core import syncproto as sp
from county.db import emit, jsonb, notice_stream, sp_stream
from county.model import mask

NS = uuid.UUID("6f1c1d3e-3a52-4a8e-9d77-2f0b7a1c5e10")

# each kind of conflict as a case worker and the technician read it (console, command line)
KIND_LABELS = {
    "double_enrollment": "重复参保（两个服务点同一年度）",
    "identity_review": "身份核对（同一身份证号，姓名或出生日期不同）",
    "correction_request": "更正申请（服务点要改县里管理的信息）",
    "stale_update": "旧版本修改（服务点改了过时的记录）",
    "identity_confirm": "同一居民确认（另一服务点登记了本点已有的居民）",
    "move_conflict": "迁移冲突（两个服务点迁移同一居民）",
}

REASONS = {
    0: "已有税务确认的缴费",
    1: "已缴费并开具票据",
    2: "为该居民所属（户籍）服务点",
    3: "先到达县医保系统",
}


def det_id(*parts: str) -> str:
    return str(uuid.uuid5(NS, "|".join(parts)))


def sp_name(conn: psycopg.Connection, sp_id: str) -> str:
    r = conn.execute("SELECT name FROM service_point WHERE id = %s", (sp_id,)).fetchone()
    return r["name"] if r else sp_id


def upsert_notice(conn: psycopg.Connection, sp_id: str, notice: sp.Notice) -> None:
    """Store and emit a notice; the stored data is exactly what is emitted (the snapshot
    reads the table, pulls read the change log: both must agree at each version)."""
    data = notice.as_dict()
    if not data.get("created_at"):
        prev = conn.execute(
            "SELECT data->>'created_at' AS at FROM notice WHERE id = %s", (notice.id,)
        ).fetchone()
        data["created_at"] = (prev and prev["at"]) or dt.datetime.now(dt.UTC).isoformat(
            timespec="seconds"
        )
    row = conn.execute(
        "INSERT INTO notice(id, sp_id, data) VALUES (%s, %s, %s)"
        " ON CONFLICT (id) DO UPDATE SET data = EXCLUDED.data, version = notice.version + 1"
        " RETURNING version",
        (notice.id, sp_id, jsonb(data)),
    ).fetchone()
    emit(conn, notice_stream(sp_id), sp.E_NOTICE, notice.id, row["version"], data)


def new_conflict(
    conn: psycopg.Connection,
    kind: str,
    *,
    summary: str,
    sp_ids: list[str],
    person_id: str | None = None,
    year: int | None = None,
    entity: str | None = None,
    entity_id: str | None = None,
    detail: dict | None = None,
) -> str:
    cid = str(uuid.uuid4())
    conn.execute(
        "INSERT INTO conflict(id, kind, person_id, year, entity, entity_id, sp_ids, summary, detail)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            cid,
            kind,
            person_id,
            year,
            entity,
            entity_id,
            sorted(set(sp_ids)),
            summary,
            jsonb(detail or {}),
        ),
    )
    return cid


def _winner_reason(best: dict, second: dict) -> str:
    kb, ks = best["key"], second["key"]
    for i in range(4):
        if kb[i] != ks[i]:
            return REASONS[i]
    return REASONS[3]


def evaluate_enrollments(conn: psycopg.Connection, person: dict, year: int) -> dict | None:
    """Apply the winner rule to a person's enrollments for one year (the person row, with
    its county, must be locked by the caller). Returns {"conflict_id", "winner",
    "statuses"} or None when there is only one enrollment."""
    rows = conn.execute(
        # a person's enrollments and their payments are all in the person's county, named
        # as a value so each table is planned on one partition; one join rather than three
        # subqueries (planning a partitioned table is the cost that grows with counties)
        "SELECT e.id, e.sp_id, e.arrival, e.conflict_status, e.version, e.data, e.region,"
        " coalesce(bool_or(p.tax_confirmed AND NOT p.cancelled), false) AS tax,"
        " coalesce(bool_or(p.receipt_no <> '' AND NOT p.cancelled), false) AS receipt,"
        " coalesce(bool_or(NOT p.cancelled), false) AS paid"
        " FROM enrollment e LEFT JOIN payment p ON p.region = %(r)s AND p.enrollment_id = e.id"
        " WHERE e.region = %(r)s AND e.person_id = %(p)s AND e.year = %(y)s"
        " GROUP BY e.region, e.id ORDER BY e.arrival",
        {"r": person["region"], "p": person["id"], "y": year},
    ).fetchall()
    if len(rows) < 2:
        return None
    existing = conn.execute(
        "SELECT id, status, detail FROM conflict WHERE kind = 'double_enrollment'"
        " AND person_id = %s AND year = %s",
        (person["id"], year),
    ).fetchone()
    winner, reason, pinned = _winner(person, rows, existing)
    sp_ids = sorted({r["sp_id"] for r in rows})
    cid = _record_double_enrollment(
        conn, person, year, rows, existing, winner, reason, pinned, sp_ids
    )
    statuses: dict[str, str] = {}
    for r in rows:
        new = "won" if r["id"] == winner["id"] else "lost"
        statuses[r["id"]] = new
        if r["conflict_status"] != new:
            data = {**r["data"], "conflict_status": new, "conflict_id": cid}
            v = conn.execute(
                "UPDATE enrollment SET conflict_status = %s, data = %s, version = version + 1,"
                " updated_at = now() WHERE region = %s AND id = %s RETURNING version",
                (new, jsonb(data), r["region"], r["id"]),
            ).fetchone()["version"]
            emit(conn, sp_stream(r["sp_id"]), sp.E_ENROLLMENT, r["id"], v, data)
    _tell_double_enrollment(conn, person, year, rows, existing, winner, reason, cid, sp_ids)
    _refund_tasks(conn, person, year, cid, rows, statuses)
    return {"conflict_id": cid, "winner": winner["id"], "statuses": statuses}


def _winner(person: dict, rows: list[dict], existing: dict | None):
    """The enrollment kept (the county's pinned choice, else the rule's first) with the
    reason in words, and the pinned id if any."""
    for r in rows:
        r["key"] = sp.winner_key(
            tax_confirmed=r["tax"],
            paid_with_receipt=r["receipt"],
            at_home_service_point=r["sp_id"] == person["home_sp_id"],
            arrival=r["arrival"],
        )
    ranked = sorted(rows, key=lambda r: r["key"])
    pinned = (existing["detail"] or {}).get("pinned_winner") if existing else None
    winner = next((r for r in rows if r["id"] == pinned), None) or ranked[0]
    runner = next(r for r in ranked if r["id"] != winner["id"])
    reason = (
        "县医保部门裁定" if pinned and winner["id"] == pinned else _winner_reason(winner, runner)
    )
    return winner, reason, pinned


def _record_double_enrollment(
    conn, person, year, rows, existing, winner, reason, pinned, sp_ids
) -> str:
    """Open (or update) the county's double-enrollment conflict; returns its id."""
    detail = {
        "winner": winner["id"],
        "reason": reason,
        "enrollments": [
            {
                "id": r["id"],
                "sp_id": r["sp_id"],
                "arrival": r["arrival"],
                "tax": r["tax"],
                "receipt": r["receipt"],
                "paid": r["paid"],
            }
            for r in rows
        ],
    }
    if pinned:
        detail["pinned_winner"] = pinned
    name = person["data"].get("name", "")
    summary = f"{name}（{mask(person['cert_no'])}）{year}年度在{len(sp_ids)}个服务点重复参保登记"
    if existing:
        conn.execute(
            "UPDATE conflict SET detail = %s, sp_ids = %s, summary = %s WHERE id = %s",
            (jsonb(detail), sp_ids, summary, existing["id"]),
        )
        return existing["id"]
    return new_conflict(
        conn,
        "double_enrollment",
        summary=summary,
        sp_ids=sp_ids,
        person_id=person["id"],
        year=year,
        entity=sp.E_ENROLLMENT,
        entity_id=winner["id"],
        detail=detail,
    )


def _tell_double_enrollment(
    conn, person, year, rows, existing, winner, reason, cid, sp_ids
) -> None:
    """A notice for each service point involved: kept here, or kept elsewhere (tell the
    resident; refund or transfer what was collected)."""
    name = person["data"].get("name", "")
    winner_sp = sp_name(conn, winner["sp_id"])
    for sid in sp_ids:
        if sid == winner["sp_id"]:
            msg = (
                f"居民{name}（{mask(person['cert_no'])}）{year}年度在其他服务点也做了参保登记。"
                f"县里按规则保留本服务点的登记（原因：{reason}），另一处登记不生效。本服务点无需操作。"
            )
        else:
            msg = (
                f"居民{name}（{mask(person['cert_no'])}）{year}年度已在{winner_sp}参保登记，"
                f"县里按规则保留那边的登记（原因：{reason}），本服务点的这条登记不生效。"
                "请告知居民；如已收费，请按“退费或转移”任务处理。"
            )
        upsert_notice(
            conn,
            sid,
            sp.Notice(
                id=det_id(cid, sid, "double_enrollment"),
                kind=sp.N_DOUBLE_ENROLLMENT,
                title=f"重复参保：{name} {year}年度",
                message=msg,
                status="resolved" if existing and existing["status"] == "resolved" else "open",
                conflict_id=cid,
                person_id=person["id"],
                year=year,
                entity_ids=[r["id"] for r in rows if r["sp_id"] == sid],
            ),
        )


def _refund_tasks(conn, person, year, cid, rows, statuses) -> None:
    """Money collected on more than one enrollment of the group: each payment on a losing
    enrollment becomes a refund-or-transfer task (winner's payments are never touched)."""
    if sum(1 for r in rows if r["paid"]) < 2:
        return
    name = person["data"].get("name", "")
    for r in rows:
        if statuses[r["id"]] != "lost" or not r["paid"]:
            continue
        for p in conn.execute(
            "SELECT id, amount, data FROM payment WHERE region = %s AND enrollment_id = %s"
            " AND NOT cancelled ORDER BY id",
            (r["region"], r["id"]),
        ).fetchall():
            tid = det_id(cid, p["id"], "refund")
            ins = conn.execute(
                "INSERT INTO task(id, kind, conflict_id, payment_id, sp_id, amount)"
                " VALUES (%s, 'refund_or_transfer', %s, %s, %s, %s)"
                " ON CONFLICT (payment_id) DO NOTHING RETURNING id",
                (tid, cid, p["id"], r["sp_id"], p["amount"]),
            ).fetchone()
            if ins is None:
                continue
            upsert_notice(
                conn,
                r["sp_id"],
                sp.Notice(
                    id=tid,
                    kind=sp.N_REFUND_TASK,
                    title=f"退费或转移：{name} {year}年度 {p['amount']}元",
                    message=(
                        f"居民{name}（{mask(person['cert_no'])}）{year}年度重复缴费，本服务点收取的"
                        f"{p['amount']}元（票据号 {p['data'].get('receipt_no') or '无'}）需要退还居民，"
                        "或经县医保部门同意转为其他年度/家庭成员的缴费。处理后请报县医保部门。"
                    ),
                    conflict_id=cid,
                    person_id=person["id"],
                    year=year,
                    entity_ids=[p["id"]],
                ),
            )
