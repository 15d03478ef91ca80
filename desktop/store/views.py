"""Who looked at whom (查询留痕): record views, prints and list exports in the audit chain."""

from __future__ import annotations

from desktop.store import Store
from desktop.store.journal import audit_event

# What counts as looking: opening a person's record, printing a document, exporting a list.
VIEW_ACTIONS = ("person.view", "list.export", "print")


def record(db, *, operator_id: str | None, action: str, entity: str, entity_id, extra=None):
    audit_event(
        db, operator_id=operator_id, action=action, entity=entity, entity_id=entity_id, extra=extra
    )


def listing(
    store: Store, *, person_id: str | None = None, operator_id: str | None = None, limit: int = 500
) -> list[dict]:
    """Views, prints and exports, newest first, by person and/or operator, with who."""
    where = ["a.action IN ({})".format(",".join("?" * len(VIEW_ACTIONS)))]
    args: list = list(VIEW_ACTIONS)
    if person_id:
        where.append("(a.entity_id = ? OR a.detail LIKE ?)")
        args += [person_id, f"%{person_id}%"]
    if operator_id:
        where.append("a.operator_id = ?")
        args.append(operator_id)
    args.append(limit)
    return store.query(
        "SELECT a.seq, a.at, a.action, a.entity, a.entity_id, a.detail,"
        " o.display_name AS operator, o.username"
        " FROM audit_log a LEFT JOIN operator o ON o.id = a.operator_id"
        f" WHERE {' AND '.join(where)} ORDER BY a.seq DESC LIMIT ?",
        tuple(args),
    )
