"""The task runner: results and errors come back on the GUI thread, and the task's closure
(which often holds widgets) is released there too — never on a worker thread."""

from __future__ import annotations

import threading

import pytest

pytest.importorskip("pytestqt")


class Sentinel:
    """Records the thread that releases it (stands in for a widget held by a closure)."""

    def __init__(self, seen: list[str]):
        self.seen = seen

    def __del__(self):
        self.seen.append(threading.current_thread().name)


@pytest.fixture
def runner(qtbot):
    from desktop.gui.app import create_qapplication
    from desktop.gui.tasks import TaskRunner

    create_qapplication()
    r = TaskRunner()
    yield r
    r.shutdown()
    r.deleteLater()  # destroyed by Qt now, on this thread, not by the collector at exit
    qtbot.wait(10)


def _submit_holding_sentinel(runner, seen, results, *, fail: bool) -> None:
    sentinel = Sentinel(seen)

    def work():
        assert sentinel is not None
        if fail:
            raise ValueError("坏数据")
        return threading.current_thread().name

    runner.run(work, results.append, results.append)


@pytest.mark.parametrize("fail", [False, True])
def test_closure_is_released_on_the_gui_thread(runner, qtbot, fail):
    seen: list[str] = []
    results: list = []
    for _ in range(20):
        _submit_holding_sentinel(runner, seen, results, fail=fail)
    qtbot.waitUntil(lambda: runner.idle and len(results) == 20, timeout=10_000)
    qtbot.waitUntil(lambda: len(seen) == 20, timeout=5_000)
    assert set(seen) == {threading.main_thread().name}
    if fail:
        assert all(isinstance(r, ValueError) for r in results)
    else:
        assert all(name.startswith("store") for name in results)


def test_failure_without_handler_is_logged_not_raised(runner, qtbot, caplog):
    runner.run(lambda: 1 / 0)
    qtbot.waitUntil(lambda: runner.idle, timeout=5_000)
    assert "background task failed" in caplog.text


def test_long_job_can_be_cancelled(runner, qtbot):
    from desktop.gui.tasks import Cancelled

    started = threading.Event()
    outcome: list = []

    def work(job):
        job.progress(1, 10, "第1条")
        started.set()
        while True:
            job.raise_if_cancelled()
            threading.Event().wait(0.01)

    job = runner.run_long(None, "测试", work, outcome.append, outcome.append, dialog=False)
    assert started.wait(5)
    job.cancel()
    qtbot.waitUntil(lambda: bool(outcome), timeout=5_000)
    assert isinstance(outcome[0], Cancelled)


def test_cyclic_garbage_is_collected_on_the_gui_thread(qtbot):
    import gc

    from desktop.gui.app import GuiThreadGarbageCollector, create_qapplication

    app = create_qapplication()
    assert not gc.isenabled()  # no automatic collection on whatever thread allocates
    collector = next(c for c in app.children() if isinstance(c, GuiThreadGarbageCollector))
    seen: list[str] = []

    class Cycle:
        def __init__(self):
            self.me = self
            self.sentinel = Sentinel(seen)

    for _ in range(collector.threshold[0] + 10):
        Cycle()
    qtbot.waitUntil(lambda: bool(seen), timeout=5_000)
    assert set(seen) == {threading.main_thread().name}
