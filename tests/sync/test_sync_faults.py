"""Faults, randomized (seed printed; set SYNC_FAULT_SEED to replay): a TCP proxy cuts the
connection at a random byte of a request or a response; the desktop process is killed
with SIGKILL mid-sync; the county server is killed and restarted mid-batch. Afterwards
every operation was applied exactly once and both sides hold the same rows."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sync_checks import county_checksum, diff_rows
from sync_proxy import CutProxy

from core import syncproto as sp
from desktop.services import contribution, registration
from desktop.services.demo import make_id
from desktop.store import syncstate as st
from desktop.sync.errors import SyncError
from desktop.sync.transport import RetryPolicy

pytestmark = pytest.mark.postgres
TODAY = dt.date(2025, 3, 20)
CUT_RUNS = int(os.environ.get("SYNC_FAULT_CUTS", "500"))
KILL_RUNS = int(os.environ.get("SYNC_FAULT_KILLS", "12"))
RESTART_RUNS = int(os.environ.get("SYNC_FAULT_RESTARTS", "6"))
SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"


class World:
    """Random local work at the windows."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.k = 0
        self.certs: dict[str, list[str]] = {}  # sp code → ID numbers registered there

    def new_cert(self) -> tuple[str, str, str]:
        self.k += 1
        birth = dt.date(1940, 1, 1) + dt.timedelta(days=self.k * 11 % 25000)
        sex = self.rng.choice(["male", "female"])
        return make_id("140121", birth.isoformat(), self.k % 100, sex), birth.isoformat(), sex

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choices(GIVEN, k=self.rng.choice([1, 2]))
        )

    def register(self, desk, cert=None) -> None:
        if cert is None:
            cert, birth, sex = self.new_cert()
        else:
            from core.ids import check_id

            chk = check_id(cert)
            birth, sex = chk.birth_date.isoformat(), chk.sex
        registration.create_household(
            desk.store,
            desk.actor,
            {"village_id": desk.village(self.rng.choice(["东村", "西村"])), "address": "一组"},
            [{"name": self.name(), "sex": sex, "birth_date": birth, "cert_no": cert}],
            allow_duplicate=True,
        )
        self.certs.setdefault(desk.sp_code, []).append(cert)

    def pay(self, desk) -> bool:
        row = desk.store.query_one(
            "SELECT p.id FROM person p WHERE NOT EXISTS (SELECT 1 FROM payment y"
            " WHERE y.person_id = p.id AND y.year = 2025) AND p.subsidy_category = 'none'"
            " ORDER BY random() LIMIT 1"
        )
        if row is None:
            return False
        contribution.record_payment(
            desk.store,
            desk.actor,
            {
                "person_id": row["id"],
                "year": 2025,
                "amount": "400",
                "channel": "cash",
                "paid_on": "2024-10-10",
            },
            today=TODAY,
        )
        return True

    def edit(self, desk) -> bool:
        """A later edit of a person (a new op; the sent ones stay as they were)."""
        row = desk.store.query_one("SELECT id FROM person ORDER BY random() LIMIT 1")
        if row is None:
            return False
        phone = "139" + "".join(self.rng.choices("0123456789", k=8))
        registration.update_person(desk.store, desk.actor, row["id"], {"phone": phone})
        return True

    def void(self, desk) -> bool:
        row = desk.store.query_one(
            "SELECT id FROM payment WHERE status = 'local' ORDER BY random() LIMIT 1"
        )
        if row is None:
            return False
        contribution.void_payment(
            desk.store, desk.actor, row["id"], reason="收错金额", supervisor=desk.actor
        )
        return True

    def work(self, desk, other) -> None:
        """1-3 changes: a registration, a payment, an edit, a void, now and then the same
        person at both service points (merge, then a double enrollment when both pay)."""
        for _ in range(self.rng.randint(1, 3)):
            r = self.rng.random()
            theirs = self.certs.get(other.sp_code, [])
            mine = set(self.certs.get(desk.sp_code, []))
            dup = [c for c in theirs if c not in mine]
            if r < 0.06 and dup:
                self.register(desk, self.rng.choice(dup))
            elif r < 0.14 and self.edit(desk) or r < 0.17 and self.void(desk):
                pass
            elif r < 0.55 or not self.pay(desk):
                self.register(desk)


def quick(attempts: int) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=0.005, max_delay=0.02)


def settle(*desks) -> None:
    """Clean syncs until nothing moves (notices for one point may come from another's push)."""
    for _ in range(3):
        for d in desks:
            d.sync(retry=quick(5))


def check_converged(county, desks) -> None:
    for d in desks:
        ops = d.store.query("SELECT op_id, status, result FROM outbox ORDER BY device_seq")
        assert all(o["status"] != "pending" for o in ops)
        assert not [o for o in ops if o["status"] == sp.ST_REJECTED], [
            o["result"] for o in ops if o["status"] == sp.ST_REJECTED
        ][:3]
        server = {
            r["op_id"]: r["result"]
            for r in county.sql(
                "SELECT op_id, result FROM applied_op WHERE device_id = %s", (d.device_id,)
            )
        }
        # exactly once: every op is on the county once (op_id is its key), no op extra,
        # and the desktop stored the county's answer for it
        assert set(server) == {o["op_id"] for o in ops}
        for o in ops:
            assert server[o["op_id"]]["status"] == o["status"]
        # the same payments and enrollments on both sides, each once
        local_pay = {r["id"] for r in d.store.query("SELECT id FROM payment")}
        county_pay = {
            r["id"] for r in county.sql("SELECT id FROM payment WHERE sp_id = %s", (d.sp_id,))
        }
        assert local_pay == county_pay
        local_enr = {r["id"] for r in d.store.query("SELECT id FROM enrollment")}
        county_enr = {
            r["id"] for r in county.sql("SELECT id FROM enrollment WHERE sp_id = %s", (d.sp_id,))
        }
        assert local_enr == county_enr
        # persons: every local person is a county person linked to this point, and back
        local_person = {r["id"] for r in d.store.query("SELECT id FROM person")}
        county_person = {
            r["person_id"]
            for r in county.sql("SELECT person_id FROM person_link WHERE sp_id = %s", (d.sp_id,))
        }
        assert local_person == county_person
        # both sides hold the same rows
        assert st.mirror_checksum(d.store) == county_checksum(county, d.sp_id), diff_rows(
            county, d.store, d.sp_id
        )[:3]
        # and the local tables show the county's version of every row
        stale = d.store.query(
            "SELECT s.entity, s.id FROM server_row s JOIN person p ON p.id = s.id"
            " WHERE s.entity = 'person' AND p.server_version IS NOT s.version"
        )
        assert stale == []


@pytest.fixture
def seed():
    s = int(os.environ.get("SYNC_FAULT_SEED", str(random.randrange(1 << 30))))
    print(f"SYNC_FAULT_SEED={s}")
    return s


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
        outcome: list = []

        def run(d=desk, outcome=outcome):
            try:
                outcome.append(
                    d.sync(
                        retry=RetryPolicy(attempts=12, base_delay=0.1, max_delay=0.5),
                        batch_size=rng.choice([20, 50, 200]),
                    )
                )
            except SyncError as e:
                outcome.append(e)

        t = threading.Thread(target=run)
        t.start()
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
