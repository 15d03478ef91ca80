"""Row ids that say which county holds the row.

The county server partitions residents, enrollments and payments by county (migration 0019):
a row read with its county named is one partition's index probe, while a row known by id
alone costs a look-up in the province-wide key table first. So a row made from this version
on carries its county in its id, as sharded systems' ids carry their shard (Instagram's ids,
Citus's tenant keys): a UUID of RFC 9562's version 8 (its bits are the maker's to lay out)
whose first six hex digits are the six decimal digits of the county's code — the service
point's 医保区划代码 — and whose other 98 free bits are random, as a version-4 UUID's are.

The county in an id is a hint, never a fact: the server reads the row in that county first
and, when it is not there (an id made before this version, a service point whose code was
corrected since), looks for it through the key table as before. Ids are never shown to a
clerk or a resident.
"""

from __future__ import annotations

import uuid

_REGION_BITS = 104  # the first 24 bits: six hex digits
_VERSION_SHIFT = 76


def _is_region(region: str) -> bool:
    return len(region) == 6 and region.isascii() and region.isdigit()


def new_row_id(region: str = "") -> str:
    """A new random row id carrying ``region`` (a six-digit county code); without one (a
    service point not set up yet), a version-4 UUID."""
    if not _is_region(region):
        return str(uuid.uuid4())
    n = uuid.uuid4().int  # its variant bits are RFC 9562's already
    n = (n & ~(0xFFFFFF << _REGION_BITS)) | (int(region, 16) << _REGION_BITS)
    n = (n & ~(0xF << _VERSION_SHIFT)) | (8 << _VERSION_SHIFT)
    return str(uuid.UUID(int=n))


def region_in(row_id: str) -> str | None:
    """The county ``row_id`` was made in (None: an id that carries none — a version-4 UUID,
    a county server's own rows from before, anything else)."""
    if (
        len(row_id) == 36
        and row_id[14] == "8"
        and row_id[19] in "89ab"
        and row_id[8] == "-"
        and _is_region(row_id[:6])
    ):
        return row_id[:6]
    return None
