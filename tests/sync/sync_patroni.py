"""A highly available PostgreSQL for the failover test (issue 18): Debian's etcd as the
consensus store and two Patroni nodes (a primary and a synchronous streaming replica) on
loopback, as docs/province.md describes for a province. ``kill_primary()`` kills the
primary's Patroni and PostgreSQL at once (SIGKILL: a power cut); Patroni promotes the
replica once the leader key expires.

``url(dbname)`` lists both nodes with ``target_session_attrs=read-write``: libpq (and so
the county server's pool) connects to whichever is the primary now."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

PG_BIN = Path(os.environ.get("TOWNSHIP_PG_BIN", "/usr/lib/postgresql/15/bin"))
ETCD = Path("/usr/bin/etcd")
PATRONI = Path("/usr/bin/patroni")
HAPROXY = Path("/usr/sbin/haproxy")
HAPROXY_CFG = Path(__file__).resolve().parents[2] / "deploy" / "county" / "haproxy.cfg"


def available() -> bool:
    return ETCD.exists() and PATRONI.exists() and (PG_BIN / "initdb").exists()


def haproxy_available() -> bool:
    return HAPROXY.exists() and Path("/usr/sbin/pgbouncer").exists()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_config(root: Path, name: str, pg_port: int, api_port: int, etcd: str) -> str:
    """Patroni's YAML for one node (JSON is YAML)."""
    return json.dumps(
        {
            "scope": "township",
            "name": name,
            "restapi": {
                "listen": f"127.0.0.1:{api_port}",
                "connect_address": f"127.0.0.1:{api_port}",
            },
            "etcd3": {"hosts": etcd},
            "bootstrap": {
                "dcs": {
                    "ttl": 10,
                    "loop_wait": 1,
                    "retry_timeout": 4,
                    "synchronous_mode": True,  # only a replica holding every commit is promoted
                    "postgresql": {
                        "use_pg_rewind": False,
                        "parameters": {"max_connections": 200, "wal_level": "replica"},
                    },
                },
                "initdb": [{"encoding": "UTF8"}, {"locale": "C.UTF-8"}],
                "pg_hba": [
                    "local all all trust",
                    "host all all 127.0.0.1/32 trust",
                    "host replication replicator 127.0.0.1/32 trust",
                ],
            },
            "postgresql": {
                "listen": f"127.0.0.1:{pg_port}",
                "connect_address": f"127.0.0.1:{pg_port}",
                "data_dir": str(root / name),
                "bin_dir": str(PG_BIN),
                "pgpass": str(root / f"{name}.pgpass"),
                "authentication": {
                    "replication": {"username": "replicator", "password": "replicator"},
                    "superuser": {"username": "postgres", "password": "postgres"},
                },
                "parameters": {"unix_socket_directories": str(root)},
            },
        }
    )


class PatroniCluster:
    user = "postgres"  # for PgBouncer in front of it

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="township-patroni-"))
        os.chmod(self.root, 0o777)
        self.as_root = self.as_postgres = os.geteuid() == 0
        self.haproxy_proc: subprocess.Popen | None = None
        self.etcd_port, peer = _port(), _port()
        self.etcd = self._spawn(
            [
                str(ETCD),
                "--data-dir", str(self.root / "etcd"),
                "--listen-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                "--initial-cluster", f"default=http://127.0.0.1:{peer}",
            ],
            "etcd.log",
        )  # fmt: skip
        self.nodes: dict[str, dict] = {}
        for name in ("pg1", "pg2"):
            pg, api = _port(), _port()
            cfg = self.root / f"{name}.yml"
            cfg.write_text(
                _node_config(self.root, name, pg, api, f"127.0.0.1:{self.etcd_port}"), "utf-8"
            )
            self.nodes[name] = {"pg": pg, "api": api, "cfg": cfg, "proc": None}
        self.start_node("pg1")
        self.wait_primary(90)
        self.start_node("pg2")
        self.wait_sync_replica(90)

    def _spawn(self, cmd: list[str], log: str) -> subprocess.Popen:
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        out = open(self.root / log, "ab")  # noqa: SIM115 (the child keeps it)
        return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def start_node(self, name: str) -> None:
        self.nodes[name]["proc"] = self._spawn(
            [str(PATRONI), str(self.nodes[name]["cfg"])], f"{name}.log"
        )

    def _state(self, name: str) -> dict:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.nodes[name]['api']}/patroni", timeout=1
            ) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return {}

    def primary(self) -> str | None:
        for name in self.nodes:
            s = self._state(name)
            if s.get("role") in ("master", "primary") and s.get("state") == "running":
                return name
        return None

    def wait_primary(self, timeout: float, not_: str | None = None) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.primary()
            if p is not None and p != not_:
                return p
            time.sleep(0.2)
        raise RuntimeError("no PostgreSQL primary: " + self.logs())

    def wait_sync_replica(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.primary()
            if p:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{self.nodes[p]['api']}/cluster", timeout=1
                ) as r:
                    members = json.loads(r.read())["members"]
                if any(
                    m["role"] == "sync_standby" and m["state"] in ("running", "streaming")
                    for m in members
                ):
                    return
            time.sleep(0.3)
        raise RuntimeError("the replica did not become synchronous: " + self.logs())

    def url(self, dbname: str = "postgres") -> str:
        hosts = ",".join(f"127.0.0.1:{n['pg']}" for n in self.nodes.values())
        return f"postgresql://postgres@{hosts}/{dbname}?target_session_attrs=read-write&connect_timeout=3"

    def kill_primary(self) -> str:
        """SIGKILL the primary's Patroni and every process of its PostgreSQL."""
        name = self.primary()
        assert name is not None
        node = self.nodes[name]
        os.killpg(node["proc"].pid, 9)
        pid_file = self.root / name / "postmaster.pid"
        if pid_file.exists():
            pid = int(pid_file.read_text().split()[0])
            subprocess.run(["pkill", "-9", "-P", str(pid)], check=False)
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        node["proc"].wait(10)
        return name

    def haproxy(self, timeout: float = 10.0) -> int:
        """Debian's HAProxy with the shipped configuration (deploy/county/haproxy.cfg), its
        nodes replaced by this cluster's; returns the port that leads to the primary."""
        port, replicas = _port(), _port()
        servers = "".join(
            f"    server {name} 127.0.0.1:{n['pg']} check port {n['api']}\n"
            for name, n in self.nodes.items()
        )
        cfg = HAPROXY_CFG.read_text(encoding="utf-8")
        cfg = re.sub(r"(?m)^    server .*\n", "", cfg)
        cfg = cfg.replace("bind 127.0.0.1:5000\n", f"bind 127.0.0.1:{port}\n")
        cfg = cfg.replace("bind 127.0.0.1:5001\n", f"bind 127.0.0.1:{replicas}\n")
        cfg = re.sub(r"(?m)(^    default-server .*\n)", lambda m: m.group(1) + servers, cfg)
        (self.root / "haproxy.cfg").write_text(cfg, encoding="utf-8")
        out = open(self.root / "haproxy.log", "ab")  # noqa: SIM115 (the child keeps it)
        self.haproxy_proc = subprocess.Popen(
            [str(HAPROXY), "-db", "-f", str(self.root / "haproxy.cfg")],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("haproxy did not start: " + self.logs())

    def logs(self) -> str:
        return "\n".join(
            f"--- {f.name}\n" + f.read_text(errors="replace")[-1500:]
            for f in sorted(self.root.glob("*.log"))
        )

    def close(self) -> None:
        if self.haproxy_proc is not None and self.haproxy_proc.poll() is None:
            os.killpg(self.haproxy_proc.pid, 9)
            self.haproxy_proc.wait(10)
        for node in self.nodes.values():
            if node["proc"] is not None and node["proc"].poll() is None:
                os.killpg(node["proc"].pid, 9)
                node["proc"].wait(10)
        subprocess.run(["pkill", "-9", "-f", str(self.root)], check=False)
        if self.etcd.poll() is None:
            os.killpg(self.etcd.pid, 9)
            self.etcd.wait(10)
        shutil.rmtree(self.root, ignore_errors=True)
