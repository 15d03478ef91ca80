"""Issue 18: the county server as several processes behind PgBouncer (transaction pooling):
`serve --reuse-port` instances on one port (systemd's township-county@N) or uvicorn's
`--workers`. Nothing one keeps in memory is needed by another: a caller over its rate
limit on one worker waits on every worker; requests waiting for an instance that stops are
answered by another (the shipped kernel setting); a worker killed in the middle of a batch and
PgBouncer killed and started again while desks sync lose nothing and double nothing — the
desks carry on by themselves (their retries), and afterwards every operation is on the
county exactly once and both sides hold the same rows (checksums)."""

from __future__ import annotations

import contextlib
import os
import random
import select
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from sync_checks import World, check_converged, settle, sync_in_background

from core import syncproto as sp
from county.testing import ServerProcess, listens_on, tcp_sockets
from desktop.sync.transport import RetryPolicy

pytestmark = pytest.mark.postgres
ROUNDS = int(os.environ.get("SYNC_WORKER_FAULTS", "6"))
H = {sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION)}


def test_a_limit_reached_on_one_worker_holds_on_every_worker(county_workers, tmp_path):
    settings = tmp_path / "county.toml"
    settings.write_text("device_requests = 5\nregister_tries = 3\n", encoding="utf-8")
    county = county_workers(workers=1, env={"TOWNSHIP_COUNTY_SETTINGS": str(settings)})
    # a second server process on the same database: a caller alternates between the two
    other = ServerProcess(
        county.server.database_url, county.server.signing_key, env=county.server.env
    ).start()
    try:
        servers = [county.url, other.url]
        county.service_point("SP01", "东乡卫生院")
        for i in range(3):  # wrong codes, spread over both
            r = httpx.post(
                servers[i % 2] + sp.EP_REGISTER, json={"code": "ABCD-EFGH-JKLM"}, headers=H
            )
            assert r.status_code == 400
        good = county.code("SP01")
        r = httpx.post(servers[1] + sp.EP_REGISTER, json={"code": good}, headers=H)
        assert r.status_code == 429 and "秒后再试" in r.json()["message"]

        with county.conn() as c:
            c.execute("DELETE FROM rate_limit")  # the address may register again
        r = httpx.post(servers[0] + sp.EP_REGISTER, json={"code": good}, headers=H)
        cred = r.json()["credential"]
        r = httpx.post(
            servers[1] + sp.EP_TOKEN, json={"credential": cred, "operator_id": "op"}, headers=H
        )
        auth = {**H, "Authorization": f"Bearer {r.json()['token']}"}
        codes = [
            httpx.post(
                servers[i % 2] + sp.EP_PULL, json={"cursor": sp.empty_cursor()}, headers=auth
            ).status_code
            for i in range(6)
        ]
        assert codes == [200] * 5 + [429]
    finally:
        other.stop()


def test_servers_sharing_a_port_each_take_desks_and_one_stopping_leaves_the_others(
    county_workers,
):
    """``serve --reuse-port`` (systemd: township-county@1, @2, …): each server listens on a
    socket of its own on the same port and the kernel hands each a share of the desks'
    connections; one that stops takes only its own connections with it, and once started
    again it takes new ones."""
    county = county_workers(instances=3)
    servers, port = county.servers, county.port
    pids = [s.proc.pid for s in servers]
    assert all(listens_on(pid, port) for pid in pids)

    def connect(n: int) -> list[httpx.Client]:
        clients = [httpx.Client(base_url=county.url) for _ in range(n)]
        assert all(c.get("/health").status_code == 200 for c in clients)
        return clients  # open: each connection is kept by the server that took it

    clients = connect(60)
    held = [tcp_sockets(pid, port) for pid in pids]
    assert sum(held) == 60 and min(held) >= 5, held  # all three took a share

    county.kill_worker(pids[1])  # one killed: its desks reconnect, the others serve
    for c in clients:
        c.close()
    clients = connect(40)
    assert tcp_sockets(pids[0], port) + tcp_sockets(pids[2], port) == 40
    for c in clients:
        c.close()

    county.recover()  # started again (systemd's Restart=always): it takes its share
    clients = connect(60)
    assert tcp_sockets(servers[1].proc.pid, port) >= 5
    for c in clients:
        c.close()


SYSCTL = Path(__file__).resolve().parents[2] / "deploy" / "county" / "60-township-county.conf"


@contextlib.contextmanager
def kernel_settings(path: Path):
    """The ``name = value`` lines of a sysctl.d file set in this machine's kernel (its
    network namespace) for the block, then set back."""
    settings = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = (p.strip() for p in line.split("=", 1))
            settings[Path("/proc/sys", *name.split("."))] = value
    for f in settings:
        if not f.exists() or not os.access(f, os.W_OK):
            pytest.skip(f"this machine cannot set {f} (Linux 5.14 or later, as root)")
    before = {f: f.read_text().strip() for f in settings}
    try:
        for f, value in settings.items():
            f.write_text(value)
        yield
    finally:
        for f, value in before.items():
            f.write_text(value)


def test_requests_waiting_for_an_instance_that_stops_are_served_by_the_others(county_workers):
    """An instance that stops (restarted after an upgrade, or killed) with desks' connections
    the kernel handed it but it had not yet accepted: with the shipped kernel setting
    (deploy/county/60-township-county.conf) the kernel moves them to another instance on the
    port, which answers them; without it they were reset."""
    with kernel_settings(SYSCTL):
        county = county_workers(instances=2)
        stopping = county.servers[1].proc.pid
        os.kill(stopping, signal.SIGSTOP)  # busy: accepts nothing for now
        socks = []
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", county.port), timeout=10)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: county\r\nConnection: close\r\n\r\n")
            socks.append(s)
        answered, deadline = -1, time.monotonic() + 20
        while time.monotonic() < deadline:  # the other instance answers its share meanwhile
            time.sleep(0.5)
            now = len(select.select(socks, [], [], 0)[0])
            if now and now == answered:
                break
            answered = now
        assert 3 <= 30 - answered < 30, answered  # the stopped one holds its share

        county.kill_worker(stopping)  # its listening socket closes
        answers = []
        for s in socks:
            try:
                answers.append(s.recv(64))
            except ConnectionResetError:
                answers.append(b"reset")
            finally:
                s.close()
        assert all(a.startswith(b"HTTP/1.1 200") for a in answers), answers


@pytest.mark.slow
@pytest.mark.parametrize("how", ["instances", "workers"])
def test_worker_killed_mid_batch_and_pgbouncer_restarted_lose_nothing(
    county_workers, desks_on, seed, how
):
    """``instances``: two `serve --reuse-port` servers on one port (systemd), a killed one
    started again; ``workers``: `serve --workers 2`, uvicorn's supervisor restarting."""
    rng = random.Random(seed)
    county = county_workers(**({"instances": 2} if how == "instances" else {"workers": 2}))
    county.service_point("SP01", "东乡卫生院")
    county.service_point("SP02", "西乡卫生院")
    a = desks_on(county, "SP01", "东乡卫生院")
    b = desks_on(county, "SP02", "西乡卫生院")
    world = World(rng)
    landed = {"worker": 0, "bouncer": 0}
    for i in range(ROUNDS):
        desk, other = (a, b) if i % 2 == 0 else (b, a)
        for _ in range(rng.randint(60, 150)):
            world.work(desk, other)
        t, _ = sync_in_background(
            desk, rng, RetryPolicy(attempts=15, base_delay=0.1, max_delay=1.0)
        )
        time.sleep(rng.uniform(0.0, 0.3))
        busy = t.is_alive()
        if i % 3 == 2:
            county.bouncer.restart()
            landed["bouncer"] += busy
        else:
            county.kill_one(rng)
            landed["worker"] += busy
        t.join(120)
        assert not t.is_alive()
        county.recover()
    print(f"faults landing while a sync ran: {landed} of {ROUNDS} rounds")
    assert landed["worker"] >= 1
    settle(a, b)
    check_converged(county, [a, b])
