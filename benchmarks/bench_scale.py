"""Index size: build, open, memory and retrieval latency of an index of N chunks.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_scale.py --chunks N [--queries 200]
        [--dir DIR] [--out FILE]

Synthetic data, the product's own code for the rest. Articles are made of sentences of
words drawn from a fixed vocabulary of 20,000 made-up words (Zipf-distributed, seed 0),
about 4 chunks each; they are parsed into ``Article`` objects, cut by the product's
chunker, and given random unit vectors (384 dimensions) instead of embeddings, then
committed with ``Index.commit`` (one generation). The index is then opened in a fresh
process with ``Index.open`` (its checks, the store, the vectors), and the questions
(sentences drawn the same way, with random query vectors) are retrieved through
``HybridRetriever`` (FAISS + BM25, fused), timing each; BM25 is built on the first
question, as in the product, and that first question is timed apart. recall@10 compares
the dense search of the index with an exact numpy search over the same vectors.

The last output line is one JSON object with ``chunks``, ``build_s``, ``open_s``,
``rss_mb``, ``p50_ms``, ``p95_ms``, ``recall_at_10``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DIM = 384


class RandomEncoder:
    """Unit vectors from a seeded generator (only questions are encoded here)."""

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = DIM

    def __init__(self, seed: int = 1) -> None:
        self.rng = np.random.default_rng(seed)

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
        v = self.rng.standard_normal((len(texts), DIM)).astype(np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def words(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` made-up words, Zipf-distributed over a 20,000-word vocabulary."""
    ranks = np.minimum(rng.zipf(1.2, n), 20_000)
    return [f"w{r}x" for r in ranks]


def sentences(rng: np.random.Generator, count: int) -> str:
    """``count`` sentences of 12 to 24 words."""
    out = []
    for _ in range(count):
        ws = words(rng, int(rng.integers(12, 25)))
        out.append(" ".join(ws).capitalize() + ".")
    return " ".join(out)


def build(root: Path, chunks_wanted: int) -> dict:
    """Write an index of about ``chunks_wanted`` chunks; returns counts and seconds."""
    from qa.index import Index
    from qa.ingest.chunking import chunk_article, chunking_signature
    from qa.ingest.parsing import article_from_record
    from qa.settings import Settings

    settings = Settings()
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    index = Index.open(root, RandomEncoder(), chunking_signature(settings.chunking))
    articles, chunks = [], []
    i = 0
    while len(chunks) < chunks_wanted:
        text = "\n\n".join(sentences(rng, 4) for _ in range(5))
        record = {"id": f"s{i}", "title": f"Story {i}", "text": text, "date": "2024-01-01"}
        article = article_from_record(record, "synthetic")
        articles.append(article)
        chunks.extend(
            chunk_article(article, settings.chunking.max_tokens, settings.chunking.overlap_tokens)
        )
        i += 1
    made = time.perf_counter() - started
    vectors = rng.standard_normal((len(chunks), DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    with index.writer():
        index.commit(fresh=articles, chunks=chunks, vectors=vectors, deleted=[])
    return {
        "articles": len(articles),
        "chunks": len(chunks),
        "make_s": round(made, 1),
        "build_s": round(time.perf_counter() - started, 1),
    }


def measure(root: Path, queries: int) -> dict:
    """Open ``root`` and time retrieval (run in a fresh process)."""
    from qa.index import Index
    from qa.ingest.chunking import chunking_signature
    from qa.retrieve import HybridRetriever
    from qa.settings import Settings

    settings = Settings()
    started = time.perf_counter()
    index = Index.open(root, RandomEncoder(), chunking_signature(settings.chunking), create=False)
    open_s = time.perf_counter() - started
    rss_open = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak so far
    retriever = HybridRetriever(index, RandomEncoder(seed=2), settings.retrieval)
    rng = np.random.default_rng(3)
    t = time.perf_counter()
    retriever.retrieve(sentences(rng, 1), 10)
    first_ms = (time.perf_counter() - t) * 1000
    times, recall = [], []
    state = index.state
    ids = state.vectors.ids()
    matrix = state.vectors.reconstruct(ids)  # the exact reference searches the same vectors
    exact_encoder = RandomEncoder(seed=4)
    for _ in range(queries):
        question = sentences(rng, 1)
        t = time.perf_counter()
        retriever.retrieve(question, 10)
        times.append((time.perf_counter() - t) * 1000)
        q = exact_encoder.encode([question])
        _, got = state.vectors.search(q, 10)
        want = ids[np.argsort(-(matrix @ q[0]))[:10]]
        recall.append(len(set(got[0].tolist()) & set(want.tolist())) / 10)
    times.sort()
    return {
        "open_s": round(open_s, 2),
        "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_after_open_mb": round(rss_open, 1),
        "first_question_ms": round(first_ms, 1),
        "p50_ms": round(times[len(times) // 2], 1),
        "p95_ms": round(times[int(len(times) * 0.95)], 1),
        "recall_at_10": round(float(np.mean(recall)), 4),
        "queries": queries,
    }


def main() -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chunks", type=int, required=True)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--dir", default=None, help="where to build (default: a temporary folder)")
    ap.add_argument("--measure-only", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.measure_only:
        print(json.dumps(measure(Path(args.measure_only), args.queries)))
        return 0
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    root = base / f"index-{args.chunks}"
    try:
        built = build(root, args.chunks)
        print(json.dumps(built), flush=True)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--chunks",
                str(args.chunks),
                "--queries",
                str(args.queries),
                "--measure-only",
                str(root),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
        result = {**built, **measured, "disk_mb": round(size / 2**20, 1)}
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
