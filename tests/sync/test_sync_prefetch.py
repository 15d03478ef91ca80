"""The next page is asked for while this one is stored (desktop.sync.prefetch): pages are
still stored in order and exactly once, errors come out where the page is taken, and an
error does not wait for a page still on its way."""

from __future__ import annotations

import threading
import time

import pytest
from sync_checks import county_checksum, import_roster_of

from desktop.services import sync as svc
from desktop.store import syncstate as st
from desktop.sync.prefetch import Prefetch


def test_a_page_is_fetched_in_the_background_and_its_error_comes_out_at_take():
    started = threading.Event()
    release = threading.Event()
    callers = []

    def fetch(n):
        callers.append(threading.current_thread().name)
        started.set()
        release.wait(5)
        if n == 2:
            raise ConnectionError("cut")
        return n * 10

    with Prefetch(fetch) as pages:
        t0 = time.perf_counter()
        pages.ask(1)
        assert started.wait(5) and time.perf_counter() - t0 < 1  # ask() does not wait
        with pytest.raises(RuntimeError):
            pages.ask(9)  # one page ahead at most
        release.set()
        assert pages.take() == 10
        pages.ask(2)
        with pytest.raises(ConnectionError):
            pages.take()
    assert callers and all(name.startswith("sync-page") for name in callers)


def test_an_error_while_storing_does_not_wait_for_the_page_on_its_way():
    release = threading.Event()
    t0 = time.perf_counter()
    with pytest.raises(OSError):
        with Prefetch(lambda n: release.wait(30)) as pages:
            pages.ask(1)
            raise OSError("the disk is full")  # storing the page before failed
    assert time.perf_counter() - t0 < 5
    release.set()


@pytest.mark.postgres
def test_first_sync_asks_for_the_next_page_while_storing_and_stores_each_once(
    desks, county_server, monkeypatch
):
    from desktop.sync import engine as engine_mod

    import_roster_of(county_server, 26, surname="钱", born="1960-02", sex="female")
    a = desks("SP01", "东乡卫生院")
    asked, fetched, ahead = [], [], []
    real_page, real_apply = engine_mod.SyncEngine._snapshot_page, engine_mod.apply_page

    class Recording(engine_mod.Prefetch):
        def ask(self, request):  # the engine's thread, before it stores the page in hand
            asked.append(request)
            return super().ask(request)

    def snapshot_page(self, dev, token):
        fetched.append(threading.current_thread().name)
        return real_page(self, dev, token)

    def apply_page(store, db, changes, counts, hooks):
        ahead.append(len(asked))  # requests made when this page is stored
        return real_apply(store, db, changes, counts, hooks)

    monkeypatch.setattr(engine_mod, "Prefetch", Recording)
    monkeypatch.setattr(engine_mod.SyncEngine, "_snapshot_page", snapshot_page)
    monkeypatch.setattr(engine_mod, "apply_page", apply_page)
    e = engine_mod.SyncEngine(
        a.store, a.data_dir, operator_id=a.actor.operator_id, snapshot_limit=4, hooks=svc.HOOKS
    )
    try:
        s = e.sync()
    finally:
        e.close()
    pages = len(fetched)
    assert all(name.startswith("sync-page") for name in fetched)
    snapshot_asks = [r for r in asked if not hasattr(r, "cursor")]
    assert pages >= 7 and len(set(snapshot_asks)) == len(snapshot_asks) == pages  # once each
    # while page k (1-based) is stored, page k+1 has already been asked for
    assert ahead[: pages - 1] == list(range(2, pages + 1))
    assert s.snapshot == county_checksum(county_server, a.sp_id)[0]
    assert a.store.query_one("SELECT COUNT(*) AS n FROM person")["n"] == 26
    assert st.snapshot_state(a.store)[0]
    assert st.mirror_checksum(a.store) == county_checksum(county_server, a.sp_id)
