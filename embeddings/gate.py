"""One model computation at a time per process, questions before bulk embedding.

PyTorch runs each forward pass on all cores. Two passes at once (two questions, or a
question and an upload's embedding) oversubscribe the cores, and the threads spin
against each other: on 2 cores a question vector took 590 ms instead of 45 ms while an
ingest was embedding. :class:`ComputeGate` lets one computation run at a time and
orders the waiting ones: *foreground* work (a question: encode it, read its passages)
goes before *background* work (an ingest's next batch of chunks). A background holder
keeps the gate for one batch only, so a question waits at most one batch, and the
ingest goes on between questions.

The gate is reentrant for the thread that holds it (an ``ask_batch`` inside an ``ask``).

A server sharing its cores among many users does better with more, narrower
computations: on 2 cores, two questions at once on one thread each took 266 to 275 ms
a question, one at a time on two threads 310 to 403 ms (docs/reliability.md). :func:`share_cores`
sets that up: one torch thread per computation and as many slots as cores. A one-shot
command keeps the default: one slot, every core for it (lowest latency for one question).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ComputeGate:
    """A reentrant semaphore with two priorities: foreground before background.

    Args:
        slots: How many computations may run at once (default 1).
    """

    def __init__(self, slots: int = 1) -> None:
        self._cond = threading.Condition()
        self._slots = max(1, int(slots))
        self._holders: dict[int, int] = {}  # thread id -> depth
        self._foreground_waiting = 0

    @property
    def slots(self) -> int:
        """How many computations may run at once."""
        return self._slots

    def configure(self, slots: int) -> None:
        """Allow ``slots`` computations at once (takes effect for the next waiter)."""
        with self._cond:
            self._slots = max(1, int(slots))
            self._cond.notify_all()

    def _acquire(self, foreground: bool) -> None:
        me = threading.get_ident()
        with self._cond:
            if me in self._holders:
                self._holders[me] += 1
                return
            if foreground:
                self._foreground_waiting += 1
                try:
                    while len(self._holders) >= self._slots:
                        self._cond.wait()
                finally:
                    self._foreground_waiting -= 1
            else:
                while len(self._holders) >= self._slots or self._foreground_waiting:
                    self._cond.wait()
            self._holders[me] = 1

    def _release(self) -> None:
        me = threading.get_ident()
        with self._cond:
            if me not in self._holders:
                raise RuntimeError("the compute gate is released by a thread that does not hold it")
            self._holders[me] -= 1
            if self._holders[me] == 0:
                del self._holders[me]
                self._cond.notify_all()

    @contextmanager
    def foreground(self) -> Iterator[None]:
        """Hold the gate for latency-sensitive work (answering a question)."""
        self._acquire(True)
        try:
            yield
        finally:
            self._release()

    @contextmanager
    def background(self) -> Iterator[None]:
        """Hold the gate for one slice of bulk work; waits while questions wait."""
        self._acquire(False)
        try:
            yield
        finally:
            self._release()

    @property
    def busy(self) -> bool:
        """Whether some thread holds the gate now."""
        return self.running > 0

    @property
    def running(self) -> int:
        """How many computations hold the gate now."""
        with self._cond:
            return len(self._holders)


COMPUTE = ComputeGate()
"""The process's gate, shared by every assistant and ingest in it."""


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return max(1, os.cpu_count() or 1)


def share_cores(cores: int | None = None) -> int:
    """Set this process up to serve many users: one torch thread per computation.

    As many computations may run at once as there are cores. Call it once at server
    start (``qa chat`` does), before the first question. Returns the number of slots.
    """
    import torch

    n = cores if cores is not None else usable_cores()
    torch.set_num_threads(1)
    COMPUTE.configure(n)
    return n
