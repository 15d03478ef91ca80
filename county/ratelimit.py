"""Rate limits (issue 14 item 5): registration-code tries and refused admin keys per address,
and requests per device. Over the limit the server answers 429 with ``Retry-After`` (the
desk already waits for it). Sliding windows kept in memory, per server process: a limit is
a brake on guessing and runaway clients, not an accounting."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Callable


class RateLimiter:
    def __init__(self, clock: Callable[[], float]):
        self.clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, q: deque[float], now: float, window: float) -> None:
        while q and q[0] <= now - window:
            q.popleft()

    def wait(self, kind: str, key: str, limit: int, window: float) -> int | None:
        """Seconds to wait when ``key`` already used its ``limit`` in ``window``, else None
        (nothing is counted: see :meth:`hit`)."""
        now = self.clock()
        with self._lock:
            q = self._hits[(kind, key)]
            self._trim(q, now, window)
            if len(q) >= limit:
                return int(q[0] + window - now) + 1
        return None

    def hit(self, kind: str, key: str, window: float) -> None:
        now = self.clock()
        with self._lock:
            q = self._hits[(kind, key)]
            self._trim(q, now, window)
            q.append(now)

    def take(self, kind: str, key: str, limit: int, window: float) -> int | None:
        """Count one use; seconds to wait when it is over the limit (the use not counted)."""
        now = self.clock()
        with self._lock:
            q = self._hits[(kind, key)]
            self._trim(q, now, window)
            if len(q) >= limit:
                return int(q[0] + window - now) + 1
            q.append(now)
        return None
