"""Set-based fast path for the common push: a batch of new households, persons,
enrollments and payments of this service point that touch nothing the county already
holds (no merge, no double enrollment, no update). Checked in a few queries, then written
with one multi-row insert per table and one stream-sequence allocation.

Anything else — or any race detected by a constraint — returns None and the batch runs
op by op (``county.ingest``), which produces exactly the same rows, changes and results
(tests/county/test_county_fastpath.py compares the two)."""

from __future__ import annotations

import os

import psycopg
from psycopg import errors as pgerr

from core import syncproto as sp
from county.db import insert_rows, jsonb, sp_stream
from county.model import OpRejected, clean_fields, parse_money, person_view

FAST_TYPES = {"household.create", "person.create", "enrollment.create", "payment.record"}
LINK_FIELDS = ("household_id", "relation")
# TOWNSHIP_COUNTY_FASTPATH=0 turns it off (benchmarks compare both paths)
ENABLED = os.environ.get("TOWNSHIP_COUNTY_FASTPATH", "1") != "0"


def _ok(op: sp.Op) -> dict:
    return sp.OpResult(
        op_id=op.op_id, status=sp.ST_APPLIED, canonical_id=op.entity_id, version=1
    ).as_dict()


def try_bulk(conn: psycopg.Connection, dev, ops: list[sp.Op]) -> list[dict] | None:
    if not ENABLED or not ops or any(o.op_type not in FAST_TYPES for o in ops):
        return None
    if len({o.op_id for o in ops}) != len(ops) or len({o.entity_id for o in ops}) != len(ops):
        return None
    prepared = _prepare(ops)
    if prepared is None:
        return None
    persons = [(o, f) for o, e, f in prepared if e == sp.E_PERSON]
    certs = [(f["cert_type"], f["cert_no"].strip().upper()) for _, f in persons]
    if len(set(certs)) != len(certs):
        return None
    try:
        with conn.transaction():
            enr_rows = _nothing_taken(conn, dev, prepared, certs)
            return _write(conn, dev, prepared, enr_rows)
    except (_Fallback, pgerr.IntegrityError, psycopg.DataError):
        return None


def _prepare(ops: list[sp.Op]) -> list[tuple[sp.Op, str, dict]] | None:
    """Each op checked as the op-by-op path would (size, hash, id, fields); None when one
    would be rejected there (that path gives the rejection)."""
    prepared: list[tuple[sp.Op, str, dict]] = []
    try:
        for op in ops:
            if len(sp.canonical_json(op.payload).encode("utf-8")) > sp.MAX_PAYLOAD_BYTES:
                return None
            if sp.payload_sha256(op.payload) != op.payload_sha256:
                return None
            pid = op.payload.get("id")
            if pid is not None and pid != op.entity_id:
                return None
            entity = sp.OP_TYPES[op.op_type]
            fields = clean_fields(entity, {**op.payload, "id": op.entity_id}, partial=False)
            if entity == sp.E_PAYMENT:
                if not fields.get("enrollment_id"):
                    return None
                parse_money(fields["amount"])
            prepared.append((op, entity, fields))
    except OpRejected:
        return None

    return prepared


def _nothing_taken(conn, dev, prepared, certs) -> dict[str, dict]:
    """Check that the batch touches nothing the county holds (ids, aliases, certificate
    numbers, other points' households, a second enrollment of a year) and no resident of
    another county; returns the existing enrollments the batch's payments name. Raises
    _Fallback otherwise."""
    new_ids = {
        e: {o.entity_id for o, ent, _ in prepared if ent == e}
        for e in (sp.E_HOUSEHOLD, sp.E_PERSON, sp.E_ENROLLMENT, sp.E_PAYMENT)
    }
    persons = [f for _o, e, f in prepared if e == sp.E_PERSON]
    hh_refs = {f["household_id"] for f in persons if f.get("household_id")}
    enr_person_refs = {f["person_id"] for o, e, f in prepared if e == sp.E_ENROLLMENT}
    pay_enr_refs = {f["enrollment_id"] for o, e, f in prepared if e == sp.E_PAYMENT}
    all_ids = [o.entity_id for o, _, _ in prepared]
    taken = conn.execute(
        "SELECT 1 FROM household WHERE id = ANY(%(i)s)"
        " UNION ALL SELECT 1 FROM person_key WHERE id = ANY(%(i)s)"
        " UNION ALL SELECT 1 FROM enrollment_key WHERE id = ANY(%(i)s)"
        " UNION ALL SELECT 1 FROM payment_key WHERE id = ANY(%(i)s)"
        " UNION ALL SELECT 1 FROM alias WHERE alias_id = ANY(%(i)s) OR alias_id = ANY(%(p)s)"
        " UNION ALL SELECT 1 FROM person_key p JOIN unnest(%(ct)s::text[], %(cn)s::text[])"
        "   AS c(t, n) ON p.cert_type = c.t AND p.cert_no = c.n"
        " UNION ALL SELECT 1 FROM household WHERE id = ANY(%(h)s) AND home_sp_id <> %(sp)s"
        " LIMIT 1",
        {
            "i": all_ids,
            "p": list(enr_person_refs),
            "ct": [c[0] for c in certs],
            "cn": [c[1] for c in certs],
            "h": list(hh_refs - new_ids[sp.E_HOUSEHOLD]),
            "sp": dev.sp_id,
        },
    ).fetchone()
    if taken is not None:
        raise _Fallback
    old_persons = list(enr_person_refs - new_ids[sp.E_PERSON])
    old_enrs = list(pay_enr_refs - new_ids[sp.E_ENROLLMENT])
    enr_rows: dict[str, dict] = {}
    if old_enrs:
        for r in conn.execute(
            # only this point's county (another county's resident: op by op)
            "SELECT id, person_id, year, sp_id, conflict_status, region FROM enrollment"
            " WHERE region = %s AND id = ANY(%s)",
            (dev.region, old_enrs),
        ).fetchall():
            enr_rows[r["id"]] = r
        if len(enr_rows) != len(old_enrs) or any(
            r["sp_id"] != dev.sp_id or r["conflict_status"] != "none" for r in enr_rows.values()
        ):
            raise _Fallback
    lock = sorted(set(old_persons) | {r["person_id"] for r in enr_rows.values()})
    if lock:
        linked = conn.execute(
            "SELECT p.id FROM person p JOIN person_link l ON l.person_id = p.id"
            " AND l.sp_id = %s WHERE p.region = %s AND p.id = ANY(%s) ORDER BY p.id"
            " FOR UPDATE OF p",
            (dev.sp_id, dev.region, lock),
        ).fetchall()
        if len(linked) != len(lock):
            raise _Fallback
    _no_second_enrollment(conn, dev.region, prepared, enr_rows)
    return enr_rows


class _Fallback(Exception):
    pass


def _no_second_enrollment(conn, region: str, prepared, enr_rows: dict[str, dict]) -> None:
    """No year of a person enrolled twice (in the batch, or with what the county holds):
    that is the winner rule's work, op by op."""
    pairs = [(f["person_id"], f["year"]) for o, e, f in prepared if e == sp.E_ENROLLMENT]
    if len(set(pairs)) != len(pairs):
        raise _Fallback
    if (
        pairs
        and conn.execute(
            "SELECT 1 FROM enrollment e JOIN unnest(%s::text[], %s::int[]) AS q(p, y)"
            " ON e.person_id = q.p AND e.year = q.y WHERE e.region = %s LIMIT 1",
            ([p for p, _ in pairs], [y for _, y in pairs], region),
        ).fetchone()
    ):
        raise _Fallback
    if (
        enr_rows
        and conn.execute(
            "SELECT 1 FROM enrollment e JOIN unnest(%s::text[], %s::int[]) AS q(p, y)"
            " ON e.person_id = q.p AND e.year = q.y WHERE e.region = %s"
            " GROUP BY e.person_id, e.year HAVING count(*) > 1 LIMIT 1",
            (
                [r["person_id"] for r in enr_rows.values()],
                [r["year"] for r in enr_rows.values()],
                region,
            ),
        ).fetchone()
    ):
        raise _Fallback  # a second enrollment arrived: the winner rule decides


def _write(conn, dev, prepared, enr_rows: dict[str, dict]) -> list[dict]:
    rows = _rows(dev.sp_id, dev.region, prepared, enr_rows)
    _insert(conn, dev.sp_id, *rows)
    return [_ok(op) for op, _, _ in prepared]


def _rows(sid: str, region: str, prepared, enr_rows: dict[str, dict]):
    """The table rows of the batch (households, persons, links, enrollments, payments) and
    the changes for the service point's stream, in op order. Every row is of this point's
    county (its residents, their enrollments and payments: _nothing_taken checked)."""
    hh, pe, li, en, pa, changes = [], [], [], [], [], []
    batch_enr: dict[str, dict] = {}
    for op, entity, fields in prepared:
        if entity == sp.E_HOUSEHOLD:
            fields["home_service_point_id"] = sid
            src = {f: [1, sid] for f in fields}
            hh.append((op.entity_id, sid, jsonb(fields), jsonb(src)))
            changes.append((sp.E_HOUSEHOLD, op.entity_id, fields))
        elif entity == sp.E_PERSON:
            fields["cert_no"] = fields["cert_no"].strip().upper()
            data = {k: v for k, v in fields.items() if k not in LINK_FIELDS}
            data.setdefault("status", 1)
            src = {f: [1, sid] for f in data}
            pe.append(
                (
                    op.entity_id,
                    fields["cert_type"],
                    fields["cert_no"],
                    sid,
                    jsonb(data),
                    jsonb(src),
                    region,
                )
            )
            link = {"household_id": fields.get("household_id"), "relation": fields.get("relation")}
            li.append((op.entity_id, sid, link["household_id"], link["relation"]))
            view = person_view({"id": op.entity_id, "home_sp_id": sid, "data": data}, link)
            changes.append((sp.E_PERSON, op.entity_id, view))
        elif entity == sp.E_ENROLLMENT:
            fields["service_point_id"] = sid
            fields["conflict_status"] = "none"
            fields.setdefault("status", "registered")
            src = {f: [1, sid] for f in fields}
            en.append(
                (
                    op.entity_id,
                    fields["person_id"],
                    fields["year"],
                    sid,
                    jsonb(fields),
                    jsonb(src),
                    region,
                )
            )
            batch_enr[op.entity_id] = fields
            changes.append((sp.E_ENROLLMENT, op.entity_id, fields))
        else:
            enr = batch_enr.get(fields["enrollment_id"]) or enr_rows[fields["enrollment_id"]]
            amount = parse_money(fields["amount"])
            fields.update(
                enrollment_id=fields["enrollment_id"],
                person_id=enr["person_id"],
                year=enr["year"],
                service_point_id=sid,
                tax_confirmed=False,
            )
            fields["status"] = "local"
            src = {f: [1, sid] for f in fields}
            pa.append(
                (
                    op.entity_id,
                    fields["enrollment_id"],
                    sid,
                    amount,
                    fields.get("receipt_no") or "",
                    jsonb(fields),
                    jsonb(src),
                    region,
                )
            )
            changes.append((sp.E_PAYMENT, op.entity_id, fields))
    return hh, pe, li, en, pa, changes


def _insert(conn, sid: str, hh, pe, li, en, pa, changes) -> None:
    """One multi-row insert per table and one stream-sequence allocation."""
    insert_rows(conn, "household", "id text, home_sp_id text, data jsonb, field_src jsonb", hh)
    insert_rows(
        conn,
        "person",
        "id text, cert_type text, cert_no text, home_sp_id text, data jsonb, field_src jsonb,"
        " region text",
        pe,
    )
    insert_rows(
        conn, "person_link", "person_id text, sp_id text, household_id text, relation text", li
    )
    insert_rows(
        conn,
        "enrollment",
        "id text, person_id text, year int, sp_id text, data jsonb, field_src jsonb, region text",
        en,
    )
    insert_rows(
        conn,
        "payment",
        "id text, enrollment_id text, sp_id text, amount numeric, receipt_no text, data jsonb,"
        " field_src jsonb, region text",
        pa,
    )
    stream = sp_stream(sid)
    last = conn.execute(
        "INSERT INTO stream_head(stream, last_seq) VALUES (%s, %s) ON CONFLICT (stream)"
        " DO UPDATE SET last_seq = stream_head.last_seq + EXCLUDED.last_seq"
        " RETURNING last_seq",
        (stream, len(changes)),
    ).fetchone()["last_seq"]
    first = last - len(changes) + 1
    insert_rows(
        conn,
        "change_log",
        "stream text, seq bigint, entity text, entity_id text, op text, version int, data jsonb",
        [
            (stream, first + i, e, eid, "upsert", 1, jsonb(d))
            for i, (e, eid, d) in enumerate(changes)
        ],
    )
