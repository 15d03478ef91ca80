"""What every entity's ingest shares: the device, an op's result, and the preamble — the canonical id (already here), the scope check (another service point's) and the link of a person to a service point."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from core import syncproto as sp
from county.model import OpRejected

log = logging.getLogger("county.ingest")

LINK_FIELDS = ("household_id", "relation")


@dataclass(frozen=True)
class Device:
    device_id: str
    sp_id: str
    region: str  # the county of its service point (the partition of what it pushes)
    operator_id: str = ""
    disabled: bool = False  # disabled by the county: may push what it holds, nothing more


def _result(op_id: str, status: str, **kw) -> dict:
    return sp.OpResult(op_id=op_id, status=status, **kw).as_dict()


class BatchRetry(Exception):
    """Another send of one of these ops committed meanwhile: roll back and run the batch
    again (it then finds the stored results)."""


def _canon(conn, entity: str, entity_id: str | None) -> str | None:
    if entity_id is None:
        return None
    r = conn.execute(
        "SELECT canonical_id FROM alias WHERE entity = %s AND alias_id = %s", (entity, entity_id)
    ).fetchone()
    return r["canonical_id"] if r else entity_id


def _scope_error(what: str) -> OpRejected:
    return OpRejected(sp.R_SCOPE, f"{what}属于其他服务点，本机无权修改（已记录）")


def _linked(conn, person_id: str, sp_id: str) -> dict | None:
    return conn.execute(
        "SELECT household_id, relation FROM person_link WHERE person_id = %s AND sp_id = %s",
        (person_id, sp_id),
    ).fetchone()
