"""County-server fixtures on a REAL PostgreSQL started by the test setup itself
(county.testing: Debian's PostgreSQL 15 as the postgres user, private port and socket).
Each test gets its own database cloned from a migrated template.

Reusable elsewhere (e.g. tests/sync): copy the fixtures below or import the helpers from
``county.testing``."""

from __future__ import annotations

import re
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from core import syncproto as sp
from county import admin
from county.app import create_app
from county.settings import Settings
from county.testing import drop_database, fresh_database, shared_cluster

SIGNING_KEY = "test-signing-key-0123456789abcdef0123456789"
ADMIN_KEY = "test-admin-key-0123456789"


@pytest.fixture(scope="session")
def pg_cluster():
    return shared_cluster()


@pytest.fixture
def county_dsn(pg_cluster):
    url = fresh_database(pg_cluster)
    yield url
    drop_database(pg_cluster, url)


class Clock:
    def __init__(self):
        import time

        self.offset = 0.0
        self._time = time.time

    def __call__(self) -> float:
        return self._time() + self.offset


def make_op(
    op_type: str,
    entity_id: str,
    payload: dict,
    *,
    seq: int = 1,
    base_version: int | None = None,
    op_id: str | None = None,
) -> dict:
    payload = {**payload}
    if op_type.endswith((".create", ".record")):
        payload.setdefault("id", entity_id)
    return {
        "op_id": op_id or str(uuid.uuid4()),
        "device_seq": seq,
        "op_type": op_type,
        "entity_id": entity_id,
        "base_version": base_version,
        "payload": payload,
        "payload_sha256": sp.payload_sha256(payload),
    }


class County:
    """A county server in-process (TestClient) plus admin helpers on its database."""

    def __init__(self, client: TestClient, dsn: str, clock: Clock):
        self.client, self.dsn, self.clock = client, dsn, clock
        self.H = {sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION)}

    def conn(self) -> psycopg.Connection:
        return psycopg.connect(self.dsn, row_factory=dict_row)

    def sql(self, query: str, params=()) -> list[dict]:
        with self.conn() as c:
            return c.execute(query, params).fetchall()

    def service_point(self, code: str, name: str, region: str = "140121") -> dict:
        with self.conn() as c, c.transaction():
            return admin.create_service_point(c, code, name, region)

    def many_points(
        self,
        count: int,
        *,
        second_county_from: int | None = None,
        code: str = "P",
        name: str = "第{n}卫生院",
    ) -> None:
        """A province's many service points, written straight in: ``{code}0001`` … named
        ``name`` (``{n}`` the number, ``{county}`` 甲县 or 乙县), in 140121 — and from
        number ``second_county_from`` on in 140122."""
        rows = []
        for n in range(1, count + 1):
            second = second_county_from is not None and n >= second_county_from
            county = "乙县" if second else "甲县"
            rows.append(
                (f"{code.lower()}{n}", f"{code}{n:04d}", name.format(n=n, county=county),
                 "140122" if second else "140121")
            )  # fmt: skip
        with self.conn() as c, c.transaction(), c.cursor() as cur:
            cur.executemany(
                "INSERT INTO service_point(id, code, name, region_code) VALUES (%s, %s, %s, %s)",
                rows,
            )

    def code(self, sp_code: str, hours: int = 72) -> str:
        with self.conn() as c, c.transaction():
            return admin.issue_device_code(c, sp_code, hours)["code"]

    def post(self, path: str, body, token: str | None = None, **kw):
        headers = {**self.H, **kw.pop("headers", {})}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.post(path, json=body, headers=headers, **kw)

    def register(self, sp_code: str) -> dict:
        r = self.post(sp.EP_REGISTER, {"code": self.code(sp_code), "device_name": "测试机"})
        assert r.status_code == 200, r.text
        return r.json()

    def device(self, sp_code: str, operator: str = "op1") -> Device:
        reg = self.register(sp_code)
        return Device(self, reg)

    def token(self, credential: str, operator: str = "op1"):
        return self.post(sp.EP_TOKEN, {"credential": credential, "operator_id": operator})

    def console_login(self, username: str, password: str, then: str = "/console/reports"):
        """Log in to the console through its form (a fresh session), open ``then``; returns
        that page and its CSRF token (None where the page has no form)."""
        self.client.cookies.clear()
        form = self.client.get("/console/login")
        token = re.search(r'name="login_token" value="([^"]+)"', form.text).group(1)
        self.client.post(
            "/console/login",
            data={"username": username, "password": password, "login_token": token},
        )
        page = self.client.get(then)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
        return page, csrf.group(1) if csrf else None


class Device:
    """One registered desktop talking to the county."""

    def __init__(self, county: County, reg: dict):
        self.county, self.reg = county, reg
        self.sp_id = reg["service_point"]["id"]
        self.seq = 0
        self.refresh()

    def refresh(self) -> None:
        r = self.county.token(self.reg["credential"])
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]

    def op(self, op_type: str, entity_id: str, payload: dict, **kw) -> dict:
        self.seq += 1
        return make_op(op_type, entity_id, payload, seq=self.seq, **kw)

    def push(self, ops: list[dict], batch_id: str | None = None):
        body = {"batch_id": batch_id or str(uuid.uuid4()), "ops": ops}
        return self.county.post(sp.EP_PUSH, body, self.token)

    def push_ok(self, ops: list[dict]) -> list[dict]:
        r = self.push(ops)
        assert r.status_code == 200, r.text
        return r.json()["results"]

    def pull(self, cursor: dict | None = None, limit: int = 500):
        r = self.county.post(
            sp.EP_PULL, {"cursor": cursor or sp.empty_cursor(), "limit": limit}, self.token
        )
        assert r.status_code == 200, r.text
        return r.json()

    def pull_all(self, cursor: dict | None = None, limit: int = 500) -> tuple[list[dict], dict]:
        cursor = cursor or sp.empty_cursor()
        out = []
        while True:
            page = self.pull(cursor, limit)
            out += page["changes"]
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return out, cursor


@pytest.fixture
def county(county_dsn):
    clock = Clock()
    settings = Settings(
        database_url=county_dsn,
        signing_key=SIGNING_KEY,
        admin_key=ADMIN_KEY,
        pool_min=1,
        pool_max=6,
    )
    app = create_app(settings, clock=clock)
    with TestClient(app) as client:
        yield County(client, county_dsn, clock)


@pytest.fixture
def two_points(county):
    """Two service points (SP01 东乡, SP02 西乡) with one registered device each."""
    county.service_point("SP01", "东乡卫生院")
    county.service_point("SP02", "西乡卫生院")
    return county.device("SP01"), county.device("SP02")


# Valid test identities (real region code 140121, correct check characters).
def _make_id(birth: str = "19800101", seq: int = 1) -> str:
    from stdnum.cn import ric

    body = f"140121{birth}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def _person_payload(cert_no: str, name: str = "张三", **kw) -> dict:
    from core.ids import check_id

    chk = check_id(cert_no)
    return {
        "name": name,
        "cert_type": "resident_id",
        "cert_no": cert_no,
        "sex": chk.sex,
        "birth_date": chk.birth_date.isoformat(),
        "relation": "head",
        "insured_category": "ordinary",
        "subsidy_category": "none",
        "region_code": "140121",
        "status": 1,
        "version": 1,
        "origin": "local",
        **kw,
    }


@pytest.fixture
def make_id():
    return _make_id


@pytest.fixture
def person_payload():
    return _person_payload


@pytest.fixture
def county_and_replica():
    """A county on its own cluster whose console reports read from a streaming replica
    (issue 18): yields (County, replica, database name)."""
    from county.testing import fresh_database, start_cluster, start_replica

    cluster = start_cluster()
    db = fresh_database(cluster)
    dbname = db.split("?", 1)[0].rsplit("/", 1)[1]
    replica = start_replica(cluster)
    settings = Settings(
        database_url=db, signing_key=SIGNING_KEY, database_read_url=replica.url(dbname)
    )
    try:
        with TestClient(create_app(settings)) as client:
            yield County(client, db, Clock()), replica, dbname
    finally:
        replica.stop()
        cluster.stop()
