"""Running work off the GUI thread (after Anki's taskman and Picard's run_task).

* :meth:`TaskRunner.run` — store work, serialised on ONE worker thread; the result (or the
  exception) comes back to a callback on the GUI thread.
* :meth:`TaskRunner.run_long` — long work (sync, import, batch printing) with a progress
  dialog and a cancel button; the function receives a :class:`Job` to report progress and
  check for cancellation.
"""

from __future__ import annotations

import itertools
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

log = logging.getLogger(__name__)


class Cancelled(Exception):
    """Raised inside a long job when the clerk pressed 取消."""


class Job(QObject):
    """Handle given to a long job: thread-safe progress and cancellation."""

    progressed = Signal(int, int, str)  # done, total, text

    def __init__(self) -> None:
        super().__init__()
        self._cancel = threading.Event()

    def progress(self, done: int, total: int, text: str = "") -> None:
        self.progressed.emit(int(done), int(total), text)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


class TaskRunner(QObject):
    """Every callable, callback and result of a task is held in ``_jobs`` and released on the
    GUI thread in :meth:`_dispatch`. A worker thread must never drop the last reference to a
    closure that holds a widget: Python would then destroy the Qt object off the GUI thread,
    which crashes Qt (seen as a segfault under load)."""

    _finished = Signal(int)  # job id

    def __init__(self) -> None:
        super().__init__()
        self._store_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._long_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="long")
        self._lock = threading.Lock()
        # job id -> [fn, on_success, on_failure, outcome]; outcome = (ok, result-or-exception)
        self._jobs: dict[int, list[Any]] = {}
        self._ids = itertools.count(1)
        self._finished.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)
        self._closed = False
        self._running_long: set[Job] = set()

    @property
    def idle(self) -> bool:
        with self._lock:
            return not self._jobs

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[BaseException], None] | None,
    ) -> None:
        if self._closed:
            # the window is closing: a callback of the last job may ask for more work (a
            # refresh after a save); there is nobody left to show it, so it is not started
            log.debug("task not started: the task runner is shut down")
            return
        job_id = next(self._ids)
        with self._lock:
            self._jobs[job_id] = [fn, on_success, on_failure, None]
        pool.submit(self._work, job_id)

    def _work(self, job_id: int) -> None:
        """On the worker: run, store the outcome, then signal. The call happens in its own
        frame so no local reference to the task outlives it on this thread."""
        self._execute(job_id)
        self._finished.emit(job_id)

    def _execute(self, job_id: int) -> None:
        with self._lock:
            entry = self._jobs[job_id]
        try:
            outcome = (True, entry[0]())
        except BaseException as exc:  # handed to the GUI thread, never swallowed
            outcome = (False, exc)
        with self._lock:
            entry[3] = outcome

    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Run ``fn()`` on the store worker; call back on the GUI thread."""
        self._submit(self._store_pool, fn, on_success, on_failure)

    def run_long(
        self,
        parent: QWidget | None,
        title: str,
        fn: Callable[[Job], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
        *,
        dialog: bool = True,
    ) -> Job:
        """Run ``fn(job)`` on a background thread with a progress dialog and 取消."""
        job = Job()
        self._running_long.add(job)
        box: QProgressDialog | None = None
        if dialog:
            box = QProgressDialog(title, self.tr("取消"), 0, 0, parent)
            box.setWindowTitle(title)
            box.setWindowModality(Qt.WindowModality.WindowModal)
            box.setMinimumDuration(300)
            box.canceled.connect(job.cancel)

            def show_progress(done: int, total: int, text: str) -> None:
                box.setMaximum(max(total, 0))
                box.setValue(min(done, total) if total else 0)
                if text:
                    box.setLabelText(text)

            job.progressed.connect(show_progress, Qt.ConnectionType.QueuedConnection)

        def finish_ok(result: Any) -> None:
            self._running_long.discard(job)
            if box is not None:
                box.reset()
                box.deleteLater()
            if on_success:
                on_success(result)

        def finish_err(exc: BaseException) -> None:
            self._running_long.discard(job)
            if box is not None:
                box.reset()
                box.deleteLater()
            if on_failure:
                on_failure(exc)
            elif not isinstance(exc, Cancelled):
                log.error("long task %r failed", title, exc_info=exc)

        self._submit(self._long_pool, lambda: fn(job), finish_ok, finish_err)
        return job

    def _dispatch(self, job_id: int) -> None:
        with self._lock:
            entry = self._jobs.pop(job_id, None)
        if entry is None:  # already delivered by shutdown()
            return
        fn, on_success, on_failure, (ok, value) = entry
        entry.clear()
        del fn  # the task's closure is released here, on the GUI thread
        try:
            if ok:
                if on_success:
                    on_success(value)
            elif on_failure:
                on_failure(value)
            else:
                log.error("background task failed", exc_info=value)
        finally:
            if not ok:
                # the traceback's frames hold the task's function and locals (often widgets):
                # drop them now, on this thread, after the callbacks have shown and logged it
                traceback.clear_frames(value.__traceback__)
                value.__traceback__ = None

    def shutdown(self) -> None:
        """In order: refuse new work, let the store job that is running finish (a save is
        committed, never cut), cancel long jobs that have not started, then deliver the
        finished jobs' callbacks here on the GUI thread so nothing is left to a worker."""
        if self._closed:
            return
        self._closed = True
        for job in self._running_long:
            job.cancel()
        self._store_pool.shutdown(wait=True)
        self._long_pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            pending = list(self._jobs)
        for job_id in pending:
            with self._lock:
                done = job_id in self._jobs and self._jobs[job_id][3] is not None
            if done:
                self._dispatch(job_id)
