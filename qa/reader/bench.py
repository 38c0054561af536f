"""Reading speed of the neural reader on CPU.

Run (pauses the background training run while it measures, if one is running)::

    flock /tmp/heavy.lock .venv/bin/python -m qa.reader.bench --threads 2

Measures, on SQuAD dev passages cut to news-chunk size (about 170 word pieces; only
their text is used, for timing): milliseconds to read 5 chunks for one question (one
forward pass, tokenisation and decoding included), and chunks per second at batch 5
and 32, for fp32 and optionally bf16 autocast.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
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


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description="reader speed")
    ap.add_argument("--artifact", default=None)
    ap.add_argument("--data", default="../shared/data/squad/dev-v1.1.json")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tokens", type=int, default=170, help="chunk length in word pieces")
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--bf16", action="store_true", help="also time bf16 autocast")
    ap.add_argument("--no-pause", action="store_true", help="do not pause the training run")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    import torch

    from qa.extract.neural import NeuralReader

    torch.set_num_threads(args.threads)
    reader = NeuralReader(artifact=args.artifact)
    pairs = chunks_from(args.data, 32 * 4, args.tokens, reader.runtime.tokenizer)
    res: dict = {
        "threads": args.threads,
        "chunk_tokens": args.tokens,
        "artifact": str(reader.artifact_dir),
    }
    with nullcontext() if args.no_pause else paused_training():
        for name, bf16 in [("fp32", False)] + ([("bf16", True)] if args.bf16 else []):
            res[name] = [
                measure(reader, pairs, b, args.repeat if b < 32 else 6, bf16) for b in (1, 5, 32)
            ]
    print(json.dumps(res, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
