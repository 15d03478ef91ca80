"""Pull (per-stream cursors) and the resumable snapshot for a device's first sync."""

from __future__ import annotations

import psycopg

from core import syncproto as sp
from county.db import notice_stream, sp_stream
from county.model import person_view
from county.security import Signer
from county.ytd import ytd_data


def stream_keys(sp_id: str) -> dict[str, str]:
    """Abstract stream names → the device's concrete streams (scope from the credential)."""
    return {
        sp.STREAM_COUNTY: "county",
        sp.STREAM_SERVICE_POINT: sp_stream(sp_id),
        sp.STREAM_NOTICES: notice_stream(sp_id),
    }


# The device's streams in one statement: each branch reads one stream after its cursor,
# in seq order; the streams follow one another (k) and the page stops at ``limit`` + 1 rows
# (the extra row only says there is more). A desk catching up may have each branch read
# ``limit`` + 1 rows for the sort to keep the first ones: index entries and rows, not the
# large documents (kept out of line until sent) — one round trip instead of three.
_PULL_SQL = (
    " UNION ALL ".join(
        f"(SELECT {k} AS k, seq, entity, entity_id, op, version, data FROM change_log"
        " WHERE stream = %s AND seq > %s ORDER BY seq LIMIT %s)"
        for k in range(len(sp.STREAMS))
    )
    + " ORDER BY k, seq LIMIT %s"
)


def pull(conn: psycopg.Connection, sp_id: str, cursor: dict[str, int], limit: int) -> dict:
    """Changes after each stream's cursor, a stream's before the next one's, at most
    ``limit``; ``has_more`` when any stream has more."""
    keys = stream_keys(sp_id)
    next_cursor = {name: int(cursor.get(name, 0)) for name in sp.STREAMS}
    params: list = []
    for name in sp.STREAMS:
        params += [keys[name], next_cursor[name], limit + 1]
    rows = conn.execute(_PULL_SQL, [*params, limit + 1]).fetchall()
    has_more = len(rows) > limit
    changes: list[dict] = []
    for r in rows[:limit]:
        name = sp.STREAMS[r["k"]]
        changes.append(
            {
                "seq": r["seq"],
                "stream": name,
                "entity": r["entity"],
                "id": r["entity_id"],
                "op": r["op"],
                "version": r["version"],
                "data": r["data"],
            }
        )
        next_cursor[name] = r["seq"]
    return {"changes": changes, "next_cursor": next_cursor, "has_more": has_more}


def heads(conn: psycopg.Connection, sp_id: str) -> dict[str, int]:
    keys = stream_keys(sp_id)
    rows = conn.execute(
        "SELECT stream, last_seq FROM stream_head WHERE stream = ANY(%s)", (list(keys.values()),)
    ).fetchall()
    by = {r["stream"]: r["last_seq"] for r in rows}
    return {name: int(by.get(key, 0)) for name, key in keys.items()}


# Snapshot parts: (stream, entity, SQL returning key + row for the view), keyset by key.
PARTS: list[tuple[str, str, str]] = [
    (
        sp.STREAM_COUNTY,
        sp.E_SERVICE_POINT,
        "SELECT id AS k, id, code, name, region_code FROM service_point"
        " WHERE id > %(k)s ORDER BY id LIMIT %(n)s",
    ),
    (
        sp.STREAM_COUNTY,
        sp.E_POLICY,
        "SELECT id AS k, id, version, region, year, title, source, toml, published_at FROM policy"
        " WHERE id > %(k)s ORDER BY id LIMIT %(n)s",
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_HOUSEHOLD,
        "SELECT id AS k, id, version, data FROM household WHERE home_sp_id = %(sp)s AND id > %(k)s"
        " ORDER BY id LIMIT %(n)s",
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_PERSON,
        # members of a household next to each other: the household id then compresses
        # away (about a quarter fewer bytes for a first sync)
        # (a point not yet confirmed as holding another point's resident: what it sent)
        "SELECT q.k, p.id, p.home_sp_id, p.version, COALESCE(q.sent, p.data) AS data,"
        " q.household_id, q.relation"
        " FROM (SELECT (COALESCE(household_id, '') || chr(1) || person_id) COLLATE \"C\" AS k,"
        "   person_id, household_id, relation, sent FROM person_link WHERE sp_id = %(sp)s) q"
        " JOIN person_key pk ON pk.id = q.person_id"
        " JOIN person p ON p.region = pk.region AND p.id = q.person_id"
        ' WHERE q.k > %(k)s COLLATE "C" ORDER BY q.k LIMIT %(n)s',
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_ENROLLMENT,
        "SELECT id AS k, id, version, data FROM enrollment WHERE sp_id = %(sp)s AND id > %(k)s"
        " ORDER BY id LIMIT %(n)s",
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_PAYMENT,
        "SELECT id AS k, id, version, data FROM payment WHERE sp_id = %(sp)s AND id > %(k)s"
        " ORDER BY id LIMIT %(n)s",
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_ALIAS,
        "SELECT alias_id AS k, alias_id AS id, 1 AS version, entity, canonical_id FROM alias"
        " WHERE sp_id = %(sp)s AND alias_id > %(k)s ORDER BY alias_id LIMIT %(n)s",
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_YTD,
        "SELECT q.k, q.k AS id, q.person_id, q.year, q.version, q.as_of, q.figures FROM"
        " (SELECT (y.person_id || ':' || y.year) COLLATE \"C\" AS k, y.* FROM person_ytd y"
        "  JOIN person_link l ON l.person_id = y.person_id AND l.sp_id = %(sp)s"
        "   AND l.sent IS NULL) q"
        ' WHERE q.k > %(k)s COLLATE "C" ORDER BY q.k LIMIT %(n)s',
    ),
    (
        sp.STREAM_NOTICES,
        sp.E_NOTICE,
        "SELECT id AS k, id, version, data FROM notice WHERE sp_id = %(sp)s AND id > %(k)s"
        " ORDER BY id LIMIT %(n)s",
    ),
    (
        sp.STREAM_SERVICE_POINT,
        sp.E_POLICY,  # a version published to this point only (newer than the county's;
        # last, so a page token of a snapshot begun before this part existed stays valid)
        "SELECT policy_id AS k, policy_id AS id, version, region, year, title, source, toml,"
        " published_at FROM policy_pilot WHERE sp_id = %(sp)s AND policy_id > %(k)s"
        " ORDER BY policy_id LIMIT %(n)s",
    ),
]


def policy_data(r: dict) -> dict:
    return {
        "id": r["id"],
        "region": r["region"],
        "year": r["year"],
        "title": r["title"],
        "source": r["source"],
        "toml": r["toml"],
        "published_at": r["published_at"].isoformat(timespec="seconds"),
    }


def _view(entity: str, r: dict) -> tuple[int, dict]:
    if entity == sp.E_SERVICE_POINT:
        return 1, {
            "id": r["id"],
            "code": r["code"],
            "name": r["name"],
            "region_code": r["region_code"],
        }
    if entity == sp.E_POLICY:
        return r["version"], policy_data(r)
    if entity == sp.E_PERSON:
        return r["version"], person_view(
            r, {"household_id": r["household_id"], "relation": r["relation"]}
        )
    if entity == sp.E_YTD:
        return r["version"], ytd_data(r["person_id"], r["year"], r["as_of"], r["figures"])
    if entity == sp.E_ALIAS:
        return 1, {"entity": r["entity"], "canonical_id": r["canonical_id"]}
    return r["version"], r["data"]


class BadPageToken(ValueError):
    pass


def snapshot(
    conn: psycopg.Connection,
    signer: Signer,
    device_id: str,
    sp_id: str,
    page_token: str | None,
    limit: int,
) -> dict:
    if page_token:
        claims = signer.verify(page_token)
        if not claims or claims.get("d") != device_id or not isinstance(claims.get("c"), dict):
            raise BadPageToken("快照续传标记无效，请从头开始首次同步")
        part, key, cursor = int(claims["i"]), str(claims["k"]), claims["c"]
    else:
        part, key, cursor = 0, "", heads(conn, sp_id)
    changes: list[dict] = []
    while part < len(PARTS) and len(changes) < limit:
        stream, entity, sql = PARTS[part]
        room = limit - len(changes)
        rows = conn.execute(sql, {"sp": sp_id, "k": key, "n": room}).fetchall()
        for r in rows:
            version, data = _view(entity, r)
            changes.append(
                {
                    "seq": 0,
                    "stream": stream,
                    "entity": entity,
                    "id": r["id"],
                    "op": "upsert",
                    "version": version,
                    "data": data,
                }
            )
        if len(rows) < room:
            part, key = part + 1, ""  # this part is exhausted
        else:
            key = rows[-1]["k"]  # page full: continue this part next time
    done = part >= len(PARTS)
    token = None if done else signer.sign({"d": device_id, "c": cursor, "i": part, "k": key})
    return {"changes": changes, "next_page_token": token, "done": done, "cursor": cursor}
