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


def county_rows(county, sp_id: str) -> dict[tuple[str, str], tuple[int, str]]:
    from desktop.store.journal import canonical_json

    rows = county.sql(
        "SELECT DISTINCT ON (entity, entity_id) entity, entity_id, version, op, data"
        " FROM change_log WHERE stream IN ('county', %s, %s)"
        " ORDER BY entity, entity_id, version DESC, seq DESC",
        (f"sp:{sp_id}", f"notices:{sp_id}"),
    )
    return {
        (r["entity"], r["entity_id"]): (r["version"], canonical_json(r["data"] or {}))
        for r in rows
        if r["op"] == "upsert"
    }


def mirror_rows(store) -> dict[tuple[str, str], tuple[int, str]]:
    return {
        (r["entity"], r["id"]): (r["version"], r["data"])
        for r in store.query("SELECT entity, id, version, data FROM server_row WHERE removed = 0")
    }


def diff_rows(county, store, sp_id: str) -> list:
    """Rows that differ between the county and a desktop's mirror (for messages)."""
    c, m = county_rows(county, sp_id), mirror_rows(store)
    return [(k, c.get(k), m.get(k)) for k in sorted(set(c) | set(m)) if c.get(k) != m.get(k)]
