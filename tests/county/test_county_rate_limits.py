"""Rate limits (issue 14 item 5): registration-code tries and refused admin keys per address
(per 10 minutes), requests per device (per minute) — 429 with Retry-After, written as a
security event; after the window the same caller is served again."""

from __future__ import annotations

import dataclasses

from core import syncproto as sp

ADMIN = {"Authorization": "Bearer test-admin-key-0123456789"}


def _limits(county, **kw):
    app = county.client.app
    app.state.settings = dataclasses.replace(app.state.settings, **kw)


def test_registration_codes_cannot_be_guessed_fast(county):
    county.service_point("SP01", "东乡卫生院")
    _limits(county, register_tries=3)
    for _ in range(3):
        r = county.post(sp.EP_REGISTER, {"code": "ABCD-EFGH-JKLM"})
        assert r.status_code == 400
    good = county.code("SP01")
    r = county.post(sp.EP_REGISTER, {"code": good})  # even a right code waits now
    assert r.status_code == 429 and r.json()["code"] == sp.ERR_RATE_LIMITED
    assert 1 <= int(r.headers["Retry-After"]) <= 601 and "秒后再试" in r.json()["message"]
    kinds = [e["kind"] for e in county.sql("SELECT kind FROM security_event")]
    assert "rate_limited" in kinds
    county.clock.offset += 601
    assert county.post(sp.EP_REGISTER, {"code": good}).status_code == 200


def test_a_guessed_admin_key_waits(county):
    _limits(county, admin_failures=3)
    for _ in range(3):
        r = county.client.get(
            "/api/v1/admin/conflicts", headers={**county.H, "Authorization": "Bearer wrong"}
        )
        assert r.status_code == 403
    r = county.client.get("/api/v1/admin/conflicts", headers={**county.H, **ADMIN})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    county.clock.offset += 601
    assert (
        county.client.get("/api/v1/admin/conflicts", headers={**county.H, **ADMIN}).status_code
        == 200
    )


def test_a_runaway_device_is_slowed(county):
    county.service_point("SP01", "东乡卫生院")
    dev = county.device("SP01")
    _limits(county, device_requests=5)
    codes = [
        county.post(sp.EP_PULL, {"cursor": sp.empty_cursor()}, dev.token).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    county.clock.offset += 61
    assert county.post(sp.EP_PULL, {"cursor": sp.empty_cursor()}, dev.token).status_code == 200


def test_the_counts_live_in_the_database_and_are_forgotten_after_their_window(county):
    """Issue 18: every worker sees the same counts (they are rows, not a process's memory);
    a refused use is not counted; the worker's housekeeping drops logs past their window."""
    from county.app import _chores

    county.service_point("SP01", "东乡卫生院")
    dev = county.device("SP01")
    _limits(county, device_requests=3)
    for _ in range(5):
        county.post(sp.EP_PULL, {"cursor": sp.empty_cursor()}, dev.token)
    row = county.sql("SELECT hits FROM rate_limit WHERE kind = 'device'")[0]
    assert len(row["hits"]) == 3  # the two refused uses were not counted
    county.clock.offset += 61
    with county.conn() as c:
        _chores(c, county.clock)
        c.commit()
    assert county.sql("SELECT kind FROM rate_limit WHERE kind = 'device'") == []
