"""Index size: build, open, memory and retrieval latency of an index of N chunks.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_scale.py --chunks N [--queries 200]
        [--like REAL_INDEX] [--dir DIR [--reuse]] [--out FILE]

Synthetic data, the product's own code for the rest.

Texts: articles made of sentences of real words drawn independently with the word
frequencies of the ``--like`` index's chunks (its BM25 terms, so no stopwords; seed 0),
about 3 chunks each; they are parsed into ``Article`` objects and cut by the product's
chunker. Questions are 6 to 10 words drawn the same way: more common words than real
questions have (those name rarer things), so BM25 reads longer posting lists than it
would for real questions. (A first version drew made-up words from a Zipf law with
exponent 1.2, where the commonest word is 18% of all words and in every chunk: BM25 then
read 5 million postings a question at 1M chunks; real news, stopwords removed, is flatter.)

Vectors: drawn to look like real embeddings, not uniform noise (IVF recall on uniform
random vectors says nothing; on tightly clustered ones it flatters). ``--like`` names a
real index built by the product (all-MiniLM-L6-v2 over news: by default the BBC +
RealTime QA index of docs/evaluation.md); its vectors are clustered with k-means (64
centroids), and each synthetic vector is a centroid plus Gaussian noise with the
residuals' full covariance, normalised. 200 of the real vectors are held out of the fit
and used as the question vectors.

Everything is committed with ``Index.commit`` (one generation: the product picks flat
or IVF by size), then opened in a fresh process with ``Index.open`` (its checks, the
store, the vectors) and the questions are retrieved through ``HybridRetriever`` (FAISS +
BM25, fused), timing each. recall@10 compares the index's dense search (the product's
``VectorIndex.search``) with an exact numpy search over the original float32 vectors.

The last output line is one JSON object with ``chunks``, ``build_s``, ``open_s``,
``rss_mb``, ``p50_ms``, ``p95_ms``, ``recall_at_10``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DIM = 384


DEFAULT_LIKE = REPO / "runs" / "eval" / "final" / "index-rtqa"


class QueueEncoder:
    """Returns the prepared question vectors in order (one per encoded question)."""

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dimension = DIM

    def __init__(self, vectors: np.ndarray) -> None:
        self.vectors = vectors
        self.next = 0

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
        out = self.vectors[self.next : self.next + len(texts)]
        self.next += len(texts)
        return out


def real_vectors(like: Path) -> np.ndarray:
    """The vectors of a real index made by the product."""
    from embeddings.vector_index import VectorIndex
    from qa.index.format import segments_of

    manifest = json.loads((like / "manifest.json").read_text())
    parts = [
        VectorIndex.load(like / seg["files"]["vectors"]["path"], DIM).all_vectors()[1]
        for seg in segments_of(manifest)
    ]
    return np.vstack(parts)


def vector_model(like: Path, held_out: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(centroids, cholesky of the residual covariance, held-out question vectors)``."""
    import faiss

    real = real_vectors(like)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(real))
    questions, fit = real[order[:held_out]], real[order[held_out:]]
    kmeans = faiss.Kmeans(DIM, 64, niter=20, seed=0, spherical=True)
    kmeans.train(np.ascontiguousarray(fit))
    _, assign = kmeans.index.search(fit, 1)
    assert kmeans.centroids is not None  # set by train()
    residual = fit - kmeans.centroids[assign[:, 0]]
    cov = np.cov(residual, rowvar=False) + 1e-6 * np.eye(DIM)
    return kmeans.centroids, np.linalg.cholesky(cov).astype(np.float32), questions


def synthetic_vectors(n: int, centroids: np.ndarray, chol: np.ndarray) -> np.ndarray:
    """``n`` unit vectors: a random centroid plus correlated noise (seed 1)."""
    rng = np.random.default_rng(1)
    out = np.empty((n, DIM), dtype=np.float32)
    for lo in range(0, n, 100_000):
        m = min(100_000, n - lo)
        z = rng.standard_normal((m, DIM)).astype(np.float32)
        x = centroids[rng.integers(0, len(centroids), m)] + z @ chol.T
        out[lo : lo + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


VOCAB: dict[str, Any] = {"words": [], "p": []}


def real_vocabulary(like: Path) -> dict[str, Any]:
    """The word frequencies of the real index's chunks (BM25's terms: no stopwords)."""
    from collections import Counter

    from qa.index.format import segments_of
    from qa.index.rows import StoreRows
    from qa.retrieve.hybrid import bm25_tokens

    manifest = json.loads((like / "manifest.json").read_text())
    counts: Counter[str] = Counter()
    for seg in segments_of(manifest):
        rows = StoreRows(like / seg["files"]["store"]["path"])
        for _, chunk in rows.iter_passages():
            counts.update(bm25_tokens(chunk.text))
        rows.close()
    top = counts.most_common()
    total = sum(c for _, c in top)
    return {"words": [w for w, _ in top], "p": [c / total for _, c in top]}


def words(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` words drawn with the real index's word frequencies."""
    if "cdf" not in VOCAB:
        VOCAB["cdf"] = np.cumsum(VOCAB["p"])
    picks = np.searchsorted(VOCAB["cdf"], rng.random(n) * VOCAB["cdf"][-1], side="right")
    return [VOCAB["words"][min(int(i), len(VOCAB["words"]) - 1)] for i in picks]


def sentences(rng: np.random.Generator, count: int) -> str:
    """``count`` sentences of 12 to 24 words."""
    out = []
    for _ in range(count):
        ws = words(rng, int(rng.integers(12, 25)))
        out.append(" ".join(ws).capitalize() + ".")
    return " ".join(out)


def synthetic_article(
    rng: np.random.Generator, record_id: str, title: str, date: str, settings: Any
) -> tuple[Any, list[Any]]:
    """One article of 4 paragraphs of 4 sentences, parsed and chunked by the product."""
    from qa.ingest.chunking import chunk_article
    from qa.ingest.parsing import article_from_record

    text = "\n\n".join(sentences(rng, 4) for _ in range(4))
    record = {"id": record_id, "title": title, "text": text, "date": date}
    article = article_from_record(record, "synthetic")
    chunking = settings.chunking
    return article, chunk_article(article, chunking.max_tokens, chunking.overlap_tokens)


def question(rng: np.random.Generator) -> str:
    """6 to 10 words, as a question has after its stopwords."""
    return " ".join(words(rng, int(rng.integers(6, 11))))


def build(root: Path, chunks_wanted: int, like: Path, queries: int) -> dict:
    """Write an index of about ``chunks_wanted`` chunks; returns counts and seconds.

    Also writes ``root.parent/questions.npy`` and ``exact.npy`` (the exact top 10).
    """
    from qa.index import Index
    from qa.ingest.chunking import chunking_signature
    from qa.settings import Settings

    settings = Settings()
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    centroids, chol, questions = vector_model(like, queries)
    VOCAB.update(real_vocabulary(like))
    (root.parent / "vocab.json").write_text(json.dumps({k: VOCAB[k] for k in ("words", "p")}))
    index = Index.open(
        root,
        QueueEncoder(questions),
        chunking_signature(settings.chunking),
        layout=settings.index,
    )
    articles: list[Any] = []
    chunks: list[Any] = []
    while len(chunks) < chunks_wanted:
        i = len(articles)
        article, cut = synthetic_article(rng, f"s{i}", f"Story {i}", "2024-01-01", settings)
        articles.append(article)
        chunks.extend(cut)
    made = time.perf_counter() - started
    vectors = synthetic_vectors(len(chunks), centroids, chol)
    exact = np.zeros((len(questions), 10), dtype=np.int64)
    ids = np.array([c.chunk_id for c in chunks], dtype=np.int64)
    for lo in range(0, len(questions), 50):
        sims = questions[lo : lo + 50] @ vectors.T
        exact[lo : lo + 50] = ids[np.argsort(-sims, axis=1)[:, :10]]
    np.save(root.parent / "questions.npy", questions)
    np.save(root.parent / "exact.npy", exact)
    with index.writer():
        index.commit(fresh=articles, chunks=chunks, vectors=vectors, deleted=[])
    return {
        "articles": len(articles),
        "chunks": len(chunks),
        "make_s": round(made, 1),
        "build_s": round(time.perf_counter() - started, 1),
    }


def update(root: Path, n_articles: int) -> dict:
    """Commit ``n_articles`` more synthetic articles to ``root`` and time it (fresh process).

    A large index takes them as a new segment: the time is what an update of the index
    costs, not a rebuild.
    """
    from qa.index import Index
    from qa.ingest.chunking import chunking_signature
    from qa.settings import Settings

    settings = Settings()
    VOCAB.update(json.loads((root.parent / "vocab.json").read_text()))
    rng = np.random.default_rng(7)
    real = np.load(root.parent / "questions.npy")
    articles, chunks = [], []
    for i in range(n_articles):
        article, cut = synthetic_article(rng, f"late{i}", f"Late {i}", "2024-02-01", settings)
        articles.append(article)
        chunks.extend(cut)
    vectors = real[rng.integers(0, len(real), len(chunks))]
    index = Index.open(
        root, QueueEncoder(real), chunking_signature(settings.chunking), layout=settings.index
    )
    started = time.perf_counter()
    with index.writer():
        index.commit(fresh=articles, chunks=chunks, vectors=vectors, deleted=[])
    return {
        "update_articles": n_articles,
        "update_chunks": len(chunks),
        "update_s": round(time.perf_counter() - started, 2),
        "segments_after_update": [seg["counts"]["chunks"] for seg in index.manifest["segments"]],
    }


def rss_now(field: str = "VmRSS") -> float:
    """Resident memory of this process, MB (mapped file pages it touched included).

    ``VmHWM`` is the peak. Not ``getrusage``'s ``ru_maxrss``: Linux carries the
    parent's peak across fork and exec into it, so it would report the build's memory.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure(root: Path, queries: int) -> dict:
    """Open ``root`` and time retrieval (run in a fresh process)."""
    from qa.index import Index
    from qa.ingest.chunking import chunking_signature
    from qa.retrieve import HybridRetriever
    from qa.settings import Settings

    settings = Settings()
    started = time.perf_counter()
    VOCAB.update(json.loads((root.parent / "vocab.json").read_text()))
    questions = np.load(root.parent / "questions.npy")[:queries]
    exact = np.load(root.parent / "exact.npy")
    encoder = QueueEncoder(np.vstack([questions[:1], questions]))
    index = Index.open(
        root, encoder, chunking_signature(settings.chunking), create=False, layout=settings.index
    )
    open_s = time.perf_counter() - started
    rss_open = rss_now()
    retriever = HybridRetriever(index, encoder, settings.retrieval)
    rng = np.random.default_rng(3)
    t = time.perf_counter()
    retriever.retrieve("first " + question(rng), 10)
    first_ms = (time.perf_counter() - t) * 1000
    times, recall = [], []
    state = index.state
    for i in range(len(questions)):
        text = f"{i} {question(rng)}"
        t = time.perf_counter()
        hits = retriever.retrieve(text, 10)
        times.append((time.perf_counter() - t) * 1000)
        assert hits
        _, got = state.vectors.search(questions[i : i + 1], 10)
        recall.append(len(set(got[0].tolist()) & set(exact[i].tolist())) / 10)
    times.sort()
    return {
        "open_s": round(open_s, 2),
        "rss_mb": round(rss_now("VmHWM"), 1),  # the peak
        "rss_end_mb": round(rss_now(), 1),
        "rss_end_anon_mb": round(rss_now("RssAnon"), 1),  # the process's own memory
        "rss_end_file_mb": round(rss_now("RssFile"), 1),  # mapped index pages it touched
        "rss_after_open_mb": round(rss_open, 1),
        "vectors": [seg["vectors"] for seg in index.manifest["segments"]],
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
    ap.add_argument("--like", type=Path, default=DEFAULT_LIKE, help="a real index (vectors)")
    ap.add_argument("--dir", default=None, help="where to build (default: a temporary folder)")
    ap.add_argument(
        "--reuse",
        action="store_true",
        help="with --dir: measure again the index an earlier run built there (its build record)",
    )
    ap.add_argument(
        "--update",
        type=int,
        default=0,
        help="after measuring, commit this many more articles and time it (kept with --dir)",
    )
    ap.add_argument("--measure-only", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--update-only", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.measure_only:
        print(json.dumps(measure(Path(args.measure_only), args.queries)))
        return 0
    if args.update_only:
        print(json.dumps(update(Path(args.update_only), args.update)))
        return 0
    base = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench-scale-"))
    base.mkdir(parents=True, exist_ok=True)
    root = base / f"index-{args.chunks}"
    try:
        if not (args.like / "manifest.json").is_file():
            ap.error(
                f"{args.like}: no index; build one with `qa ingest ../shared/data/bbc_news "
                "--index DIR` and pass --like DIR"
            )
        record = base / f"built-{args.chunks}.json"
        if args.reuse and record.is_file() and (root / "manifest.json").is_file():
            built = {**json.loads(record.read_text()), "reused_build": True}
        else:
            built = build(root, args.chunks, args.like, args.queries)
            record.write_text(json.dumps(built))
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
        if args.update:
            out = subprocess.run(
                [sys.executable, __file__, "--chunks", str(args.chunks), "--update",
                 str(args.update), "--update-only", str(root)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            result.update(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        if not args.dir:
            shutil.rmtree(base, ignore_errors=True)
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
