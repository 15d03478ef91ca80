"""A throwaway PostgreSQL for tests and benchmarks: Debian's PostgreSQL 15 binaries run as
the ``postgres`` user when we are root (initdb refuses root), on a private port and a
private socket directory. One cluster per process; each test gets a database cloned from
a migrated template.

    from county.testing import shared_cluster, fresh_database
    dsn = fresh_database(shared_cluster())
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from county.db import migrate

PG_BIN = Path(os.environ.get("TOWNSHIP_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    root: Path
    port: int
    user: str
    as_postgres: bool

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host={self.socket_dir} port={self.port} user={self.user} dbname={dbname}"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{self.user}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def _run(self, *cmd: str) -> None:
        full = list(cmd)
        if self.as_postgres:
            full = ["runuser", "-u", "postgres", "--", *full]
        subprocess.run(full, check=True, capture_output=True, text=True)

    def stop(self) -> None:
        try:
            self._run(
                str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"
            )
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> Cluster:
    """A private PostgreSQL cluster. ``durable``: as in production — fsync, synchronous
    commit and full page writes on (the benchmarks); else without them (tests: durability
    of the county's data is PostgreSQL's, not what the tests check)."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(
            f"PostgreSQL binaries not found in {PG_BIN} (apt-get install postgresql)"
        )
    as_postgres = os.geteuid() == 0
    root = Path(tempfile.mkdtemp(prefix="township-pg-"))
    (root / "sock").mkdir()
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(root / "sock", "postgres", "postgres")
        os.chmod(root, 0o755)
    user = "postgres" if as_postgres else (os.environ.get("USER") or "postgres")
    cl = Cluster(root, _free_port(), user, as_postgres)
    cl._run(
        str(PG_BIN / "initdb"),
        "-D",
        str(root / "data"),
        "-U",
        user,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
        "--no-sync",
    )
    opts = f"-k {root / 'sock'} -p {cl.port} -c listen_addresses='' -c max_connections=200"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    cl._run(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(root / "data"),
        "-o",
        opts,
        "-w",
        "-l",
        str(root / "server.log"),
        "start",
    )
    return cl


_lock = threading.Lock()
_cluster: Cluster | None = None
_template: str | None = None


def shared_cluster() -> Cluster:
    """The process's cluster (started on first use, stopped at exit)."""
    global _cluster
    with _lock:
        if _cluster is None:
            _cluster = start_cluster()
            atexit.register(_cluster.stop)
        return _cluster


def template_database(cluster: Cluster) -> str:
    """A database with the county migrations applied, used as a template."""
    global _template
    with _lock:
        if _template is None:
            name = "county_template"
            with psycopg.connect(cluster.dsn(), autocommit=True) as c:
                c.execute(f"CREATE DATABASE {name}")
            with psycopg.connect(cluster.dsn(name)) as c:
                migrate(c)
            _template = name
        return _template


def fresh_database(cluster: Cluster, *, migrated: bool = True) -> str:
    """A new database (cloned from the migrated template unless ``migrated=False``);
    returns its URL."""
    name = "t_" + uuid.uuid4().hex[:16]
    tmpl = template_database(cluster) if migrated else "template0"
    with psycopg.connect(cluster.dsn(), autocommit=True) as c:
        c.execute(f"CREATE DATABASE {name} TEMPLATE {tmpl}")
    return cluster.url(name)


def drop_database(cluster: Cluster, url: str) -> None:
    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    with psycopg.connect(cluster.dsn(), autocommit=True) as c:
        c.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class ServerProcess:
    """``township-county serve`` in a child process on a free port (for end-to-end and
    fault-injection tests: ``restart()`` kills it hard and starts it again)."""

    def __init__(
        self,
        database_url: str,
        signing_key: str,
        admin_key: str | None = None,
        port: int | None = None,
    ):
        self.database_url, self.signing_key, self.admin_key = database_url, signing_key, admin_key
        self.port = port or _free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        env = {
            **os.environ,
            "TOWNSHIP_COUNTY_DATABASE_URL": self.database_url,
            "TOWNSHIP_COUNTY_SIGNING_KEY": self.signing_key,
            "TOWNSHIP_COUNTY_BIND": f"127.0.0.1:{self.port}",
        }
        if self.admin_key:
            env["TOWNSHIP_COUNTY_ADMIN_KEY"] = self.admin_key
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "county.cli", "serve", "--log-level", "warning"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("county server exited: " + self.proc.stderr.read().decode())
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("county server did not become healthy in time")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
