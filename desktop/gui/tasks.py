"""Running work off the GUI thread (after Anki's taskman and Picard's run_task).

* :meth:`TaskRunner.run` — store work, serialised on ONE worker thread; the result (or the
  exception) comes back to a callback on the GUI thread.
* :meth:`TaskRunner.run_long` — long work (sync, import, batch printing) with a progress
  dialog and a cancel button; the function receives a :class:`Job` to report progress and
  check for cancellation.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
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
    _finished = Signal(object, object, object)  # on_success, on_failure, future

    def __init__(self) -> None:
        super().__init__()
        self._store_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._long_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="long")
        self._pending = 0
        self._lock = threading.Lock()
        self._finished.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    @property
    def idle(self) -> bool:
        with self._lock:
            return self._pending == 0

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None,
        on_failure: Callable[[BaseException], None] | None,
    ) -> Future:
        with self._lock:
            self._pending += 1
        fut = pool.submit(fn)
        fut.add_done_callback(lambda f: self._finished.emit(on_success, on_failure, f))
        return fut

    def run(
        self,
        fn: Callable[[], Any],
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> Future:
        """Run ``fn()`` on the store worker; call back on the GUI thread."""
        return self._submit(self._store_pool, fn, on_success, on_failure)

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
            if box is not None:
                box.reset()
                box.deleteLater()
            if on_success:
                on_success(result)

        def finish_err(exc: BaseException) -> None:
            if box is not None:
                box.reset()
                box.deleteLater()
            if on_failure:
                on_failure(exc)
            elif not isinstance(exc, Cancelled):
                log.error("long task %r failed", title, exc_info=exc)

        self._submit(self._long_pool, lambda: fn(job), finish_ok, finish_err)
        return job

    def _dispatch(self, on_success: Any, on_failure: Any, fut: Future) -> None:
        with self._lock:
            self._pending -= 1
        exc = fut.exception()
        if exc is None:
            if on_success:
                on_success(fut.result())
        elif on_failure:
            on_failure(exc)
        else:
            log.error("background task failed", exc_info=exc)

    def shutdown(self) -> None:
        self._store_pool.shutdown(wait=True)
        self._long_pool.shutdown(wait=True, cancel_futures=True)
