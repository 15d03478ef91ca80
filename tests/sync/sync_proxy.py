"""A TCP proxy for fault tests: forwards 127.0.0.1:<port> to the county server and, when
armed, cuts the connection after a chosen number of bytes of a request (client → server)
or of a response (server → client)."""

from __future__ import annotations

import socket
import threading


class CutProxy:
    def __init__(self, upstream_port: int, upstream_host: str = "127.0.0.1"):
        self.upstream = (upstream_host, upstream_port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self._lock = threading.Lock()
        self._arm: tuple[str, int] | None = None  # (direction, bytes left before the cut)
        self.cuts = 0
        self.connections = 0
        self._open: set[socket.socket] = set()
        self._canned: list[tuple[int, bytes, dict]] = []
        self.canned_sent = 0
        self._stop = False
        threading.Thread(target=self._accept, daemon=True, name="cut-proxy").start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def arm(self, direction: str, at_byte: int) -> None:
        """Cut the next connection carrying data in ``direction`` ("request" or
        "response") once ``at_byte`` more bytes have passed that way."""
        assert direction in ("request", "response")
        with self._lock:
            self._arm = (direction, max(0, int(at_byte)))

    def answer_next(self, status: int, body: bytes = b"{}", headers: dict | None = None) -> None:
        """Answer the next request with this HTTP response instead of forwarding it."""
        with self._lock:
            self._canned.append((status, body, headers or {}))

    def disarm(self) -> None:
        with self._lock:
            self._arm = None

    @property
    def armed(self) -> bool:
        with self._lock:
            return self._arm is not None

    def drop_all(self) -> None:
        """Close every open connection (clients see a reset on their next use)."""
        with self._lock:
            socks = list(self._open)
        for s in socks:
            _close(s)

    def close(self) -> None:
        self._stop = True
        _close(self.sock)
        self.drop_all()

    # ------------------------------------------------------------------ internals
    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            with self._lock:
                canned = self._canned.pop(0) if self._canned else None
            if canned is not None:
                threading.Thread(target=self._answer, args=(client, canned), daemon=True).start()
                continue
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            for s_ in (client, server):
                s_.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._open.update((client, server))
            pair = (client, server)
            threading.Thread(
                target=self._pump, args=(client, server, "request", pair), daemon=True
            ).start()
            threading.Thread(
                target=self._pump, args=(server, client, "response", pair), daemon=True
            ).start()

    def _answer(self, client: socket.socket, canned: tuple[int, bytes, dict]) -> None:
        status, body, headers = canned
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = client.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip())
            while len(rest) < length:
                chunk = client.recv(65536)
                if not chunk:
                    return
                rest += chunk
            lines = [
                f"HTTP/1.1 {status} X",
                f"Content-Length: {len(body)}",
                "Content-Type: application/json",
                "Connection: close",
            ]
            lines += [f"{k}: {v}" for k, v in headers.items()]
            client.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            with self._lock:
                self.canned_sent += 1
        except OSError:
            pass
        finally:
            _close(client)

    def _take(self, direction: str, n: int) -> int | None:
        """How many of the next ``n`` bytes may pass before a cut (None = no cut)."""
        with self._lock:
            if self._arm is None or self._arm[0] != direction:
                return None
            left = self._arm[1]
            if left >= n:
                self._arm = (direction, left - n)
                return None
            self._arm = None
            self.cuts += 1
            return left

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str, pair) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                allow = self._take(direction, len(data))
                if allow is not None:
                    if allow:
                        dst.sendall(data[:allow])
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in pair:
                _close(s)
            with self._lock:
                self._open.difference_update(pair)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
