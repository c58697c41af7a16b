"""The sandbox's clock: callbacks run at given times, on the wall clock (demos: a call rings,
then connects) or on a virtual one that only :meth:`Scheduler.advance` moves (tests: nothing
happens until told)."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)


class Scheduler:
    """Runs callbacks at given clock times, on the wall clock or on a virtual one."""

    def __init__(self, realtime: bool, start: datetime) -> None:
        self.realtime = realtime
        self._virtual_now = start
        self._queue: list[tuple[float, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def now(self) -> datetime:
        if self.realtime:
            return datetime.now(UTC)
        return self._virtual_now

    def call_later(self, seconds: float, fn: Callable[[], None]) -> None:
        due = self.now().timestamp() + seconds
        with self._cond:
            heapq.heappush(self._queue, (due, next(self._seq), fn))
            self._cond.notify()
        if self.realtime:
            self._ensure_thread()

    def advance(self, seconds: float) -> None:
        if self.realtime:
            raise RuntimeError("advance() moves the virtual clock; this sandbox runs in real time")
        target = self._virtual_now.timestamp() + seconds
        while True:
            with self._cond:
                if not self._queue or self._queue[0][0] > target:
                    break
                due, _, fn = heapq.heappop(self._queue)
            self._virtual_now = max(self._virtual_now, datetime.fromtimestamp(due, UTC))
            fn()
        self._virtual_now = datetime.fromtimestamp(target, UTC)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify()

    def _ensure_thread(self) -> None:
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sandbox-clock", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                    not self._queue or self._queue[0][0] > time.time()
                ):
                    timeout = self._queue[0][0] - time.time() if self._queue else None
                    self._cond.wait(timeout)
                if self._closed:
                    return
                _, _, fn = heapq.heappop(self._queue)
            try:
                fn()
            except Exception:  # the clock keeps ticking for every other call and message
                logger.exception("sandbox task failed")

