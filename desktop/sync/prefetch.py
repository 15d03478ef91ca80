"""Asking the county for the next page while this one is being stored.

A first sync (tens of pages) and a long catch-up pull spend their time in turns: waiting
for the county, then storing the page. The next page's request is known as soon as a page
arrives (its page token or cursor), so one background thread asks for it while the page is
stored, and the wait and the storing overlap. Only one request is ever ahead; a page is
stored, and its cursor saved, strictly in order, so a power cut or a cut link loses
nothing: a page asked for but not yet stored was never marked as received and the next
sync asks for it again. Everything the fetch raises (offline, cancelled, refused) is raised
where the page is taken, as it would have been without the thread."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class Prefetch(Generic[A, R]):
    """``ask(request)`` starts fetching; ``take()`` returns the page (waiting for it)."""

    def __init__(self, fetch: Callable[[A], R]):
        self._fetch = fetch
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sync-page")
        self._pending: Future[R] | None = None

    def ask(self, request: A) -> None:
        if self._pending is not None:
            raise RuntimeError("one page ahead at most: take() the page asked for first")
        self._pending = self._pool.submit(self._fetch, request)

    def take(self) -> R:
        if self._pending is None:
            raise RuntimeError("no page was asked for")
        pending, self._pending = self._pending, None
        return pending.result()

    def __enter__(self) -> Prefetch[A, R]:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # On an error a page may still be on its way: it is not waited for (a slow link
        # would hold the clerk's sync) and is dropped when it comes; nothing was saved for it.
        self._pending = None
        self._pool.shutdown(wait=exc_type is None, cancel_futures=True)
