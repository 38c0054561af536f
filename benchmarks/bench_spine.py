"""Ingest throughput vs the bare encoder, and ask latency, on the BBC corpus + sample.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_spine.py [--articles N] [--questions 200]
        [--out benchmarks/results/spine.json]

It measures, in one run and on the same chunks:
  1. the bare encoder: SentenceEncoder.encode over every chunk's embedding text;
  2. the pipeline: Assistant.add of the same articles into a fresh index
     (parse, chunk, embed, SQLite, FAISS, atomic commit);
  3. ask latency p50/p95 over N questions (RealTime QA questions + the sample
     questions), model already loaded and warmed up.
and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"
sys.path.insert(0, str(REPO))

from embeddings.encoder import SentenceEncoder  # noqa: E402
from qa import Assistant, Settings  # noqa: E402
from qa.assistant import sample_files  # noqa: E402
from qa.ingest.chunking import chunk_article, embedding_text  # noqa: E402
from qa.ingest.parsing import read_path  # noqa: E402
from qa.types import Article  # noqa: E402

SAMPLE_QUESTIONS = [
    "Who is Japan's counterpart in the dialogue?",
    "Who won the 2022 FIFA World Cup?",
    "When were the talks held?",
    "What did Funakoshi hope to build on?",
    "Who is the South Korean president?",
    "Where did Lee and Takaichi meet?",
]


def load_articles(bbc: Path, limit: int | None) -> tuple[list[Article], Path]:
    """BBC articles (optionally the first ``limit``) written to a temp JSONL, plus the sample."""
    lines = bbc.read_text(encoding="utf-8").splitlines()
    if limit is not None:
        lines = lines[:limit]
    tmp = Path(tempfile.mkdtemp(prefix="bench-")) / "bbc.jsonl"
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles = [a for a in read_path(tmp, 1 << 30) if isinstance(a, Article)]
    articles += [a for f in sample_files() for a in read_path(f, 1 << 30) if isinstance(a, Article)]
    return articles, tmp


def questions(n: int) -> list[str]:
    """RealTime QA questions (real news questions), topped up with the sample ones."""
    out = list(SAMPLE_QUESTIONS)
    path = DATA / "realtimeqa" / "realtimeqa_2022_gold_joined.jsonl"
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            out.append(json.loads(line)["question"])
    while len(out) < n:
        out.extend(out)
    return out[:n]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=None, help="Only the first N BBC articles.")
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--extractor", default="auto")
    parser.add_argument(
        "--ask-only",
        action="store_true",
        help="Skip the bare-encoder pass (ingest is still timed, without its baseline).",
    )
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "spine.json")
    args = parser.parse_args()

    bbc = DATA / "bbc_news" / "bbc_news_2004-2005.jsonl"
    if not bbc.exists():
        sys.exit(f"{bbc} not found: the benchmark needs ../shared/data")
    settings = Settings().replace(extractor=args.extractor)
    articles, bbc_subset = load_articles(bbc, args.articles)
    chunking = settings.chunking
    chunks = [
        (a, c)
        for a in articles
        for c in chunk_article(a, chunking.max_tokens, chunking.overlap_tokens)
    ]
    texts = [embedding_text(a, c) for a, c in chunks]

    encoder = SentenceEncoder()
    encoder.encode(texts[:64])  # load + warm up
    t0 = time.perf_counter()
    if not args.ask_only:
        batch = settings.ingest.encode_batch_size
        for lo in range(0, len(texts), batch):
            encoder.encode(texts[lo : lo + batch], batch)
    bare_s = time.perf_counter() - t0 if not args.ask_only else float("nan")

    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        assistant = Assistant.open(Path(tmp) / "ix", settings=settings, encoder=encoder)
        t0 = time.perf_counter()
        report = assistant.add([bbc_subset, *sample_files()])
        pipe_s = time.perf_counter() - t0
        info = assistant.info()
        t0 = time.perf_counter()
        reopened = Assistant.open(Path(tmp) / "ix", settings=settings, encoder=encoder)
        reopened.retrieve("warm up bm25")
        open_s = time.perf_counter() - t0

        qs = questions(args.questions)
        for q in qs[:5]:
            reopened.ask(q)  # load the extractor's models
        latencies = []
        for q in qs:
            t0 = time.perf_counter()
            reopened.ask(q)
            latencies.append((time.perf_counter() - t0) * 1000)
        sample_answer = reopened.ask(SAMPLE_QUESTIONS[0]).text
        unanswerable = reopened.ask(SAMPLE_QUESTIONS[1]).text

    result = {
        "command": " ".join(["benchmarks/bench_spine.py", *sys.argv[1:]]),
        "articles": info.articles,
        "chunks": info.chunks,
        "added": len(report.added),
        "rejected": len(report.rejected),
        "bare_encoder_chunks_per_s": len(texts) / bare_s,
        "pipeline_chunks_per_s": info.chunks / pipe_s,
        "pipeline_share_of_encoder": (info.chunks / pipe_s) / (len(texts) / bare_s),
        "open_and_bm25_build_s": open_s,
        "extractor": reopened.extractor.name,
        "ask_questions": len(latencies),
        "ask_p50_ms": statistics.median(latencies),
        "ask_p95_ms": percentile(latencies, 95),
        "ask_mean_ms": statistics.fmean(latencies),
        "sample_answer": sample_answer,
        "world_cup_answer": unanswerable,
        "torch_threads": __import__("torch").get_num_threads(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print("| measure | value |\n| --- | --- |")
    print(f"| articles / chunks | {info.articles} / {info.chunks} |")
    print(f"| bare encoder (baseline) | {result['bare_encoder_chunks_per_s']:.1f} chunks/s |")
    print(
        f"| ingest pipeline | {result['pipeline_chunks_per_s']:.1f} chunks/s "
        f"({100 * result['pipeline_share_of_encoder']:.0f}% of the encoder; goal >= 80%) |"
    )
    print(f"| open index + build BM25 | {open_s:.2f} s |")
    print(
        f"| ask p50 / p95 ({len(latencies)} questions, {result['extractor']}) | "
        f"{result['ask_p50_ms']:.0f} / {result['ask_p95_ms']:.0f} ms (goal p50 < 150 ms) |"
    )
    print(f"| sample question | {sample_answer!r}; World Cup question: {unanswerable!r} |")


if __name__ == "__main__":
    main()
