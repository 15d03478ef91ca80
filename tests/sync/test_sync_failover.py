"""Issue 18: the county's PostgreSQL fails over while desks sync. Two Patroni nodes (a
primary and a synchronous streaming replica, etcd as their store). The county server
reaches the primary one of two ways a province deploys it: its pool lists both nodes with
``target_session_attrs=read-write`` (``libpq``), or it goes through PgBouncer (transaction
pooling) to HAProxy, which asks each node's Patroni which is primary — with the shipped
deploy/county/haproxy.cfg (``pgbouncer-haproxy``). While two desks sync through the
fault proxy (cutting connections at random bytes now and then), the primary is killed
(SIGKILL of Patroni and PostgreSQL: a power cut) and Patroni promotes the replica. The
desks go on syncing as their timer does and no person acts; afterwards every operation is
on the county exactly once and both sides hold the same rows (checksums). The time without
service is printed."""

from __future__ import annotations

import random
import threading
import time

import psycopg
import pytest
import sync_patroni
from sync_checks import World, check_converged, quick, settle
from sync_proxy import CutProxy

from county.db import migrate
from county.testing import PgBouncer
from desktop.sync.errors import SyncError

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.skipif(not sync_patroni.available(), reason="needs patroni and etcd-server"),
]


@pytest.fixture
def ha():
    cluster = sync_patroni.PatroniCluster()
    yield cluster
    cluster.close()


def _county(ha, county_on, route: str, closing: list):
    if route == "libpq":
        return county_on(ha.url("township"))
    if not sync_patroni.haproxy_available():
        pytest.skip("needs haproxy and pgbouncer")
    bouncer = PgBouncer(ha, upstream=f"host=127.0.0.1 port={ha.haproxy()}")
    closing.append(bouncer)
    return county_on(
        bouncer.url(ha.url("township")),
        env={
            "TOWNSHIP_COUNTY_DATABASE_POOLED": "true",
            "TOWNSHIP_COUNTY_DATABASE_DIRECT_URL": ha.url("township"),
        },
    )


@pytest.mark.parametrize("route", ["libpq", "pgbouncer-haproxy"])
def test_primary_killed_and_replica_promoted_while_desks_sync(ha, county_on, desks_on, seed, route):
    rng = random.Random(seed)
    with psycopg.connect(ha.url(), autocommit=True) as c:
        c.execute("CREATE DATABASE township")
    with psycopg.connect(ha.url("township")) as c:
        migrate(c)
    closing: list = []
    county = _county(ha, county_on, route, closing)
    try:
        _fail_over(ha, county, desks_on, rng, route)
    finally:
        for c in closing:
            c.close()


def _fail_over(ha, county, desks_on, rng, route: str) -> None:
    county.service_point("SP01", "东乡卫生院")
    county.service_point("SP02", "西乡卫生院")
    proxy = CutProxy(county.port)
    a = desks_on(county, "SP01", "东乡卫生院", proxy.url)
    b = desks_on(county, "SP02", "西乡卫生院", proxy.url)
    world = World(rng)
    lock = threading.Lock()
    ok_at: list[float] = []  # when a sync ended well
    stop = threading.Event()

    def desk_timer(desk, other) -> None:
        """A desk's background sync: work, sync, and on failure simply the next round."""
        while not stop.is_set():
            with lock:
                for _ in range(rng.randint(1, 8)):
                    world.work(desk, other)
                if rng.random() < 0.2:
                    proxy.arm(rng.choice(["request", "response"]), rng.randrange(0, 2200))
            try:
                desk.sync(retry=quick(2))
                ok_at.append(time.monotonic())
            except SyncError:
                pass
            proxy.disarm()
            time.sleep(rng.uniform(0.05, 0.3))

    # World and the proxy's arming are shared: one desk works at a time
    threads = [
        threading.Thread(target=desk_timer, args=(a, b)),
        threading.Thread(target=desk_timer, args=(b, a)),
    ]
    for t in threads:
        t.start()
    time.sleep(rng.uniform(3, 6))
    old = ha.kill_primary()
    killed_at = time.monotonic()
    new = ha.wait_primary(60, not_=old)
    promoted_at = time.monotonic()
    while not [t for t in ok_at if t > promoted_at] and time.monotonic() < promoted_at + 60:
        time.sleep(0.1)
    served_at = min([t for t in ok_at if t > killed_at] or [float("inf")])
    time.sleep(3)  # and a little more syncing on the new primary
    stop.set()
    for t in threads:
        t.join(60)
    print(
        f"{route}: primary {old} killed; {new} promoted after {promoted_at - killed_at:.1f} s; "
        f"the first sync after the kill ended well {served_at - killed_at:.1f} s after it"
    )
    assert served_at != float("inf"), "no desk synced after the failover"
    proxy.disarm()
    settle(a, b)
    check_converged(county, [a, b])
    proxy.close()
