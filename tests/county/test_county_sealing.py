"""Secrets the county must keep readable are sealed at rest (issue 14 item 6): a service
point's receipt key and a desk's escrowed store key are AES-GCM sealed in PostgreSQL; a key
an older version stored as plain hex is sealed at the next start; the wrong data key opens
nothing; registration still hands the desk the plain key (over TLS)."""

from __future__ import annotations

import re

import pytest

from core import syncproto as sp
from county import receipt_keys, sealing
from county.app import create_app
from county.settings import Settings

pytestmark = pytest.mark.postgres

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_receipt_and_escrowed_keys_are_sealed(county):
    county.service_point("SP01", "东乡卫生院")
    held = county.sql("SELECT key_hex FROM receipt_key")[0]["key_hex"]
    assert sealing.is_sealed(held) and not HEX64.match(held)
    reg = county.register("SP01")
    key = reg["receipt_key"]["key"]
    assert HEX64.match(key) and key not in held  # the desk gets it plain, the table sealed
    dev = county.device("SP01")
    r = county.post(sp.EP_ESCROW, {"folder_id": "a" * 32, "store_key": "b" * 64}, token=dev.token)
    assert r.status_code == 200, r.text
    escrowed = county.sql("SELECT escrow_key FROM device WHERE escrow_key IS NOT NULL")
    assert len(escrowed) == 1 and "b" * 64 not in escrowed[0]["escrow_key"]
    assert sealing.unseal(escrowed[0]["escrow_key"]) == "b" * 64
    bad = county.post(sp.EP_ESCROW, {"folder_id": "x", "store_key": "y"}, token=dev.token)
    assert bad.status_code == 422


def test_a_plain_key_of_an_older_version_is_sealed_at_start(county, county_dsn):
    from fastapi.testclient import TestClient

    county.service_point("SP01", "东乡卫生院")
    plain = "c" * 64
    with county.conn() as c, c.transaction():
        c.execute("UPDATE receipt_key SET key_hex = %s", (plain,))
    data_key = "the-county-data-key-0123456789abcdef0123"
    settings = Settings(database_url=county_dsn, signing_key="s" * 40, data_key=data_key)
    with TestClient(create_app(settings)):  # the start seals what is plain
        pass
    held = county.sql("SELECT sp_id, key_hex FROM receipt_key")[0]
    assert sealing.is_sealed(held["key_hex"]) and plain not in held["key_hex"]
    sealing.configure(data_key)
    with county.conn() as c:
        assert receipt_keys.key_for(c, held["sp_id"])["key_hex"] == plain


def test_the_wrong_data_key_opens_nothing():
    sealing.configure("one-data-key-0123456789abcdef0123456789")
    sealed = sealing.seal("d" * 64)
    sealing.configure("another-data-key-0123456789abcdef012345")
    with pytest.raises(sealing.SealError):
        sealing.unseal(sealed)
