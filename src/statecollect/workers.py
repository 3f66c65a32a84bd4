"""Worker threads for reading workbooks, and the outcome of each call they run.

concurrent.futures would do, but it imports logging, and the reading starts before anything
else (see :mod:`statecollect.batch_files`): 7 ms before the first parse could begin. The
reading needs little: calls run in order on a few threads, a caller waiting for any of them
to end, and the calls not yet begun dropped when it stops. A thread lives only while calls
wait for it, so that a pool nobody shuts down never keeps the process from ending.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable

TYPE_CHECKING = False  # typing itself is not imported on the way to the first parse
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Cancelled", "Outcome", "Workers"]


class Cancelled(Exception):
    """The call was dropped before it began."""


class Outcome:
    """What a call run on a worker thread returned or raised, once it has ended."""

    __slots__ = ("_done", "_error", "_value", "_when_done")

    def __init__(self, when_done: Callable[[Outcome], None] | None = None) -> None:
        self._done = threading.Event()
        self._value: Any = None
        self._error: BaseException | None = None
        self._when_done = when_done

    def done(self) -> bool:
        return self._done.is_set()

    def result(self, timeout: float | None = None) -> Any:
        """The call's return value, once it has ended; what it raised is raised here."""
        if not self._done.wait(timeout):
            raise TimeoutError("the call has not ended")
        if self._error is None:
            return self._value
        try:
            raise self._error
        finally:
            # the error's traceback now holds this frame, which holds the outcome, which holds the
            # error: with the cycle collector off (validate) none of them, nor the failed read's
            # frames, would ever be freed
            self = None  # type: ignore[assignment]  # noqa: PLW0642

    def run(self, call: Callable[[], Any]) -> None:
        """Run ``call`` and keep what it returns or raises; ``when_done`` must not raise."""
        try:
            self._value = call()
        except BaseException as error:  # noqa: BLE001 - handed to whoever asks for the result, as concurrent.futures does
            self._error = error
        self._end()
        self = None  # type: ignore[assignment]  # noqa: PLW0642 - as in result(): the traceback holds this frame

    def _cancel(self) -> None:
        if not self._done.is_set():
            self._error = Cancelled()
            self._end()

    def _end(self) -> None:
        self._done.set()
        # let go of the callback: it is often a method of whoever keeps this outcome, and the two
        # would hold each other with the cycle collector off
        when_done, self._when_done = self._when_done, None
        if when_done is not None:
            when_done(self)


class Workers:
    """Up to ``count`` threads running submitted calls in the order given."""

    def __init__(self, count: int, name: str) -> None:
        if count < 1:
            raise ValueError("at least one thread is needed")
        self._count = count
        self._name = name
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Outcome, Callable[[], Any]]] = deque()
        self._threads: list[threading.Thread] = []
        self._started = 0
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def submit(self, call: Callable[[], Any], when_done: Callable[[Outcome], None] | None = None) -> Outcome:
        """Run ``call`` on a worker thread; ``when_done`` is called with its outcome as it ends."""
        outcome = Outcome(when_done)
        with self._lock:
            if self._closed:
                raise RuntimeError("the workers have been shut down")
            self._waiting.append((outcome, call))
            if len(self._threads) < self._count:
                self._started += 1
                thread = threading.Thread(target=self._work, name=f"{self._name}-{self._started}")
                thread.start()
                self._threads.append(thread)
        return outcome

    def shutdown(self, wait: bool = True) -> None:
        """Drop the calls not yet begun (their outcomes raise :class:`Cancelled`); with ``wait``, let
        those running end first."""
        with self._lock:
            self._closed = True
            dropped = list(self._waiting)
            self._waiting.clear()
            running = list(self._threads)
        for outcome, _ in dropped:
            outcome._cancel()
        if wait:
            current = threading.current_thread()
            for thread in running:
                if thread is not current:
                    thread.join()

    def _work(self) -> None:
        me = threading.current_thread()
        try:
            while True:
                with self._lock:
                    if not self._waiting:
                        # under the lock that submit() counts threads by: a call queued next gets a new thread
                        self._threads.remove(me)
                        return
                    outcome, call = self._waiting.popleft()
                outcome.run(call)
                # a failed call's traceback keeps run()'s frame, whose caller is this frame: it must not
                # hold the outcome either (concurrent.futures does the same)
                del outcome, call
        except BaseException:
            with self._lock:  # a when_done that raised: the thread must not stay counted
                self._threads.remove(me)
            raise
