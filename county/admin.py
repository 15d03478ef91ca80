"""County administration: policy publishing, conflicts and the security log, and (from
their own modules) service points and registration codes, the roster and tax-bureau imports. Used by the CLI and the admin router; each
function runs inside the caller's transaction unless it says otherwise."""

from __future__ import annotations

import hashlib
import tomllib
from decimal import Decimal
from pathlib import Path

import psycopg

from core import syncproto as sp
from county.conflicts import det_id, evaluate_enrollments, upsert_notice
from county.db import emit, jsonb, row_by_id, sp_stream, where_row
from county.people import confirm_links, emit_person
from county.places import (  # noqa: F401 (the admin API of the CLI and the admin router)
    create_service_point,
    issue_device_code,
    service_point_by_code,
)
from county.roster import import_roster  # noqa: F401
from county.tables import AdminError, ImportReport, _cell, _code, _pick, read_table  # noqa: F401
from county.taxpay import import_payments  # noqa: F401

# ------------------------------------------------------------------ policies
# who published a file from the server's command line (the technician), in its history
COMMAND_LINE = "township-county"


def publish_policy(
    conn: psycopg.Connection, path: str | Path, points: list[str] | None = None
) -> dict:
    """Publish a policy file from disk (the command line): to every desk, or to the
    service points whose codes are in ``points``."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as e:
        raise AdminError(f"找不到政策文件：{p}") from e
    except UnicodeDecodeError as e:
        raise AdminError(f"政策文件不是 UTF-8 文本：{p.name}") from e
    return publish_policy_text(conn, text, p.name, by=COMMAND_LINE, points=points)


def check_policy_text(text: str, origin: str):
    """The desktop's own parser on a policy file's text; AdminError says what is wrong."""
    from core.policy import (
        PolicyError,
        parse_policy,
    )  # deferred: policy parsing loads only when publishing

    try:
        return parse_policy(tomllib.loads(text), origin)
    except tomllib.TOMLDecodeError as e:
        raise AdminError(f"政策文件格式错误：{origin}：{e}") from e
    except PolicyError as e:
        raise AdminError(f"政策文件有误：{e}") from e


def publish_policy_text(
    conn: psycopg.Connection,
    text: str,
    origin: str,
    *,
    by: str,
    points: list[str] | None = None,
) -> dict:
    """Check a policy file with the desktop's own parser and publish it: to every device
    (the county stream), or with ``points`` (service point codes) to those points' desks
    only. Re-publishing what the chosen desks already hold does nothing."""
    pol = check_policy_text(text, origin)
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    row = conn.execute(
        "SELECT version, sha256 FROM policy WHERE id = %s FOR UPDATE", (pol.id,)
    ).fetchone()
    pilots = conn.execute(
        "SELECT sp_id, version, sha256 FROM policy_pilot WHERE policy_id = %s FOR UPDATE",
        (pol.id,),
    ).fetchall()
    newest = max([row["version"] if row else 0] + [p["version"] for p in pilots])
    if points is None:
        return _publish_everywhere(conn, pol, text, digest, row, pilots, newest, by)
    chosen = _points(conn, points)
    held = {p["sp_id"]: p["sha256"] for p in pilots}
    if all(held.get(c["id"], row["sha256"] if row else None) == digest for c in chosen):
        return {"id": pol.id, "version": newest, "changed": False}
    version = newest + 1
    from county.streams import policy_data  # deferred: policy parsing loads only when publishing

    for c in chosen:
        r = conn.execute(
            "INSERT INTO policy_pilot(policy_id, sp_id, version, region, year, title, source,"
            " toml, sha256) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (policy_id, sp_id) DO UPDATE SET version = EXCLUDED.version,"
            " region = EXCLUDED.region, year = EXCLUDED.year, title = EXCLUDED.title,"
            " source = EXCLUDED.source, toml = EXCLUDED.toml, sha256 = EXCLUDED.sha256,"
            " published_at = now() RETURNING policy_id AS id, *",
            (pol.id, c["id"], version, pol.region, pol.year, pol.title, pol.source, text, digest),
        ).fetchone()
        emit(conn, sp_stream(c["id"]), sp.E_POLICY, pol.id, version, policy_data(r))
    _history(conn, pol, version, by, [c["name"] for c in chosen])
    return {"id": pol.id, "version": version, "changed": True}


def _points(conn: psycopg.Connection, codes: list[str]) -> list[dict]:
    codes = sorted({c.strip() for c in codes if c and c.strip()})
    if not codes:
        raise AdminError("请至少选择一个服务点，或选择发布到全部服务点")
    rows = conn.execute(
        "SELECT id, code, name FROM service_point WHERE code = ANY(%s) ORDER BY code", (codes,)
    ).fetchall()
    missing = sorted(set(codes) - {r["code"] for r in rows})
    if missing:
        raise AdminError(f"没有这些服务点编码：{'、'.join(missing)}")
    return rows


def _publish_everywhere(conn, pol, text, digest, row, pilots, newest, by) -> dict:
    if row and row["sha256"] == digest and not pilots:
        return {"id": pol.id, "version": row["version"], "changed": False}
    version = newest + 1
    r = conn.execute(
        "INSERT INTO policy(id, version, region, year, title, source, toml, sha256)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET"
        " version = EXCLUDED.version, region = EXCLUDED.region, year = EXCLUDED.year,"
        " title = EXCLUDED.title, source = EXCLUDED.source, toml = EXCLUDED.toml,"
        " sha256 = EXCLUDED.sha256, published_at = now() RETURNING *",
        (pol.id, version, pol.region, pol.year, pol.title, pol.source, text, digest),
    ).fetchone()
    # the county-wide version is newer than any pilot: every desk now holds the same file
    conn.execute("DELETE FROM policy_pilot WHERE policy_id = %s", (pol.id,))
    _history(conn, pol, version, by, None)
    from county.streams import policy_data  # deferred: policy parsing loads only when publishing

    emit(conn, "county", sp.E_POLICY, pol.id, version, policy_data(r))
    return {"id": pol.id, "version": version, "changed": True}


def _history(conn, pol, version: int, by: str, sp_names: list[str] | None) -> None:
    conn.execute(
        "INSERT INTO policy_history(policy_id, version, title, year, published_by, sp_names)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (pol.id, version, pol.title, pol.year, by, sp_names),
    )


# ------------------------------------------------------------------ conflicts
CONFLICT_COLS = (
    "id, kind, status, person_id, year, entity, entity_id, sp_ids, summary, detail,"
    " created_at, resolved_at, resolution"
)


def list_conflicts(
    conn: psycopg.Connection,
    status: str = "open",
    *,
    kind: str = "",
    sp_id: str = "",
    region: str = "",
    limit: int | None = None,
    newest_first: bool = False,
) -> list[dict]:
    """Conflicts in ``status`` (open / resolved / all), of ``kind``, touching the service
    point ``sp_id`` and a point of the county ``region`` when given — filtered in the
    database, not after reading every conflict a province has had; the oldest first (the
    queue), or ``newest_first``; ``limit`` rows."""
    where, args = [], {"s": status, "k": kind, "p": [sp_id], "r": region, "n": limit}
    if status != "all":
        where.append("status = %(s)s")
    if kind:
        where.append("kind = %(k)s")
    if sp_id:
        where.append("sp_ids @> %(p)s")
    if region:
        where.append("sp_ids && ARRAY(SELECT id FROM service_point WHERE region_code = %(r)s)")
    order = "created_at DESC, id DESC" if newest_first else "created_at, id"
    rows = conn.execute(
        f"SELECT {CONFLICT_COLS} FROM conflict"
        f"{' WHERE ' + ' AND '.join(where) if where else ''} ORDER BY {order} LIMIT %(n)s",
        args,
    ).fetchall()
    return [_conflict_row(r) for r in rows]


def get_conflict(conn: psycopg.Connection, conflict_id: str) -> dict | None:
    """One conflict by its id (None: no such conflict)."""
    row = conn.execute(
        f"SELECT {CONFLICT_COLS} FROM conflict WHERE id = %s", (conflict_id,)
    ).fetchone()
    return _conflict_row(row) if row else None


def _conflict_row(r: dict) -> dict:
    for k in ("created_at", "resolved_at"):
        if r[k] is not None:
            r[k] = r[k].isoformat(timespec="seconds")
    return r


DECISIONS = {
    "double_enrollment": ("keep", "winner"),
    "identity_review": ("keep_county", "use_desktop"),
    "correction_request": ("accept", "reject"),
    "stale_update": ("keep_county", "use_desktop"),
    "move_conflict": ("keep_first",),
    "identity_confirm": ("confirm",),
}


def resolve_conflict(
    conn: psycopg.Connection,
    conflict_id: str,
    decision: str,
    *,
    winner_id: str | None = None,
    note: str = "",
    by: str = COMMAND_LINE,
) -> dict:
    """Resolve an open conflict with ``decision``; ``by``: the console account's log-in
    (the command line and the admin API: the technician), kept with the resolution."""
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
        text = _keep_enrollment(conn, c, detail, decision, winner_id)
    elif c["kind"] in ("identity_review", "stale_update", "correction_request"):
        apply = decision in ("use_desktop", "accept")
        if apply:
            fields = detail.get("differences") or detail.get("fields") or {}
            values = {
                f: (v.get("desktop") if "desktop" in v else v.get("requested"))
                for f, v in fields.items()
            }
            _county_set(conn, c["entity"] or sp.E_PERSON, c["entity_id"], values)
            if c["kind"] == "identity_review":
                _confirm(conn, c)  # checked: every point holding the person sees its record
            text = "县医保部门已采用服务点提交的信息"
        else:
            if c["kind"] == "identity_review":
                _confirm(conn, c)
            text = "县医保部门决定保留县里的信息"
    elif c["kind"] == "identity_confirm":
        _confirm(conn, c)
        text = "县医保部门已确认为同一人，各服务点可查看该居民的完整信息"
    elif c["kind"] == "move_conflict":
        text = "县医保部门确认保留先办理的迁移；如居民实际在另一户，由该服务点重新办理迁移"
    conn.execute(
        "UPDATE conflict SET status = 'resolved', resolved_at = now(), resolution = %s"
        " WHERE id = %s",
        (jsonb({"decision": decision, "winner_id": winner_id, "note": note, "by": by}), c["id"]),
    )
    for n in conn.execute(
        "SELECT id, sp_id, data FROM notice WHERE data->>'conflict_id' = %s", (c["id"],)
    ).fetchall():
        data = dict(n["data"])
        data["status"] = "resolved"
        data["message"] = f"{data['message']}\n【已处理】{text}{('：' + note) if note else ''}"
        upsert_notice(conn, n["sp_id"], sp.Notice.from_dict(data))
    return {"id": c["id"], "status": "resolved", "decision": decision, "result": text}


def _keep_enrollment(conn, c: dict, detail: dict, decision: str, winner_id) -> str:
    """A double enrollment ruled (the automatic winner kept, or ``winner_id``): pinned and
    applied; the words for the desks' notices."""
    person = row_by_id(
        conn,
        "person",
        c["person_id"],
        "id, cert_no, home_sp_id, version, data, region",
        lock=True,
    )
    if decision == "winner":
        ids = [e["id"] for e in detail.get("enrollments", [])]
        if winner_id not in ids:
            raise AdminError(f"--winner 应为该冲突中的参保登记编号之一：{', '.join(ids)}")
        detail["pinned_winner"] = winner_id
    else:
        detail["pinned_winner"] = detail.get("winner")
    conn.execute("UPDATE conflict SET detail = %s WHERE id = %s", (jsonb(detail), c["id"]))
    out = evaluate_enrollments(conn, person, c["year"])
    kept = out["winner"] if out else detail["pinned_winner"]
    # the notice a clerk reads names the service point whose registration stands, not the
    # registration's id
    sp_id = next(
        (e.get("sp_id") for e in detail.get("enrollments", []) if e.get("id") == kept), None
    )
    name = conn.execute("SELECT name FROM service_point WHERE id = %s", (sp_id,)).fetchone()
    where = f"{name['name']}的" if name else ""
    return f"县医保部门已裁定保留{where}{c['year']}年度参保登记"


def _confirm(conn, c: dict) -> None:
    """The county confirmed who the person is: every point holding them sees the county's
    record and its year-to-date figures from now on."""
    from county.ytd import (
        emit_ytd_to,
    )  # deferred: breaks an import cycle (ytd imports the ingest package)

    confirm_links(conn, c["entity_id"])
    _county_set(conn, sp.E_PERSON, c["entity_id"], {})
    for sid in c["sp_ids"] or []:
        emit_ytd_to(conn, c["entity_id"], sid)


def _county_set(conn, entity: str, entity_id: str, values: dict) -> None:
    table = {sp.E_PERSON: "person", sp.E_HOUSEHOLD: "household", sp.E_ENROLLMENT: "enrollment"}[
        entity
    ]
    row = row_by_id(conn, table, entity_id, lock=True)
    if row is None:
        raise AdminError("冲突涉及的记录已不存在", 404, "not_found")
    where, args = where_row(table, row)
    version = row["version"] + 1
    data = {**row["data"], **values}
    src = {**(row["field_src"] or {}), **{f: [version, "county"] for f in values}}
    conn.execute(
        f"UPDATE {table} SET data = %s, field_src = %s, version = %s, updated_at = now()"
        f" WHERE {where}",
        (jsonb(data), jsonb(src), version, *args),
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
