"""Rate limits (issue 14 item 5): registration-code tries and refused admin keys per address,
and requests per device. Over the limit the server answers 429 with ``Retry-After`` (the
desk already waits for it).

Kept in PostgreSQL (issue 18), not in a worker's memory: the server runs as several worker
processes and a caller meets any of them. Each (kind, key) is a sliding log of its uses in
the window (``rate_limit_take`` in ``db/county/0018_shared_state.sql``), in an UNLOGGED
table: no WAL for a request's count; after a crash or a failover the counts start again."""

from __future__ import annotations

from collections.abc import Callable

TAKE_SQL = "rate_limit_take(%s, %s, %s, %s, %s, %s, %s)"


class RateLimiter:
    def __init__(self, pool: Callable[[], object], clock: Callable[[], float]):
        """``pool``: returns the connection pool (it is opened after the app is built)."""
        self.pool, self.clock = pool, clock

    def args(self, kind: str, key: str, limit: int, window: float, *, count=True, check=True):
        """Parameters of :data:`TAKE_SQL`, for a query that checks the limit in passing."""
        return (kind, key, limit, float(window), float(self.clock()), count, check)

    def _call(self, args: tuple, conn=None) -> int | None:
        if conn is None:
            with self.pool().connection() as c:
                return self._call(args, c)
        row = conn.execute("SELECT " + TAKE_SQL + " AS wait", args).fetchone()
        return row["wait"] if isinstance(row, dict) else row[0]

    def wait(self, kind: str, key: str, limit: int, window: float, conn=None) -> int | None:
        """Seconds to wait when ``key`` already used its ``limit`` in ``window``, else None
        (nothing is counted: see :meth:`hit`)."""
        return self._call(self.args(kind, key, limit, window, count=False), conn)

    def hit(self, kind: str, key: str, window: float, conn=None) -> None:
        self._call(self.args(kind, key, 0, window, check=False), conn)

    def take(self, kind: str, key: str, limit: int, window: float, conn=None) -> int | None:
        """Count one use; seconds to wait when it is over the limit (the use not counted)."""
        return self._call(self.args(kind, key, limit, window), conn)


def forget_old(conn, now: float) -> int:
    """Drop the logs whose every use left its window (the refresher's round)."""
    return conn.execute("DELETE FROM rate_limit WHERE last_at < %s - win", (now,)).rowcount
