"""The compute gate: one holder at a time, questions before bulk work, reentrant."""

from __future__ import annotations

import threading
import time

import pytest

from embeddings.gate import ComputeGate


def most_at_once(gate: ComputeGate, kinds: list[bool], rounds: int, pause: float) -> int:
    """Threads (foreground if True) entering ``gate`` together; the most inside at once."""
    inside = 0
    most = 0
    lock = threading.Lock()
    barrier = threading.Barrier(len(kinds))

    def work(foreground: bool) -> None:
        nonlocal inside, most
        barrier.wait(5)
        for _ in range(rounds):
            with gate.foreground() if foreground else gate.background():
                with lock:
                    inside += 1
                    most = max(most, inside)
                time.sleep(pause)
                with lock:
                    inside -= 1

    threads = [threading.Thread(target=work, args=(kind,)) for kind in kinds]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return most


def test_one_holder_at_a_time():
    gate = ComputeGate()
    assert most_at_once(gate, [i % 2 == 0 for i in range(6)], rounds=20, pause=0.0005) == 1
    assert not gate.busy


def test_waiting_foreground_goes_before_waiting_background():
    gate = ComputeGate()
    order: list[str] = []
    release = threading.Event()
    holding = threading.Event()

    def holder() -> None:
        with gate.background():
            holding.set()
            release.wait(5)

    def waiter(name: str, foreground: bool, started: threading.Event) -> None:
        started.set()
        with gate.foreground() if foreground else gate.background():
            order.append(name)

    h = threading.Thread(target=holder)
    h.start()
    assert holding.wait(5)
    started_bg, started_fg = threading.Event(), threading.Event()
    bg = threading.Thread(target=waiter, args=("ingest", False, started_bg))
    bg.start()
    assert started_bg.wait(5)
    time.sleep(0.05)  # the ingest batch is waiting first
    fg = threading.Thread(target=waiter, args=("question", True, started_fg))
    fg.start()
    assert started_fg.wait(5)
    deadline = time.monotonic() + 5
    while gate._foreground_waiting == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # until the question is waiting too
    assert gate._foreground_waiting == 1
    release.set()
    for t in (h, bg, fg):
        t.join(5)
    assert order == ["question", "ingest"]


def test_reentrant_for_its_holder_and_released_after():
    gate = ComputeGate()
    with gate.foreground():
        with gate.foreground(), gate.background():
            assert gate.busy
        assert gate.busy
    assert not gate.busy
    # another thread can take it now
    got = []
    t = threading.Thread(target=lambda: got.append(gate.background().__enter__() is None))
    t.start()
    t.join(5)
    assert got == [True]


def test_released_on_exception():
    gate = ComputeGate()
    with pytest.raises(ValueError), gate.foreground():
        raise ValueError("boom")
    assert not gate.busy


def test_release_by_a_stranger_is_refused():
    gate = ComputeGate()
    with pytest.raises(RuntimeError):
        gate._release()


def test_slots_allow_that_many_at_once_and_no_more():
    gate = ComputeGate(slots=2)
    assert most_at_once(gate, [True] * 4, rounds=10, pause=0.002) == 2
    assert gate.running == 0


def test_background_waits_for_a_free_slot_and_for_waiting_questions():
    gate = ComputeGate(slots=2)
    release = threading.Event()
    held = threading.Barrier(3)

    def hold() -> None:
        with gate.foreground():
            held.wait(5)
            release.wait(5)

    holders = [threading.Thread(target=hold) for _ in range(2)]
    for t in holders:
        t.start()
    held.wait(5)
    assert gate.running == 2
    got = threading.Event()

    def background() -> None:
        with gate.background():
            got.set()

    bg = threading.Thread(target=background)
    bg.start()
    assert not got.wait(0.1)  # both slots taken
    release.set()
    assert got.wait(5)
    for t in (*holders, bg):
        t.join(5)


def test_share_cores_sets_one_thread_and_a_slot_per_core(monkeypatch):
    torch = pytest.importorskip("torch")
    from embeddings import gate as gate_module

    fresh = ComputeGate()
    monkeypatch.setattr(gate_module, "COMPUTE", fresh)
    before = torch.get_num_threads()
    try:
        assert gate_module.share_cores(3) == 3
        assert fresh.slots == 3
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert gate_module.usable_cores() >= 1
