"""A person as each service point that holds it sees it: the change sent on their streams."""

from __future__ import annotations

from core import syncproto as sp
from county.db import emit, sp_stream
from county.model import person_view


def emit_person(conn, person: dict) -> None:
    """Send a person to every service point that holds it (each with its own household). A
    point whose link is not confirmed yet (it registered someone another point holds) gets
    back only what it sent."""
    for link in conn.execute(
        "SELECT sp_id, household_id, relation, sent FROM person_link WHERE person_id = %s"
        " ORDER BY sp_id",
        (person["id"],),
    ).fetchall():
        seen = person if link["sent"] is None else {**person, "data": link["sent"]}
        emit(
            conn,
            sp_stream(link["sp_id"]),
            sp.E_PERSON,
            person["id"],
            person["version"],
            person_view(seen, link),
        )


def confirm_links(conn, person_id: str) -> None:
    """The county confirmed the identity: every point holding the person sees its record."""
    conn.execute("UPDATE person_link SET sent = NULL WHERE person_id = %s", (person_id,))
