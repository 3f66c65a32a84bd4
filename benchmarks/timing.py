"""How every benchmark here times a command: whole processes, from outside.

Wall time is the median of ``repeats`` runs; memory is the largest peak resident set of those
runs, as GNU ``time`` reports it for the process itself (a forked child's rusage would include
the benchmark's own pages, and ``RUSAGE_CHILDREN`` keeps the largest child so far).
"""

from __future__ import annotations

import compileall
import hashlib
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "statecollect"


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_mib: float
    runs: tuple[float, ...] = ()  # every run's seconds, in the order taken


def compile_package() -> None:
    """Compile the package's bytecode, as ``pip install`` does: a source checkout under
    PYTHONDONTWRITEBYTECODE=1 would compile it again in every timed process."""
    compileall.compile_dir(PACKAGE, quiet=1)


def statecollect(*args: str) -> list[str]:
    """The command line a user types: the ``statecollect`` program that ``pip install`` puts beside
    the interpreter (``python -m statecollect`` would also time runpy, 5 ms no user waits for)."""
    program = Path(sys.executable).with_name("statecollect")
    return [str(program), *args] if program.is_file() else [sys.executable, "-m", "statecollect", *args]


def measure(command: list[str], repeats: int = 1) -> Measured:
    """Median wall seconds and largest peak resident MiB of ``command`` over ``repeats`` runs."""
    return measure_together({"": command}, repeats)[""]


def measure_together(commands: dict[str, list[str]], repeats: int, every: Mapping[str, int] | None = None) -> dict[str, Measured]:
    """:func:`measure` for several commands, their runs taken in turn (A B C, A B C, ...): a machine
    that slows down for a while then slows all of them alike, and their ratios stay true.

    A command named in ``every`` runs only in every n-th of the ``repeats`` rounds, from the
    first: a slow one then spreads fewer runs over the same minutes as the others.
    Exit status 1 (problems found) counts as a run; anything else stops the benchmark.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    peaks: dict[str, list[float]] = {name: [] for name in commands}
    for round_number in range(repeats):
        for name, command in commands.items():
            if round_number % (every or {}).get(name, 1):
                continue
            start = time.perf_counter()
            done = subprocess.run(["/usr/bin/time", "-f", "%M", *command], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True)
            times[name].append(time.perf_counter() - start)
            if done.returncode not in (0, 1):
                raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr}")
            peaks[name].append(int(done.stderr.strip().splitlines()[-1]) / 1024)
    return {name: Measured(statistics.median(times[name]), max(peaks[name]), tuple(times[name])) for name in commands}


def core_contention() -> float:
    """How much longer the same work takes on two threads at once than on one (1.0: two free
    cores). validate parses on one core while it loads on the other, and the read uses one: on
    a machine whose second core is taken by others, their ratio grows, whatever the code."""
    data = b"x" * (32 << 20)

    def work() -> None:
        hashlib.sha256(data).digest()  # releases the interpreter lock: the threads run truly at once

    def timed(threads: int) -> float:
        running = [threading.Thread(target=work) for _ in range(threads)]
        start = time.perf_counter()
        for thread in running:
            thread.start()
        for thread in running:
            thread.join()
        return time.perf_counter() - start

    # in turn, as measure_together takes its runs: a change of load meanwhile touches both alike
    one, two = zip(*((timed(1), timed(2)) for _ in range(5)), strict=True)
    return statistics.median(two) / statistics.median(one)
