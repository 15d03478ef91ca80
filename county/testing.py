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
        self.stop_server(self.root / "data")
        shutil.rmtree(self.root, ignore_errors=True)

    def stop_server(self, data: Path) -> None:
        """Stop the PostgreSQL serving ``data`` at once (this cluster's or its replica's)."""
        try:
            self._run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass


def start_cluster(*, durable: bool = False, options: str = "") -> Cluster:
    """A private PostgreSQL cluster. ``durable``: as in production — fsync, synchronous
    commit and full page writes on (the benchmarks); else without them (tests: durability
    of the county's data is PostgreSQL's, not what the tests check). ``options``: more
    ``-c name=value`` settings (e.g. WAL archiving for the restore drill)."""
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
    if options:
        opts += " " + options
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


@dataclass
class Replica:
    """A streaming replica of a test cluster (``pg_basebackup -R``), read-only."""

    root: Path
    port: int
    primary: Cluster

    def url(self, dbname: str = "postgres") -> str:
        p = self.primary
        return f"postgresql://{p.user}@/{dbname}?host={p.socket_dir}&port={self.port}"

    def stop(self) -> None:
        self.primary.stop_server(self.root)
        shutil.rmtree(self.root, ignore_errors=True)


def start_replica(cluster: Cluster) -> Replica:
    """A hot standby streaming from ``cluster`` (the console's report reads, issue 18)."""
    root = cluster.root / f"replica-{uuid.uuid4().hex[:6]}"
    port = _free_port()
    cluster._run(
        str(PG_BIN / "pg_basebackup"),
        "-D", str(root),
        "-h", str(cluster.socket_dir),
        "-p", str(cluster.port),
        "-U", cluster.user,
        "-R",
        "-X", "stream",
        "--checkpoint=fast",
        "--no-sync",
    )  # fmt: skip
    # a hot standby needs max_connections at least the primary's
    opts = (
        f"-k {cluster.socket_dir} -p {port} -c listen_addresses='' -c hot_standby=on"
        " -c max_connections=200"
    )
    cluster._run(
        str(PG_BIN / "pg_ctl"),
        "-D", str(root),
        "-o", opts,
        "-w",
        "-l", str(cluster.root / f"replica-{port}.log"),
        "start",
    )  # fmt: skip
    return Replica(root, port, cluster)


_lock = threading.Lock()
_cluster: Cluster | None = None
_templates: dict[Path, str] = {}  # per cluster


def shared_cluster() -> Cluster:
    """The process's cluster (started on first use, stopped at exit)."""
    global _cluster
    with _lock:
        if _cluster is None:
            _cluster = start_cluster()
            atexit.register(_cluster.stop)
        return _cluster


def stop_shared_cluster() -> None:
    """Stop the process's cluster now: for a process that leaves without running its
    ``atexit`` handlers (the test run's hard exit), which left one PostgreSQL running per
    test worker after every run."""
    global _cluster
    with _lock:
        if _cluster is not None:
            atexit.unregister(_cluster.stop)
            _cluster.stop()
            _templates.pop(_cluster.root, None)
            _cluster = None


def template_database(cluster: Cluster) -> str:
    """A database with the county migrations applied, used as a template."""
    with _lock:
        if cluster.root not in _templates:
            name = "county_template"
            with psycopg.connect(cluster.dsn(), autocommit=True) as c:
                c.execute(f"CREATE DATABASE {name}")
            with psycopg.connect(cluster.dsn(name)) as c:
                migrate(c)
            _templates[cluster.root] = name
        return _templates[cluster.root]


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
    fault-injection tests: ``restart()`` kills it hard and starts it again). ``workers``:
    its worker processes (``worker_pids()``); ``env``: more settings; ``reuse_port``: one of
    several such servers sharing ``port`` (``serve --reuse-port``)."""

    def __init__(
        self,
        database_url: str,
        signing_key: str,
        admin_key: str | None = None,
        port: int | None = None,
        *,
        workers: int = 1,
        env: dict | None = None,
        reuse_port: bool = False,
    ):
        self.database_url, self.signing_key, self.admin_key = database_url, signing_key, admin_key
        self.port = port or _free_port()
        self.workers, self.env, self.reuse_port = workers, env or {}, reuse_port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> ServerProcess:
        env = {
            **os.environ,
            "TOWNSHIP_COUNTY_DATABASE_URL": self.database_url,
            "TOWNSHIP_COUNTY_SIGNING_KEY": self.signing_key,
            "TOWNSHIP_COUNTY_BIND": f"127.0.0.1:{self.port}",
            "TOWNSHIP_COUNTY_WORKERS": str(self.workers),
            **self.env,
        }
        if self.admin_key:
            env["TOWNSHIP_COUNTY_ADMIN_KEY"] = self.admin_key
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "county.cli", "serve", "--log-level", "warning"]
            + (["--reuse-port"] if self.reuse_port else []),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its workers are stopped with it
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("county server exited: " + self.proc.stderr.read().decode())
            try:
                # beside other servers on the port, /health may be answered by another one
                if (
                    httpx.get(self.url + "/health", timeout=1).status_code == 200
                    and (self.workers == 1 or len(self.worker_pids()) == self.workers)
                    and (not self.reuse_port or listens_on(self.proc.pid, self.port))
                ):
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("county server did not become healthy in time")

    def worker_pids(self) -> list[int]:
        """The worker processes (children of the server's supervisor)."""
        if self.proc is None or self.workers == 1:
            return []
        return [pid for pid in children(self.proc.pid) if "resource_tracker" not in _cmdline(pid)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_instances(
    database_url: str, signing_key: str, n: int, *, env: dict | None = None
) -> list[ServerProcess]:
    """``n`` servers started in turn with ``serve --reuse-port`` on one free port (as
    systemd's township-county@1…n); the caller stops them."""
    first = ServerProcess(database_url, signing_key, env=env, reuse_port=True).start()
    servers = [first]
    try:
        for _ in range(n - 1):
            servers.append(
                ServerProcess(
                    database_url, signing_key, port=first.port, env=env, reuse_port=True
                ).start()
            )
    except BaseException:
        for s in servers:
            s.stop()
        raise
    return servers


def listens_on(pid: int, port: int) -> bool:
    """Whether process ``pid`` holds a TCP socket listening on ``port`` (from /proc)."""
    return tcp_sockets(pid, port, "0A") > 0


def tcp_sockets(pid: int, port: int, state: str = "01") -> int:
    """How many TCP sockets process ``pid`` holds on local ``port`` in ``state`` (as in
    /proc/net/tcp: 01 established, 0A listening)."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return 0
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()  # sl, local address:port (hex), remote, state, …, inode
            if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == state and f[9] in inodes:
                n += 1
    return n


def children(pid: int) -> list[int]:
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(stat[1]) == pid:
                out.append(int(d.name))
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


class PgBouncer:
    """Debian's PgBouncer in front of a test cluster, in transaction pooling as a province
    runs it (see docs/province.md); ``restart()`` kills it hard and starts it again.
    ``upstream``: where it connects instead of the cluster's socket (e.g. HAProxy in front
    of Patroni's nodes); ``cluster`` then only gives the user (``user``, ``as_postgres``)."""

    BIN = Path("/usr/sbin/pgbouncer")

    def __init__(self, cluster, pool_size: int = 20, upstream: str | None = None):
        self.cluster, self.port = cluster, _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="township-pgbouncer-"))
        (self.dir / "users.txt").write_text(f'"{cluster.user}" ""\n', encoding="utf-8")
        (self.dir / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"* = {upstream or f'host={cluster.socket_dir} port={cluster.port}'}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.dir / 'users.txt'}\n"
            "pool_mode = transaction\nmax_client_conn = 2000\n"
            f"default_pool_size = {pool_size}\n"
            "ignore_startup_parameters = extra_float_digits\n"
            f"logfile = {self.dir / 'pgbouncer.log'}\n",
            encoding="utf-8",
        )
        if cluster.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
            for f in self.dir.iterdir():
                shutil.chown(f, "postgres", "postgres")
        self.proc: subprocess.Popen | None = None
        self.start()

    def url(self, database_url: str) -> str:
        """The same database through the pooler."""
        name = database_url.split("?", 1)[0].rsplit("/", 1)[1]
        return f"postgresql://{self.cluster.user}@127.0.0.1:{self.port}/{name}"

    def start(self, timeout: float = 30.0) -> None:
        cmd = [str(self.BIN), str(self.dir / "pgbouncer.ini")]
        if self.cluster.as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("pgbouncer did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            pids = [self.proc.pid, *children(self.proc.pid)]  # runuser's child is pgbouncer
            for pid in reversed(pids):
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            self.proc.wait(10)
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)
