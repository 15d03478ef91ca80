"""Sync over TLS with a CA made here (trustme), the county server under uvicorn serving its
own certificate on a real PostgreSQL: the desk that holds the county's CA syncs; a
certificate from another CA, an expired one and plain HTTP are refused with words the clerk
understands and nothing sent; a per-device rate limit answers 429 and the desk waits."""

from __future__ import annotations

import datetime as dt
import hashlib
import time

import pytest
import trustme
from conftest import CountyServer, Desk

from core import syncproto as sp
from core.errors import ValidationError
from desktop.services import registration
from desktop.services import sync as svc
from desktop.sync import errors

pytestmark = pytest.mark.postgres


class Pki:
    """A county CA, a server certificate it signed, and what the tests write to files."""

    def __init__(self, folder, *, not_after: dt.datetime | None = None, name="ca"):
        self.ca = trustme.CA(organization_name=f"县医保局测试证书 {name}")
        kw = {"not_after": not_after} if not_after else {}
        if not_after:
            kw["not_before"] = not_after - dt.timedelta(days=30)
        self.leaf = self.ca.issue_cert("localhost", "127.0.0.1", **kw)
        self.ca_file = folder / f"{name}.pem"
        self.cert_file = folder / f"{name}-server.pem"
        self.key_file = folder / f"{name}-server.key"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        with open(self.cert_file, "wb") as f:
            for blob in self.leaf.cert_chain_pems:
                f.write(blob.bytes())
        self.leaf.private_key_pem.write_to_path(str(self.key_file))
        self.ca_pem = self.ca_file.read_text()

    def tls(self) -> tuple[str, str, str]:
        return (str(self.cert_file), str(self.key_file), str(self.ca_file))


@pytest.fixture
def county_db(sync_pg):
    from county.testing import drop_database, fresh_database

    dsn = fresh_database(sync_pg)
    yield dsn
    drop_database(sync_pg, dsn)


@pytest.fixture
def servers():
    started: list[CountyServer] = []

    def start(dsn, **kw) -> CountyServer:
        s = CountyServer(dsn, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.kill()


def _household(desk) -> None:
    from desktop.services.demo import make_id

    registration.create_household(
        desk.store,
        desk.actor,
        {"village_id": desk.village(), "address": "一组"},
        [
            {
                "name": "张三",
                "cert_no": make_id("140121", "1970-01-01", 1, "male"),
                "relation": "head",
                "phone": "13800000000",
            }
        ],
    )


def _pending(desk) -> int:
    return desk.store.query_one("SELECT count(*) AS n FROM outbox WHERE status = 'pending'")["n"]


def test_sync_works_over_tls_with_the_county_ca(
    county_db, servers, fast_dir, tmp_path, mem_keyring
):
    pki = Pki(tmp_path)
    county = servers(county_db, tls=pki.tls())
    county.service_point("SP01", "东乡卫生院")
    desk = Desk(fast_dir, county, "SP01", "东乡卫生院", ca_pem=pki.ca_pem)
    try:
        assert county.url.startswith("https://")
        _household(desk)
        summary = desk.sync()
        assert summary.pushed >= 2 and _pending(desk) == 0
        held = county.sql("SELECT data->>'name' AS name FROM person")
        assert [r["name"] for r in held] == ["张三"]
    finally:
        desk.close()


def test_a_certificate_of_another_ca_is_refused_and_nothing_is_sent(
    county_db, servers, fast_dir, tmp_path, mem_keyring
):
    ours, strangers = Pki(tmp_path, name="county"), Pki(tmp_path, name="stranger")
    county = servers(county_db, tls=ours.tls())
    county.service_point("SP01", "东乡卫生院")
    desk = Desk(fast_dir, county, "SP01", "东乡卫生院", ca_pem=ours.ca_pem)
    try:
        _household(desk)
        # someone puts a server with another certificate at the county's address
        county.kill()
        county.tls = strangers.tls()
        county.start()
        with pytest.raises(errors.CertificateRejected) as e:
            desk.sync()
        assert e.value.code == "E-SYNC-TLS" and "冒充" in e.value.message
        assert "数据仍保存在本机" in e.value.message
        assert _pending(desk) >= 2 and county.sql("SELECT count(*) AS n FROM person")[0]["n"] == 0
        # registering with the county's CA against the stranger: refused, code not spent
        code = county.code("SP01")
        with pytest.raises(errors.CertificateRejected):
            svc.register_device(
                desk.store, desk.data_dir, county.url, code, actor=desk.actor, ca_pem=ours.ca_pem
            )
        digest = hashlib.sha256(code.encode()).hexdigest()
        assert county.sql(
            "SELECT used_at FROM registration_code WHERE code_sha256 = %s", (digest,)
        ) == [{"used_at": None}]
    finally:
        desk.close()


def test_an_expired_certificate_is_refused_with_its_own_message(
    county_db, servers, fast_dir, tmp_path, mem_keyring
):
    good = Pki(tmp_path, name="county")
    county = servers(county_db, tls=good.tls())
    county.service_point("SP01", "东乡卫生院")
    desk = Desk(fast_dir, county, "SP01", "东乡卫生院", ca_pem=good.ca_pem)
    try:
        _household(desk)
        expired = good.ca.issue_cert(
            "localhost",
            not_before=dt.datetime(2020, 1, 1),
            not_after=dt.datetime(2021, 1, 1),
        )
        with open(good.cert_file, "wb") as f:
            for blob in expired.cert_chain_pems:
                f.write(blob.bytes())
        expired.private_key_pem.write_to_path(str(good.key_file))
        county.kill()
        county.proc = None
        county.start(healthy=False)  # the health check itself would refuse the certificate
        with pytest.raises(errors.CertificateExpired) as e:
            desk.sync()
        assert "证书已过期" in e.value.message and _pending(desk) >= 2
    finally:
        desk.close()


def test_plain_http_is_refused_except_to_this_pc(county_db, servers, fast_dir, mem_keyring):
    county = servers(county_db)
    county.service_point("SP01", "东乡卫生院")
    desk = Desk(fast_dir, county, "SP01", "东乡卫生院")  # http://127.0.0.1: allowed (tests)
    try:
        for url in ("http://ybj.example.gov.cn:8780", "http://10.1.2.3", "ftp://x"):
            with pytest.raises(ValidationError) as e:  # said beside the box, nothing sent
                svc.register_device(
                    desk.store, desk.data_dir, url, "ABCD-EFGH-JKMN", actor=desk.actor
                )
            assert list(e.value.errors) == ["server"] and "https://" in e.value.errors["server"]
        # past the desk's own check, the engine refuses it too
        engine = svc.engine_for(desk.store, desk.data_dir, desk.actor)
        try:
            with pytest.raises(errors.InsecureServer):
                engine.register("http://10.1.2.3", "ABCD-EFGH-JKMN")
        finally:
            engine.close()
        # a desk that holds the county's CA talking to a server without TLS: refused, not
        # "offline" (which would be retried and blamed on the network)
        pki = Pki(fast_dir)
        plain = f"https://localhost:{county.port}"
        with pytest.raises(errors.CertificateRejected):
            svc.register_device(
                desk.store,
                desk.data_dir,
                plain,
                county.code("SP01"),
                actor=desk.actor,
                ca_pem=pki.ca_pem,
            )
    finally:
        desk.close()


def test_a_bad_ca_file_is_said_before_the_code_is_spent(
    county_db, servers, fast_dir, tmp_path, mem_keyring
):
    county = servers(county_db)
    county.service_point("SP01", "东乡卫生院")
    desk = Desk(fast_dir, county, "SP01", "东乡卫生院")
    try:
        bad = tmp_path / "not-a-cert.pem"
        bad.write_text("hello")
        with pytest.raises(errors.BadCaFile):
            svc.read_ca(bad)
        with pytest.raises(errors.BadCaFile):
            svc.register_device(
                desk.store,
                desk.data_dir,
                county.url,
                "ABCD-EFGH-JKMN",
                actor=desk.actor,
                ca_pem="hello",
            )
    finally:
        desk.close()


def test_the_per_device_limit_answers_429_and_the_desk_waits(
    county_db, servers, fast_dir, mem_keyring
):
    county = servers(county_db, env={"SYNC_DEVICE_REQUESTS": "2", "SYNC_DEVICE_WINDOW": "2"})
    county.service_point("SP01", "东乡卫生院")
    desk = Desk(fast_dir, county, "SP01", "东乡卫生院")
    try:
        _household(desk)
        from desktop.sync.transport import RetryPolicy

        started = time.monotonic()
        summary = desk.sync(retry=RetryPolicy(attempts=8, base_delay=0.01, max_delay=0.05))
        took = time.monotonic() - started
        assert _pending(desk) == 0 and summary.pushed >= 2
        assert took >= 1.0, took  # it waited for Retry-After instead of hammering
        kinds = [r["kind"] for r in county.sql("SELECT kind FROM security_event")]
        assert "rate_limited" in kinds
        assert sp.ERR_RATE_LIMITED == "rate_limited"
    finally:
        desk.close()
