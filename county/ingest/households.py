"""household.create from a desk."""

from __future__ import annotations

from core import syncproto as sp
from county.db import emit, jsonb, sp_stream
from county.ingest.common import Device, _result, _scope_error
from county.model import clean_fields


# ------------------------------------------------------------------ households
def household_create(conn, dev: Device, op: sp.Op) -> dict:
    fields = clean_fields(sp.E_HOUSEHOLD, {**op.payload, "id": op.entity_id}, partial=False)
    existing = conn.execute(
        "SELECT home_sp_id, version, data FROM household WHERE id = %s", (op.entity_id,)
    ).fetchone()
    if existing is not None:
        if existing["home_sp_id"] != dev.sp_id:
            raise _scope_error("该户")
        return _result(
            op.op_id,
            sp.ST_DUPLICATE,
            canonical_id=op.entity_id,
            version=existing["version"],
            message="县里已有这一户，未重复登记",
        )
    fields["home_service_point_id"] = dev.sp_id
    src = {f: [1, dev.sp_id] for f in fields}
    conn.execute(
        "INSERT INTO household(id, home_sp_id, data, field_src) VALUES (%s, %s, %s, %s)",
        (op.entity_id, dev.sp_id, jsonb(fields), jsonb(src)),
    )
    emit(conn, sp_stream(dev.sp_id), sp.E_HOUSEHOLD, op.entity_id, 1, fields)
    return _result(op.op_id, sp.ST_APPLIED, canonical_id=op.entity_id, version=1)
