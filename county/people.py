"""A person as each service point that holds it sees it: the change sent on their streams."""

from __future__ import annotations

from core import syncproto as sp
from county.db import emit, sp_stream
from county.model import person_view


def emit_person(conn, person: dict) -> None:
    """Send a person to every service point that holds it (each with its own household)."""
    for link in conn.execute(
        "SELECT sp_id, household_id, relation FROM person_link WHERE person_id = %s ORDER BY sp_id",
        (person["id"],),
    ).fetchall():
        emit(
            conn,
            sp_stream(link["sp_id"]),
            sp.E_PERSON,
            person["id"],
            person["version"],
            person_view(person, link),
        )
