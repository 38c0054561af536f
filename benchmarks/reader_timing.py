"""Timing helpers for ``bench_reader.py``: chunks to read, a timed read, paused training.

``paused_training`` SIGSTOPs a background ``qa train-reader`` run (its PID in
``/tmp/reader_train.pid``) while a benchmark measures, and SIGCONTs it afterwards.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path

PID_FILE = Path("/tmp/reader_train.pid")


@contextmanager
def paused_training():  # type: ignore[no-untyped-def]
    """SIGSTOP the background training run (if any) and SIGCONT it afterwards."""
    pid = None
    try:
        pid = int(PID_FILE.read_text().strip())
        os.kill(pid, signal.SIGSTOP)
    except (OSError, ValueError):
        pid = None
    try:
        yield
    finally:
        if pid is not None:
            with suppress(OSError):
                os.kill(pid, signal.SIGCONT)


def chunks_from(path: str, n: int, tokens: int, tokenizer) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """``n`` (question, chunk) pairs: each passage cut to about ``tokens`` word pieces."""
    from qa.reader.data import load_squad

    out = []
    for ex in load_squad(path):
        enc = tokenizer(ex.context, add_special_tokens=False, return_offsets_mapping=True)
        offs = enc["offset_mapping"]
        end = offs[min(tokens, len(offs)) - 1][1]
        out.append((ex.question, ex.context[:end]))
        if len(out) >= n:
            break
    return out


def measure(reader, pairs: Sequence[tuple[str, str]], batch: int, repeat: int, bf16: bool) -> dict:  # type: ignore[no-untyped-def]
    """Median seconds per call of reading ``batch`` chunks, and chunks per second."""
    import torch

    rt = reader.runtime
    rt.config.batch_size = max(batch, 1)
    times = []
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext()
    calls = [pairs[i : i + batch] for i in range(0, len(pairs) - batch + 1, batch)]
    with ctx:
        rt.read([q for q, _ in calls[0]], [c for _, c in calls[0]])  # warm-up
        for r in range(repeat):
            part = calls[r % len(calls)]
            t = time.perf_counter()
            rt.read([part[0][0]] * len(part), [c for _, c in part])
            times.append(time.perf_counter() - t)
    med = statistics.median(times)
    return {
        "batch": batch,
        "ms_per_call": round(1000 * med, 1),
        "chunks_per_s": round(batch / med, 1),
    }
