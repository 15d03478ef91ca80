"""Reading a 二代身份证 at the window: the reader chosen in the settings reads the card, and
the registered person with that number (or a number they carried before) is found. The
card photo is read only when the setting allows it, and is never written to the store."""

from __future__ import annotations

from dataclasses import asdict, replace

from core.errors import ValidationError
from desktop.devices.idcard import CardData, TermbReader
from desktop.services.settings import get_settings
from desktop.store import Store, persons
from desktop.store import events as event_store


def reader_for(store: Store) -> TermbReader | None:
    """The reader the settings name, or None for a keyboard-wedge reader (it types)."""
    s = get_settings(store)
    if s.card_reader != "termb":
        return None
    return TermbReader(s.card_library, int(s.card_port or 0))


def read_card(store: Store, reader: TermbReader | None = None) -> dict:
    """``{"card": {...}, "person": row or None}``; raises CardError (what to do) or, with a
    keyboard-wedge reader, ValidationError saying to read into the search box."""
    reader = reader or reader_for(store)
    if reader is None:
        raise ValidationError(
            {"card": "本机设置为键盘输入式读卡器：把光标放在查找框，刷身份证即可自动输入号码"}
        )
    keep_photo = get_settings(store).card_photo == "1"
    card: CardData = reader.read(photo=keep_photo)
    if not keep_photo:
        card = replace(card, photo=None)
    found = persons.with_cert_no(store.conn, card.cert_no, None)
    person = found[0] if found else None
    if person is None:
        old = event_store.person_by_old_cert(store, card.cert_no)
        person = persons.with_village(store, old) if old else None
    data = asdict(card)
    data["has_photo"] = data.pop("photo") is not None
    return {"card": data, "person": person}
