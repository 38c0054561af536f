"""Latency of a sharded query (shards on Ray actors) vs one index of the same articles.

Usage (docs/cluster.md, "Search over shards"):
    python benchmarks/bench_sharded.py IX_ALL SHARD [SHARD ...]

Times hybrid retrieval (k=5) of 8 questions, 5 rounds, after a warm-up; question vectors
are cached first, so only the search is timed. Starts a local Ray cluster.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from embeddings.encoder import SentenceEncoder
from qa.assistant import Assistant
from qa.retrieve import HybridRetriever
from qa.retrieve.sharded import ShardedRetriever
from qa.settings import Settings

QUESTIONS = [
    "Who won the election?",
    "What did the minister say about the economy?",
    "How much did the company earn?",
    "Which film won the award?",
    "Who is the England coach?",
    "What happened to oil prices?",
    "Why did the shares fall?",
    "Who will play in the final?",
]


def timed(retriever: Any, rounds: int = 5) -> tuple[float, float]:
    """Median and p95 milliseconds of one ``retrieve``."""
    for q in QUESTIONS:
        retriever.retrieve(q, 5)  # warm: BM25 loaded
    times = []
    for _ in range(rounds):
        for q in QUESTIONS:
            start = time.perf_counter()
            retriever.retrieve(q, 5)
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3, statistics.quantiles(times, n=20)[18] * 1e3


def main(whole_path: str, shard_paths: list[str]) -> None:
    encoder, settings = SentenceEncoder(), Settings()
    whole = Assistant.open(whole_path, encoder=encoder, create=False)
    single = HybridRetriever(whole._index, encoder, settings.retrieval)
    single.question_vectors(QUESTIONS)
    start = time.perf_counter()
    with ShardedRetriever(shard_paths, encoder, settings) as sharded:
        started = time.perf_counter() - start
        sharded._encoder.question_vectors(QUESTIONS)
        one, many = timed(single), timed(sharded)
        same = sum(
            [h.chunk.chunk_id for h in single.retrieve(q, 5)]
            == [h.chunk.chunk_id for h in sharded.retrieve(q, 5)]
            for q in QUESTIONS
        )
    print(f"cluster and actors started in {started:.1f} s")
    print(f"one index: median {one[0]:.1f} ms, p95 {one[1]:.1f} ms")
    print(f"{len(shard_paths)} shards: median {many[0]:.1f} ms, p95 {many[1]:.1f} ms")
    print(f"same top-5 chunk ids: {same}/{len(QUESTIONS)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
