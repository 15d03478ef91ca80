"""Sync test fixtures: an in-memory keyring (never keyrings.alt)."""

from __future__ import annotations

import sys
from pathlib import Path

import keyring
import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import sync_memkeyring  # noqa: E402


@pytest.fixture
def mem_keyring():
    old = keyring.get_keyring()
    kr = sync_memkeyring.install()
    yield kr
    keyring.set_keyring(old)


# ---------------------------------------------------------------------- real county server
import os  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import ssl  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

SIGNING_KEY = "sync-test-signing-key-0123456789abcdef0123"
# the county admin helpers run in this process too: they seal keys as the server does
os.environ["TOWNSHIP_COUNTY_SIGNING_KEY"] = SIGNING_KEY
ROOT = HERE.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CountyAdmin:
    """Admin helpers straight on the county database (``self.dsn``)."""

    def conn(self):
        import psycopg
        from psycopg.rows import dict_row

        return psycopg.connect(self.dsn, row_factory=dict_row)

    def sql(self, query: str, params=()) -> list[dict]:
        with self.conn() as c:
            return c.execute(query, params).fetchall()

    def service_point(self, code: str, name: str, region: str = "140121") -> dict:
        from county import admin

        with self.conn() as c, c.transaction():
            return admin.create_service_point(c, code, name, region)

    def code(self, sp_code: str) -> str:
        from county import admin

        with self.conn() as c, c.transaction():
            return admin.issue_device_code(c, sp_code, 72)["code"]


class CountyServer(CountyAdmin):
    """The county FastAPI app under uvicorn in its own process on 127.0.0.1, on a REAL
    PostgreSQL database (county.testing). ``restart()`` kills it with SIGKILL and starts it
    again on the same port."""

    def __init__(self, dsn: str, *, tls: tuple[str, str, str] | None = None, env=None):
        """``tls``: (certificate chain file, key file, CA file the health check trusts)."""
        from county import sealing

        # the admin helpers below run in this process: they seal keys as this server does
        # (a county test in the same worker may have configured another key)
        sealing.configure(SIGNING_KEY)
        self.dsn = dsn
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.tls = tls
        self.extra_env = env or {}
        self.start()

    @property
    def url(self) -> str:
        if self.tls:
            return f"https://localhost:{self.port}"
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, healthy: bool = True) -> None:
        """Start and wait until /health answers; ``healthy`` False: until the port takes a
        connection (a server whose certificate the health check itself would refuse)."""
        env = {
            **os.environ,
            "TOWNSHIP_COUNTY_DATABASE_URL": self.dsn,
            "TOWNSHIP_COUNTY_SIGNING_KEY": SIGNING_KEY,
            **self.extra_env,
        }
        if self.tls:
            env["TOWNSHIP_COUNTY_TLS_CERT"], env["TOWNSHIP_COUNTY_TLS_KEY"] = self.tls[:2]
        verify = ssl.create_default_context(cafile=self.tls[2]) if self.tls else True
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "sync_server.py"), str(self.port)],
            env=env,
            cwd=str(ROOT),
        )
        # 90 s: a start takes about a second, but a CI machine under both test workers' load
        # once took more than 30 (the wait ends as soon as /health answers)
        deadline = time.monotonic() + 90
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("county server exited at start-up")
            try:
                if not healthy:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                answer = httpx.get(self.url + "/health", timeout=2, verify=verify)
                if answer.status_code == 200:
                    return
                last = f"/health answered {answer.status_code}: {answer.text[:200]}"
            except (httpx.HTTPError, OSError) as e:
                last = f"{type(e).__name__}: {e}"
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"county server did not start in 90 s ({last})")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def restart(self) -> None:
        self.kill()
        self.start()


@pytest.fixture(scope="session")
def sync_pg():
    from county.testing import shared_cluster

    return shared_cluster()


@pytest.fixture
def county_server(sync_pg):
    from county.testing import drop_database, fresh_database

    dsn = fresh_database(sync_pg)
    server = CountyServer(dsn)
    yield server
    server.kill()
    drop_database(sync_pg, dsn)


class Desk:
    """One service-point desktop: its own data folder and store, set up and registered."""

    def __init__(
        self, root: Path, county: CountyServer, sp_code: str, sp_name: str, url=None, ca_pem=None
    ):
        from desktop.services.setup import ServicePointInput, run_setup
        from desktop.store import open_store

        self.data_dir = root / sp_code
        self.data_dir.mkdir(parents=True)
        self.store = open_store(self.data_dir)
        self.actor = run_setup(
            self.store,
            ServicePointInput(
                name=sp_name, region_code="140121", code=sp_code, villages=["东村", "西村"]
            ),
            admin_username="admin",
            admin_name="王主管",
            admin_password="admin123",
        )
        self.county = county
        self.sp_code = sp_code
        self.register(url or county.url, ca_pem)

    def register(self, url: str, ca_pem: str | None = None) -> dict:
        from desktop.services import sync as svc

        self.info = svc.register_device(
            self.store,
            self.data_dir,
            url,
            self.county.code(self.sp_code),
            actor=self.actor,
            ca_pem=ca_pem,
        )
        return self.info

    @property
    def device_id(self) -> str:
        return self.info["device_id"]

    @property
    def sp_id(self) -> str:
        return self.info["service_point"]["id"]

    def sync(self, **kw):
        from desktop.services import sync as svc
        from desktop.sync.transport import RetryPolicy

        kw.setdefault("retry", RetryPolicy(attempts=4, base_delay=0.01, max_delay=0.05))
        return svc.run_sync(self.store, self.data_dir, self.actor, **kw)

    def village(self, name: str = "东村") -> str:
        return self.store.query_one("SELECT id FROM village WHERE name = ?", (name,))["id"]

    def close(self) -> None:
        self.store.close()


@pytest.fixture
def fast_dir(tmp_path):
    """Desktop data folders on tmpfs when there is one: thousands of fsync'd commits in the
    fault tests would otherwise cost minutes (durability itself is tested elsewhere)."""
    import shutil
    import tempfile

    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK):
        d = Path(tempfile.mkdtemp(prefix="sync-test-", dir=shm))
        yield d
        shutil.rmtree(d, ignore_errors=True)
    else:
        yield tmp_path


@pytest.fixture
def desks(fast_dir, county_server, mem_keyring):
    county_server.service_point("SP01", "东乡卫生院")
    county_server.service_point("SP02", "西乡卫生院")
    made: list[Desk] = []

    def make(sp_code: str, sp_name: str, url: str | None = None) -> Desk:
        d = Desk(fast_dir, county_server, sp_code, sp_name, url)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


class CountyWorkers(CountyAdmin):
    """The county server behind Debian's PgBouncer (transaction pooling), as a province runs
    it (issue 18): ``township-county serve --workers N`` (uvicorn's supervisor), or with
    ``instances=N`` N ``serve --reuse-port`` servers on one port (systemd's
    township-county@1…N). ``serving_pids()``, ``kill_one()`` and ``recover()`` (the
    supervisor's or systemd's restart), ``bouncer.restart()``."""

    def __init__(self, cluster, workers: int = 2, env=None, instances: int = 0):
        from county import sealing
        from county.testing import PgBouncer, ServerProcess, fresh_database, start_instances

        sealing.configure(SIGNING_KEY)
        self.cluster = cluster
        self.dsn = fresh_database(cluster)
        self.bouncer = PgBouncer(cluster)
        env = {
            "TOWNSHIP_COUNTY_DATABASE_POOLED": "true",
            "TOWNSHIP_COUNTY_DATABASE_DIRECT_URL": self.dsn,
            **(env or {}),
        }
        url = self.bouncer.url(self.dsn)
        if not instances:
            self.server = ServerProcess(url, SIGNING_KEY, workers=workers, env=env).start()
            self.servers = [self.server]
        else:
            self.servers = start_instances(url, SIGNING_KEY, instances, env=env)
            self.server = self.servers[0]
        self.instances, self.workers = instances, workers
        self.port = self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def serving_pids(self) -> list[int]:
        if self.instances:
            return [s.proc.pid for s in self.servers if s.proc and s.proc.poll() is None]
        return self.server.worker_pids()

    def kill_worker(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)

    def kill_one(self, rng) -> None:
        """SIGKILL one serving process, chosen at random."""
        self.kill_worker(rng.choice(self.serving_pids()))

    def recover(self) -> None:
        """What keeps the service whole after a kill: uvicorn's supervisor starts a new
        worker by itself (waited for); an instance is started again, as systemd does."""
        if self.instances:
            for s in self.servers:
                if s.proc is None or s.proc.poll() is not None:
                    s.restart()
            return
        deadline = time.monotonic() + 30
        while len(self.server.worker_pids()) < self.workers and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(self.server.worker_pids()) == self.workers, "no new worker was started"

    def close(self) -> None:
        from county.testing import drop_database

        for s in self.servers:
            s.stop()
        self.bouncer.close()
        drop_database(self.cluster, self.dsn)


@pytest.fixture
def county_workers(sync_pg):
    made: list[CountyWorkers] = []

    def make(workers: int = 2, env=None, instances: int = 0) -> CountyWorkers:
        made.append(CountyWorkers(sync_pg, workers, env, instances))
        return made[-1]

    yield make
    for c in made:
        c.close()


@pytest.fixture
def desks_on(fast_dir, mem_keyring):
    """Desks registered with any county (``make(county, sp_code, sp_name, url=None)``)."""
    made: list[Desk] = []

    def make(county, sp_code: str, sp_name: str, url: str | None = None) -> Desk:
        made.append(Desk(fast_dir, county, sp_code, sp_name, url))
        return made[-1]

    yield make
    for d in made:
        d.close()


class CountyOn(CountyAdmin):
    """``township-county serve`` on a database the test made (e.g. the failover test's
    highly available one)."""

    def __init__(self, database_url: str, env: dict | None = None):
        from county import sealing
        from county.testing import ServerProcess

        sealing.configure(SIGNING_KEY)
        self.dsn = (env or {}).get("TOWNSHIP_COUNTY_DATABASE_DIRECT_URL", database_url)
        self.server = ServerProcess(database_url, SIGNING_KEY, env=env).start()
        self.port = self.server.port

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture
def county_on():
    made: list[CountyOn] = []

    def make(database_url: str, env: dict | None = None) -> CountyOn:
        made.append(CountyOn(database_url, env))
        return made[-1]

    yield make
    for c in made:
        c.server.stop()


@pytest.fixture
def seed():
    """The fault tests' random seed (printed; set SYNC_FAULT_SEED to replay)."""
    import random

    s = int(os.environ.get("SYNC_FAULT_SEED", str(random.randrange(1 << 30))))
    print(f"SYNC_FAULT_SEED={s}")
    return s
