"""Security and robustness: every refusal is a 4xx with a clear Chinese message, nothing
is written, and fuzzing the OpenAPI spec finds no 5xx."""

from __future__ import annotations

import gzip
import json
import os
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from core import syncproto as sp

DATA_TABLES = ("person", "household", "enrollment", "payment", "applied_op", "change_log")


def _counts(county) -> dict:
    return {t: county.sql(f"SELECT count(*) AS n FROM {t}")[0]["n"] for t in DATA_TABLES}


def _assert_refused(r, status: int, code: str | None = None):
    assert r.status_code == status, r.text
    body = r.json()
    assert body["message"] and any("\u4e00" <= ch <= "\u9fff" for ch in body["message"])
    if code:
        assert body["code"] == code


def test_missing_wrong_expired_token(two_points, county, make_id, person_payload):
    a, _ = two_points
    before = _counts(county)
    op = a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=61)))
    body = {"batch_id": "b1", "ops": [op]}
    _assert_refused(county.post(sp.EP_PUSH, body), 401, sp.ERR_UNAUTHORIZED)
    _assert_refused(county.post(sp.EP_PUSH, body, a.token[:-4] + "AAAA"), 401, sp.ERR_UNAUTHORIZED)
    _assert_refused(county.post(sp.EP_PUSH, body, "garbage"), 401, sp.ERR_UNAUTHORIZED)
    county.clock.offset = sp.TOKEN_TTL_SECONDS + 1
    _assert_refused(county.post(sp.EP_PUSH, body, a.token), 401, sp.ERR_TOKEN_EXPIRED)
    assert _counts(county) == before
    kinds = [r["kind"] for r in county.sql("SELECT kind FROM security_event ORDER BY id")]
    assert kinds == ["token_missing", "token_invalid", "token_invalid", "token_expired"]


def test_revoked_device_refused(two_points, county):
    a, _ = two_points
    county.sql(
        "UPDATE device SET revoked_at = now() WHERE id = %s RETURNING 1", (a.reg["device_id"],)
    )
    r = county.post(sp.EP_PULL, {"cursor": sp.empty_cursor()}, a.token)
    _assert_refused(r, 401, sp.ERR_CREDENTIAL)
    _assert_refused(county.token(a.reg["credential"]), 401, sp.ERR_CREDENTIAL)


def test_other_service_point_scope_refused_and_logged(two_points, county, make_id, person_payload):
    a, b = two_points
    pid, hid, eid = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    a.push_ok(
        [
            a.op("household.create", hid, {"address": "东村"}),
            a.op("person.create", pid, person_payload(make_id(seq=71), household_id=hid)),
            a.op("enrollment.create", eid, {"person_id": pid, "year": 2025}),
        ]
    )
    before = _counts(county)
    res = b.push_ok(
        [
            b.op("person.update", pid, {"changes": {"phone": "1"}, "before": {}}),
            b.op("household.update", hid, {"address": "西村"}),
            b.op("enrollment.create", str(uuid.uuid4()), {"person_id": pid, "year": 2025}),
            b.op("payment.record", str(uuid.uuid4()), {"enrollment_id": eid, "amount": "400.00"}),
            b.op("person.create", pid, person_payload(make_id(seq=72))),
        ]
    )
    assert [r["code"] for r in res] == [sp.R_SCOPE] * 5
    assert all("其他服务点" in r["message"] for r in res)
    after = _counts(county)
    assert {k: after[k] - before[k] for k in after} == {
        "person": 0,
        "household": 0,
        "enrollment": 0,
        "payment": 0,
        "applied_op": 5,
        "change_log": 0,
    }
    logged = county.sql("SELECT kind, device_id FROM security_event WHERE kind = 'forbidden_scope'")
    assert len(logged) == 5 and {r["device_id"] for r in logged} == {b.reg["device_id"]}
    # naming another stream in a pull is refused and logged
    r = county.post(sp.EP_PULL, {"cursor": {f"sp:{a.sp_id}": 0}}, b.token)
    _assert_refused(r, 403, sp.ERR_FORBIDDEN)
    # a device token is not an admin key
    r = county.client.get(
        "/api/v1/admin/conflicts", headers={**county.H, "Authorization": f"Bearer {b.token}"}
    )
    _assert_refused(r, 403, sp.ERR_FORBIDDEN)
    assert (
        county.sql(
            "SELECT count(*) AS n FROM security_event WHERE kind IN"
            " ('forbidden_stream', 'admin_forbidden')"
        )[0]["n"]
        == 2
    )


def test_oversized_and_malformed(two_points, county, make_id, person_payload):
    a, _ = two_points
    before = _counts(county)
    ops = [
        a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=80)))
        for _ in range(sp.MAX_BATCH_OPS + 1)
    ]
    _assert_refused(a.push(ops), 413, sp.ERR_TOO_LARGE)
    huge = b"{" + b" " * (sp.MAX_BODY_BYTES + 10) + b"}"
    r = county.client.post(
        sp.EP_PUSH,
        content=huge,
        headers={
            **county.H,
            "Authorization": f"Bearer {a.token}",
            "Content-Type": "application/json",
        },
    )
    _assert_refused(r, 413, sp.ERR_TOO_LARGE)
    bomb = gzip.compress(b"[" + b"0," * (sp.MAX_BODY_BYTES // 2 + 10) + b"0]")
    r = county.client.post(
        sp.EP_PUSH,
        content=bomb,
        headers={
            **county.H,
            "Authorization": f"Bearer {a.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    _assert_refused(r, 413, sp.ERR_TOO_LARGE)
    r = county.client.post(
        sp.EP_PUSH,
        content=b"\x1f\x8bnot gzip",
        headers={**county.H, "Authorization": f"Bearer {a.token}", "Content-Encoding": "gzip"},
    )
    _assert_refused(r, 400, sp.ERR_INVALID)
    r = county.client.post(
        sp.EP_PUSH,
        content=b"{not json",
        headers={
            **county.H,
            "Authorization": f"Bearer {a.token}",
            "Content-Type": "application/json",
        },
    )
    _assert_refused(r, 422, sp.ERR_INVALID)
    r = county.post(sp.EP_PUSH, {"batch_id": "x", "ops": [{"op_id": "1"}]}, a.token)
    _assert_refused(r, 422, sp.ERR_INVALID)
    big = a.op(
        "person.create",
        str(uuid.uuid4()),
        person_payload(make_id(seq=81), note="x" * (sp.MAX_PAYLOAD_BYTES + 1)),
    )
    assert a.push_ok([big])[0]["code"] == sp.R_TOO_LARGE
    nul = a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=82), name="张\x00三"))
    assert a.push_ok([nul])[0]["status"] == sp.ST_REJECTED
    # protocol header
    r = county.client.post(sp.EP_PULL, json={}, headers={"Authorization": f"Bearer {a.token}"})
    _assert_refused(r, 400, sp.ERR_PROTOCOL)
    r = county.client.post(sp.EP_PULL, json={}, headers={sp.PROTOCOL_HEADER: "0"})
    _assert_refused(r, 426, sp.ERR_PROTOCOL)
    after = _counts(county)
    assert {k: after[k] - before[k] for k in after if k != "applied_op"} == {
        "person": 0,
        "household": 0,
        "enrollment": 0,
        "payment": 0,
        "change_log": 0,
    }


def test_gzip_request_and_response(two_points, county, make_id, person_payload):
    a, _ = two_points
    ops = [
        a.op("person.create", str(uuid.uuid4()), person_payload(make_id(seq=90 + i)))
        for i in range(5)
    ]
    raw = json.dumps({"batch_id": "gz", "ops": ops}).encode()
    r = county.client.post(
        sp.EP_PUSH,
        content=gzip.compress(raw),
        headers={
            **county.H,
            "Authorization": f"Bearer {a.token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
            "Accept-Encoding": "gzip",
        },
    )
    assert r.status_code == 200 and r.headers["content-encoding"] == "gzip"
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * 5
    assert r.headers[sp.PROTOCOL_HEADER] == str(sp.PROTOCOL_VERSION)


def test_health_and_openapi(county):
    r = county.client.get("/health")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    spec = county.client.get("/openapi.json").json()
    assert {sp.EP_PUSH, sp.EP_PULL, sp.EP_SNAPSHOT, sp.EP_REGISTER, sp.EP_TOKEN} <= set(
        spec["paths"]
    )


def test_fuzz_openapi_no_5xx(two_points, county):
    """Schemathesis generates valid and invalid requests from the published spec (with a
    valid protocol header and token, so bodies reach the handlers); none may give a 5xx.
    COUNTY_FUZZ_EXAMPLES raises the examples per operation and mode (checked with 300)."""
    import schemathesis

    a, _ = two_points
    spec = county.client.get("/openapi.json").json()
    schema = schemathesis.openapi.from_dict(spec)
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 7
    seen: list[int] = []
    from schemathesis.generation import GenerationMode

    n = int(os.environ.get("COUNTY_FUZZ_EXAMPLES", "25"))
    for op, mode in [(o, m) for o in ops for m in GenerationMode]:
        token = "test-admin-key-0123456789" if op.path.startswith("/api/v1/admin") else a.token

        @settings(
            max_examples=n, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=op.as_strategy(generation_mode=mode))
        def run(case):
            headers = {**(case.headers or {}), **county.H, "Authorization": f"Bearer {token}"}  # noqa: B023
            kwargs = {"headers": headers, "params": case.query or None}
            if isinstance(case.body, (bytes, str)):
                kwargs["content"] = case.body
                headers["Content-Type"] = case.media_type or "application/json"
            elif type(case.body).__name__ != "NotSet":
                kwargs["json"] = case.body
            r = county.client.request(case.method, case.formatted_path, **kwargs)
            seen.append(r.status_code)
            assert r.status_code < 500, (case.method, case.formatted_path, case.body, r.text)
            if r.status_code >= 400:
                assert r.json()["message"]

        try:
            run()
        except Unsatisfiable:
            # no invalid request exists for this operation (e.g. GET /health)
            assert mode is GenerationMode.NEGATIVE
    assert len(seen) >= 200
    assert any(s == 200 for s in seen) and any(400 <= s < 500 for s in seen)


@pytest.mark.parametrize(
    "body", [[], "x", {"cursor": {"county": -1}}, {"limit": 10**9}, {"cursor": {"county": "a"}}]
)
def test_pull_malformed(two_points, county, body):
    a, _ = two_points
    r = county.post(sp.EP_PULL, body, a.token)
    assert r.status_code == 422 and r.json()["code"] == sp.ERR_INVALID


def test_routes_declare_response_models_from_the_protocol(county):
    """Every route answers with a declared model (the update files: a declared file); the sync and device routes use the wire
    contract's own dataclasses, so a field added to a message shows in the county's schema."""
    import dataclasses

    spec = county.client.get("/openapi.json").json()
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            content = op["responses"].get("200", {}).get("content", {})
            ok = content.get("application/json") or content.get("application/octet-stream", {})
            assert ok.get("schema"), f"{method.upper()} {path}: no response model (or file)"
    schemas = spec["components"]["schemas"]
    for message in (
        sp.PushResponse,
        sp.OpResult,
        sp.PullResponse,
        sp.Change,
        sp.SnapshotResponse,
        sp.RegisterResponse,
        sp.TokenResponse,
        sp.HealthResponse,
    ):
        fields = {f.name for f in dataclasses.fields(message)}
        assert set(schemas[message.__name__]["properties"]) == fields, message.__name__
