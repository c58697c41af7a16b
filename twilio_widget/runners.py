"""Where the phone's backend work runs: in place, or on one worker thread.

A backend that answers from memory (the sandbox) is asked in place, so demos and tests stay in
step without waiting. A backend on the network is asked from one worker thread, in order, so
the kernel's message loop keeps answering the panel. The phone is given one of these (or picks
by ``Backend.in_memory``); :class:`Background` adds what every caller wants on top: a failure
shows on the panel instead of vanishing with its thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol, TypeVar

from .backends.base import TwilioError

T = TypeVar("T")
logger = logging.getLogger(__name__)


class Runner(Protocol):
    """An executor-like object: ``submit`` runs work now or later and returns its future."""

    #: True when ``submit`` has run the work by the time it returns.
    in_place: bool

    def submit(self, work: Callable[[], T]) -> Future[T]: ...

    def wait_until_idle(self, timeout: float | None = 30) -> None: ...

    def shutdown(self) -> None: ...


class InlineRunner:
    """Runs work at once, in the caller's thread; the returned future is already done."""

    in_place = True

    def submit(self, work: Callable[[], T]) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(work())
        except Exception as exc:  # kept in the future, as a worker thread would keep it
            future.set_exception(exc)
        return future

    def wait_until_idle(self, timeout: float | None = 30) -> None:
        """Nothing is ever waiting."""

    def shutdown(self) -> None:
        """Nothing to stop."""


class WorkerRunner:
    """Runs work on one thread of its own (started on first use), one task at a time, in order."""

    in_place = False

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, work: Callable[[], T]) -> Future[T]:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="twilio-phone")
        return self._pool.submit(work)

    def wait_until_idle(self, timeout: float | None = 30) -> None:
        if self._pool is not None:
            self._pool.submit(lambda: None).result(timeout)

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


class Background:
    """A runner whose failures are reported (``report`` shows them on the panel)."""

    def __init__(self, runner: Runner, report: Callable[[Exception], Any]) -> None:
        self.runner = runner
        self._report = report

    @property
    def in_place(self) -> bool:
        return self.runner.in_place

    def run(self, work: Callable[[], T]) -> Future[T]:
        future = self.runner.submit(work)
        future.add_done_callback(self._report_failure)
        return future

    def wait_until_idle(self, timeout: float | None = 30) -> None:
        """Block until the background work queued so far is done (scripts and tests)."""
        self.runner.wait_until_idle(timeout)

    def shutdown(self) -> None:
        self.runner.shutdown()

    def _report_failure(self, future: Future) -> None:
        if future.cancelled():  # the phone was closed with work still queued
            return
        exc = future.exception()
        if exc is None:
            return
        if isinstance(exc, TwilioError | ValueError):
            self._report(exc)
        else:
            logger.error("background work failed", exc_info=exc)
            self._report(RuntimeError(f"{type(exc).__name__}: {exc}"))
