"""Checks shared by the sync tests."""

from __future__ import annotations


def county_checksum(county, sp_id: str) -> tuple[int, str]:
    """The same checksum as st.mirror_checksum, over the latest change of every row on the
    streams this service point receives."""
    import hashlib

    from desktop.store.journal import canonical_json

    rows = county.sql(
        "SELECT DISTINCT ON (entity, entity_id) entity, entity_id, version, op, data"
        " FROM change_log WHERE stream IN ('county', %s, %s)"
        " ORDER BY entity, entity_id, version DESC, seq DESC",
        (f"sp:{sp_id}", f"notices:{sp_id}"),
    )
    rows = [r for r in rows if r["op"] == "upsert"]
    rows.sort(key=lambda r: (r["entity"], r["entity_id"]))
    h = hashlib.sha256()
    for r in rows:
        h.update(
            f"{r['entity']}|{r['entity_id']}|{r['version']}|{canonical_json(r['data'] or {})}\n".encode()
        )
    return len(rows), h.hexdigest()
