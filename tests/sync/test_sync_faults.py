"""Faults, randomized (seed printed; set SYNC_FAULT_SEED to replay): a TCP proxy cuts the
connection at a random byte of a request or a response; the desktop process is killed
with SIGKILL mid-sync; the county server is killed and restarted mid-batch. Afterwards
every operation was applied exactly once and both sides hold the same rows."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sync_checks import World, check_converged, quick, settle, sync_in_background
from sync_proxy import CutProxy

from desktop.sync.errors import SyncError
from desktop.sync.transport import RetryPolicy

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
CUT_RUNS = int(os.environ.get("SYNC_FAULT_CUTS", "500"))
KILL_RUNS = int(os.environ.get("SYNC_FAULT_KILLS", "12"))
RESTART_RUNS = int(os.environ.get("SYNC_FAULT_RESTARTS", "6"))


def test_cut_connections_at_random_bytes(desks, county_server, seed):
    rng = random.Random(seed)
    proxy = CutProxy(county_server.port)
    a = desks("SP01", "东乡卫生院", proxy.url)
    b = desks("SP02", "西乡卫生院", proxy.url)
    world = World(rng)
    failed = 0
    for _ in range(CUT_RUNS):
        desk, other = rng.choice([(a, b), (b, a)])
        world.work(desk, other)
        proxy.arm(rng.choice(["request", "response"]), rng.randrange(0, 2200))
        try:
            desk.sync(retry=quick(rng.choice([1, 3])))
        except SyncError:
            failed += 1
        proxy.disarm()
    print(f"cuts={proxy.cuts} failed_syncs={failed} connections={proxy.connections}")
    assert proxy.cuts >= CUT_RUNS // 3  # most runs really were cut somewhere
    settle(a, b)
    check_converged(county_server, [a, b])
    proxy.close()


def test_desktop_killed_mid_sync_and_server_restarted_mid_batch(
    desks, county_server, seed, mem_keyring
):
    rng = random.Random(seed)
    proxy = CutProxy(county_server.port)
    a = desks("SP01", "东乡卫生院", proxy.url)
    b = desks("SP02", "西乡卫生院", proxy.url)
    world = World(rng)
    cred = mem_keyring.get_password("township-desk", f"device:{a.device_id}")
    env = {**os.environ, "SYNC_DEVICE_ID": a.device_id, "SYNC_CREDENTIAL": cred}
    killed = 0
    for _ in range(KILL_RUNS):
        for _ in range(rng.randint(10, 40)):
            world.work(a, b)
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("sync_child.py")), str(a.data_dir)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        # wait until the child's sync has begun (its sync_run row), then kill at a random moment
        last = a.store.query_one("SELECT COALESCE(MAX(id), 0) AS n FROM sync_run")["n"]
        deadline = time.monotonic() + 20
        while child.poll() is None and time.monotonic() < deadline:
            if a.store.query_one("SELECT 1 AS x FROM sync_run WHERE id > ?", (last,)):
                break
            time.sleep(0.005)
        time.sleep(rng.uniform(0.0, 0.15))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            killed += 1
        child.wait(10)
        if rng.random() < 0.5:
            a.sync(retry=quick(3))  # the next sync picks up where the killed one stopped
    print(f"desktop kills landing before the end: {killed}/{KILL_RUNS}")
    assert killed >= 1

    restarted_mid_sync = 0
    for i in range(RESTART_RUNS):
        desk, other = (a, b) if i % 2 == 0 else (b, a)
        for _ in range(rng.randint(60, 150)):
            world.work(desk, other)
        t, _ = sync_in_background(
            desk, rng, RetryPolicy(attempts=12, base_delay=0.1, max_delay=0.5)
        )
        time.sleep(rng.uniform(0.0, 0.25))
        if t.is_alive():
            restarted_mid_sync += 1
        county_server.kill()
        proxy.drop_all()
        county_server.start()
        t.join(60)
        assert not t.is_alive()
    print(f"server restarts while a sync ran: {restarted_mid_sync}/{RESTART_RUNS}")
    settle(a, b)
    check_converged(county_server, [a, b])
    proxy.close()
