from __future__ import annotations

import gc
import threading
import time
import weakref

import pytest

from statecollect.workers import Cancelled, Outcome, Workers


def test_calls_run_in_the_order_given_and_give_their_results() -> None:
    ran: list[int] = []
    workers = Workers(1, "test")
    outcomes = [workers.submit(lambda number=number: ran.append(number) or number * 10) for number in range(5)]
    assert [outcome.result(timeout=10) for outcome in outcomes] == [0, 10, 20, 30, 40]
    assert ran == [0, 1, 2, 3, 4]
    workers.shutdown()


def test_what_a_call_raises_is_raised_by_its_result() -> None:
    def fail() -> None:
        raise ValueError("坏文件")

    workers = Workers(1, "test")
    outcome = workers.submit(fail)
    with pytest.raises(ValueError, match="坏文件"):
        outcome.result(timeout=10)
    assert outcome.done()
    workers.shutdown()


def test_no_more_threads_run_than_asked() -> None:
    running: list[int] = []
    most: list[int] = []
    lock = threading.Lock()

    def call() -> None:
        with lock:
            running.append(1)
            most.append(len(running))
        time.sleep(0.02)
        with lock:
            running.pop()

    workers = Workers(2, "test")
    outcomes = [workers.submit(call) for _ in range(8)]
    for outcome in outcomes:
        outcome.result(timeout=10)
    assert max(most) == 2
    workers.shutdown()


def test_shutting_down_drops_the_calls_not_begun_and_waits_for_the_one_running() -> None:
    begun, let_go = threading.Event(), threading.Event()
    ended: list[Outcome] = []
    workers = Workers(1, "test")
    running = workers.submit(lambda: begun.set() or let_go.wait(10) and "读完", ended.append)
    waiting = workers.submit(lambda: "never", ended.append)
    assert begun.wait(10)
    threading.Timer(0.1, let_go.set).start()
    workers.shutdown(wait=True)
    assert running.result(timeout=0) == "读完"  # ended before shutdown returned
    with pytest.raises(Cancelled):
        waiting.result(timeout=0)
    assert ended == [waiting, running]  # the dropped call is told at once; the running one when it ends
    assert workers.closed
    with pytest.raises(RuntimeError):
        workers.submit(lambda: None)


def test_shutting_down_without_waiting_returns_while_a_call_runs() -> None:
    begun, let_go = threading.Event(), threading.Event()
    workers = Workers(1, "test")
    outcome = workers.submit(lambda: begun.set() or let_go.wait(10))
    assert begun.wait(10)
    started = time.perf_counter()
    workers.shutdown(wait=False)
    assert time.perf_counter() - started < 5 and not outcome.done()
    let_go.set()
    assert outcome.result(timeout=10) is True


def test_a_thread_ends_once_nothing_waits_for_it() -> None:
    # a pool nobody shuts down must not keep the process from ending
    workers = Workers(2, "test-idle")
    workers.submit(lambda: None).result(timeout=10)
    deadline = time.monotonic() + 10
    while any(thread.name.startswith("test-idle") for thread in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not any(thread.name.startswith("test-idle") for thread in threading.enumerate())
    assert workers.submit(lambda: "again").result(timeout=10) == "again"  # a new thread takes the next call


def test_a_result_not_ready_in_time_says_so() -> None:
    let_go = threading.Event()
    workers = Workers(1, "test")
    outcome = workers.submit(lambda: let_go.wait(10))
    with pytest.raises(TimeoutError):
        outcome.result(timeout=0.01)
    let_go.set()
    workers.shutdown()


def test_a_failed_call_leaves_nothing_behind_without_the_cycle_collector() -> None:
    # validate runs with the collector off: the error's traceback must not keep the outcome, and with
    # it the failed read's values, alive
    class Values:
        pass

    kept: list[weakref.ref[Values]] = []

    def fail() -> None:
        values = Values()
        kept.append(weakref.ref(values))
        raise ValueError("坏文件")

    gc.disable()
    try:
        workers = Workers(1, "test")
        outcome = workers.submit(fail)
        with pytest.raises(ValueError):
            outcome.result(timeout=10)
        workers.shutdown()
        del outcome
        assert kept[0]() is None
    finally:
        gc.enable()


def test_a_thread_whose_callback_fails_makes_way_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    failures: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda failure: failures.append(failure.exc_value))

    def fail(outcome: Outcome) -> None:
        raise RuntimeError("callback")

    workers = Workers(1, "test")
    workers.submit(lambda: 1, fail).result(timeout=10)
    deadline = time.monotonic() + 10
    while not failures and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers.submit(lambda: "next").result(timeout=10) == "next"
    assert [type(failure) for failure in failures] == [RuntimeError]


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError):
        Workers(0, "test")
