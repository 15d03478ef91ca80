"""Migration steps that need Python (numbered like the SQL files in ``db/desktop`` and
applied in number order with them by :func:`desktop.store.db.build_migrations`)."""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from desktop.store.namekeys import reindex_name_keys


def _person_name_keys(db: sqlite_utils.Database) -> None:
    # issue 11: index the other common readings of every existing person's name
    reindex_name_keys(db.conn)


PYTHON_STEPS: dict[str, Callable[[sqlite_utils.Database], None]] = {
    "0071_person_name_keys": _person_name_keys,
}
