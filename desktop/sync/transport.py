"""HTTP to the county: gzip JSON bodies, the protocol header, retries.

Retry rules (sync design): network errors and 5xx → resend the same body with jittered
exponential backoff; 429/503 → wait ``Retry-After``; 401 → the caller refreshes the token
once; 413 → the caller sends smaller batches; other 4xx → final."""

from __future__ import annotations

import gzip
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from core import syncproto as sp
from desktop import __version__
from desktop.sync import errors


@dataclass
class RetryPolicy:
    attempts: int = 6  # sends of one request before giving up
    base_delay: float = 0.5  # seconds; doubles each attempt, ×0.5-1.5 jitter
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def delay(self, attempt: int) -> float:
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1)) * random.uniform(0.5, 1.5)


@dataclass
class Stats:
    round_trips: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    retries: int = 0
    waits: list[float] = field(default_factory=list)
    server_protocol: int | None = (
        None  # from the answers' protocol header  # seconds waited before each resend
    )
    events: list[str] = field(default_factory=list)


class HttpStatus(Exception):
    """A final non-2xx answer (after the retries this layer does)."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


LOOPBACK = {"localhost", "127.0.0.1", "::1"}


def check_url(url: str) -> None:
    """Only https, except to this PC itself (tests, a county server on the same machine)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and (parts.hostname or "") in LOOPBACK:
        return
    raise errors.InsecureServer()


def load_ca(pem: str) -> ssl.SSLContext:
    """A TLS context that trusts only the county's CA certificate (PEM text)."""
    try:
        ctx = ssl.create_default_context(cadata=pem)
    except (ssl.SSLError, ValueError, TypeError) as e:
        raise errors.BadCaFile(detail=str(e)) from e
    if not ctx.get_ca_certs():
        raise errors.BadCaFile()
    return ctx


def tls_failure(exc: BaseException) -> errors.SyncError | None:
    """The clerk's message for a refused certificate (or a server that does not speak TLS),
    None for any other transport error (those are retried)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            if seen.verify_code == 10:  # X509_V_ERR_CERT_HAS_EXPIRED
                return errors.CertificateExpired(detail=str(seen))
            return errors.CertificateRejected(detail=str(seen))
        if isinstance(seen, ssl.SSLError):
            return errors.CertificateRejected(detail=str(seen))
        seen = seen.__cause__ or seen.__context__
    return None


class Transport:
    def __init__(
        self,
        base_url: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        cancel: threading.Event | None = None,
        client: httpx.Client | None = None,
        ca_pem: str | None = None,
    ):
        if client is None:
            check_url(base_url)
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.cancel = cancel or threading.Event()
        self.stats = Stats()
        self._client = client or httpx.Client(
            base_url=self.base_url,
            # small JSON requests: without TCP_NODELAY, Nagle + delayed ACK add ~40 ms a trip
            transport=httpx.HTTPTransport(
                verify=load_ca(ca_pem) if ca_pem else _ssl_context(),
                socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)],
            ),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={
                sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION),
                "Accept-Encoding": "gzip",
                "User-Agent": f"township-desk/{__version__}",
            },
        )

    def close(self) -> None:
        self._client.close()

    def _sleep(self, seconds: float) -> None:
        if self.cancel.wait(seconds):
            raise Cancelled()

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def post(self, path: str, body: dict, *, token: str | None = None) -> dict:
        """POST gzip JSON; returns the decoded answer. Retries transport errors, 5xx,
        429 and 503 here; raises :class:`HttpStatus` for other non-2xx answers."""
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        data = gzip.compress(raw, compresslevel=6)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        attempt = 0
        while True:
            self.check_cancel()
            attempt += 1
            wait: float | None = None
            try:
                resp = self._client.post(path, content=data, headers=headers)
                self.stats.round_trips += 1
                self.stats.bytes_sent += len(data)
                self.stats.bytes_received += resp.num_bytes_downloaded
                status = resp.status_code
                ver = resp.headers.get(sp.PROTOCOL_HEADER, "")
                if ver.isdigit():
                    self.stats.server_protocol = int(ver)
                if 200 <= status < 300:
                    return resp.json()
                if status in (429, 503) or status >= 500:
                    wait = _retry_after(resp, self.retry.max_retry_after)
                    kind = "server"
                else:
                    code, msg = _error_body(resp)
                    raise HttpStatus(status, code, msg)
            except (httpx.TransportError, json.JSONDecodeError, UnicodeDecodeError) as e:
                refused = tls_failure(e)
                if refused is not None:  # a wrong or expired certificate: never retried
                    raise refused from e
                self.stats.bytes_sent += len(data)
                kind = "network"
                self.stats.events.append(f"{path}: {type(e).__name__}")
            if attempt >= self.retry.attempts:
                if kind == "network":
                    raise errors.Offline()
                raise errors.ServerFailed()
            self.stats.retries += 1
            pause = wait if wait is not None else self.retry.delay(attempt)
            self.stats.waits.append(pause)
            self._sleep(pause)

    def get(self, path: str) -> dict:
        resp = self._client.get(path)
        self.stats.round_trips += 1
        resp.raise_for_status()
        return resp.json()


_ssl_lock = threading.Lock()
_ssl_ctx = None


def _ssl_context():
    """One verifying TLS context for the process (building one loads the CA bundle, ~40 ms;
    each sync makes a new client)."""
    global _ssl_ctx
    with _ssl_lock:
        if _ssl_ctx is None:
            _ssl_ctx = httpx.create_ssl_context()
        return _ssl_ctx


class Cancelled(errors.SyncError):
    code = "E-SYNC-CANCEL"
    default = "同步已取消，已完成的部分已保存，未上传的数据下次同步时继续上传。"


def _retry_after(resp: httpx.Response, cap: float) -> float | None:
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, min(cap, float(value)))
    except ValueError:
        from email.utils import parsedate_to_datetime  # deferred: only a Retry-After date needs it

        try:
            when = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError):
            return None
        return max(0.0, min(cap, when - time.time()))


def _error_body(resp: httpx.Response) -> tuple[str, str]:
    try:
        doc = resp.json()
    except (ValueError, UnicodeDecodeError):
        return f"http_{resp.status_code}", resp.text[:200]
    if isinstance(doc, dict):
        if "code" in doc:
            return str(doc.get("code")), str(doc.get("message") or "")
        detail = doc.get("detail")  # FastAPI default shape
        if isinstance(detail, dict):
            return str(detail.get("code", "")), str(detail.get("message", ""))
        return f"http_{resp.status_code}", str(detail or "")
    return f"http_{resp.status_code}", ""


ProgressFn = Callable[[int, int, str], None]
