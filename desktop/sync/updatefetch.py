"""Downloads for the application's signed updates (issue 17): a fetcher for python-tuf (the
client tufup builds on) over the desk's own HTTP stack — https only with the county's CA
pinned, as every other request — that **resumes** a cut download where it stopped (HTTP
Range), across a restart too (the bytes so far kept in a ``.part`` file per release file),
and keeps to a byte rate (low priority beside the clerk's own work on a 3G link). tuf
checks the whole file's length and hashes after, so resuming never trusts the bytes kept."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
from tuf.api import exceptions as tuf_errors
from tuf.ngclient import FetcherInterface

from core import syncproto as sp
from desktop import __version__
from desktop.sync.transport import _ssl_context, check_url, load_ca

CHUNK = 64 * 1024
MAX_METADATA = 16 * 1024 * 1024  # no signed metadata of ours comes near it


class ResumingFetcher(FetcherInterface):
    def __init__(
        self,
        partial_dir: Path,
        *,
        ca_pem: str | None = None,
        max_rate: int | None = None,
        cancel: threading.Event | None = None,
        tries: int = 12,
        backoff: float = 0.5,
        timeout: float = 30.0,
    ):
        self.partial_dir = partial_dir
        self.max_rate = max_rate  # bytes per second, None: no cap
        self.cancel = cancel or threading.Event()
        self.tries = tries
        self.backoff = backoff
        self.resumed = 0  # how many times a download went on from where it was cut
        self._progress: Callable[[int], None] = lambda n: None
        self._client = httpx.Client(
            verify=load_ca(ca_pem) if ca_pem else _ssl_context(),
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            headers={
                sp.PROTOCOL_HEADER: str(sp.PROTOCOL_VERSION),
                "User-Agent": f"township-desk/{__version__}",
            },
        )

    def close(self) -> None:
        self._client.close()

    def attach_progress_hook(self, hook: Callable, bytes_expected: int) -> None:
        """tufup's progress interface: ``hook(bytes_downloaded=…, bytes_expected=…)``."""
        seen = [0]

        def progress(n: int) -> None:
            seen[0] += n
            hook(bytes_downloaded=seen[0], bytes_expected=bytes_expected)

        self._progress = progress

    def _fetch(self, url: str) -> Iterator[bytes]:
        check_url(url)
        if "/targets/" not in url:  # metadata: small and replaced; read whole, then hand on
            return iter([self._whole(url)])
        # release files keep their partial bytes across cuts and restarts
        part = self.partial_dir / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".part")
        self.partial_dir.mkdir(parents=True, exist_ok=True)
        return self._chunks(url, part)

    def _whole(self, url: str) -> bytes:
        for failures in range(1, self.tries + 1):
            self._check_cancel()
            try:
                with self._client.stream("GET", url) as resp:
                    if resp.status_code >= 400:
                        raise tuf_errors.DownloadHTTPError(
                            f"HTTP {resp.status_code}", resp.status_code
                        )
                    body = bytearray()
                    for chunk in resp.iter_bytes(CHUNK):
                        body += chunk
                        if len(body) > MAX_METADATA:
                            raise tuf_errors.DownloadLengthMismatchError(f"{url}: too long")
                    return bytes(body)
            except httpx.TransportError as e:
                if failures >= self.tries:
                    raise tuf_errors.DownloadError(f"{url}: {e}") from e
                self._wait(failures)
        raise tuf_errors.DownloadError(url)  # not reached

    def _chunks(self, url: str, part: Path) -> Iterator[bytes]:
        have = part.stat().st_size if part.exists() else 0
        if have:
            with part.open("rb") as f:
                for block in iter(lambda: f.read(CHUNK), b""):
                    self._progress(len(block))
                    yield block
        failures = 0
        started, sent = time.monotonic(), 0
        while True:
            self._check_cancel()
            at_start = have
            headers = {"Range": f"bytes={have}-"} if have else {}
            try:
                with self._client.stream("GET", url, headers=headers) as resp:
                    if resp.status_code == 416 and have:
                        break  # everything was already here
                    if resp.status_code >= 400:
                        raise tuf_errors.DownloadHTTPError(
                            f"HTTP {resp.status_code}", resp.status_code
                        )
                    if have and resp.status_code != 206:
                        part.unlink(missing_ok=True)  # the whole file again: start over
                        raise tuf_errors.DownloadError("range not honoured")
                    with part.open("ab") as sink:
                        for chunk in resp.iter_bytes(CHUNK):
                            sink.write(chunk)
                            sink.flush()
                            have += len(chunk)
                            self._progress(len(chunk))
                            yield chunk
                            sent += len(chunk)
                            self._throttle(started, sent)
                break
            except httpx.TransportError as e:
                failures = 1 if have > at_start else failures + 1  # bytes came: line is up
                if failures >= self.tries:
                    raise tuf_errors.DownloadError(f"{url}: {e}") from e
                self.resumed += 1
                self._wait(failures)
        part.unlink(missing_ok=True)  # complete: tuf verifies it whole now; a retry starts clean

    def _check_cancel(self) -> None:
        if self.cancel.is_set():
            raise tuf_errors.DownloadError("cancelled")

    def _wait(self, failures: int) -> None:
        if self.cancel.wait(min(self.backoff * 2 ** (failures - 1), 10.0)):
            raise tuf_errors.DownloadError("cancelled")

    def _throttle(self, started: float, sent: int) -> None:
        if not self.max_rate:
            return
        ahead = sent / self.max_rate - (time.monotonic() - started)
        if ahead > 0 and self.cancel.wait(ahead):
            raise tuf_errors.DownloadError("cancelled")


def forget_partials(partial_dir: Path) -> None:
    """Drop every kept partial download (after a file was refused: start clean)."""
    for p in partial_dir.glob("*.part"):
        p.unlink(missing_ok=True)
