"""Ingest throughput on one machine against the bare encoder, in the same run (issue 15).

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_ingest.py [--articles 200] [--rounds 2]
        [--bbc ../shared/data/bbc_news] [--out benchmarks/results/ingest.json]

Data: the bundled sample article (``qa/sample/*.txt``) plus the first ``--articles`` BBC
News articles (``../shared/data/bbc_news/bbc_news_2004-2005.jsonl``, written to a
temporary JSONL file); the script exits with a message if that folder is absent.

In one process, with one loaded and warmed-up ``SentenceEncoder`` (built as ``qa ingest``
builds it: ``SentenceEncoder()``, no thread setting of its own, so PyTorch's default
thread count), it measures in chunks per second:

- ``bare_product_batch``: the bare encoder, ``encoder.encode(texts, B)`` in one call,
  where ``texts`` are exactly the texts the product embeds for these articles
  (``chunk_article`` + ``embedding_text`` with the default settings) and ``B`` is
  ``Settings().ingest.encode_batch_size`` (sentence-transformers sorts the texts by
  length within the call, then encodes them ``B`` at a time);
- ``bare_64``: the same at batch size 64;
- ``product``: ``Assistant.open(fresh_dir, encoder=encoder).add([sample, bbc.jsonl])``,
  the call ``qa ingest`` makes, into a fresh index: parsing, chunking, planning,
  embedding, the writer lock and the commit (SQLite, vectors, BM25, manifest). The
  open of the empty index is not timed;
- ``parse_and_chunk``: the product's own parsing and chunking of the same files
  (``read_paths``, ``chunk_article``, ``embedding_text``) alone, once a round, as a share of
  the product's time: the most that running it beside the embedding could save.

Model loading is excluded: the encoder is warmed up at both batch sizes and one small
product ingest (the sample article alone, into a throwaway index) runs first, so every
import is done. Each of ``--rounds`` rounds runs the three measures, in the opposite
order to the round before (so neither gets a warm-cache advantage); a measure's rate is
its chunks over its seconds summed over the rounds. The ratios are product / bare at the
product's batch size and product / bare at 64 (goal: at least 0.90). The product must
embed exactly as many chunks as the bare passes, or the script fails. ``padded_tokens``
counts the tokens each measure feeds the model, padding included (the model's
tokenizer, outside the timed parts), which is what the batch order changes.
``other_processes_cpu_s`` is the CPU time the rest of the machine used meanwhile
(``/proc/stat`` less this process): near 0 when the machine was otherwise idle. The last
output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
BBC = REPO.parent / "shared" / "data" / "bbc_news"
sys.path.insert(0, str(REPO))

from embeddings.encoder import SentenceEncoder  # noqa: E402
from qa import Assistant, Settings  # noqa: E402
from qa.assistant import sample_files  # noqa: E402
from qa.ingest.chunking import chunk_article, embedding_text  # noqa: E402
from qa.ingest.pipeline import embedding_order, read_paths  # noqa: E402

MEASURES = ("bare_product_batch", "bare_64", "product")


def corpus(folder: Path, articles: int, into: Path) -> list[Path]:
    """The sample article(s) and a JSONL in ``into`` of the first ``articles`` BBC records."""
    jsonl = folder / "bbc_news_2004-2005.jsonl"
    if not jsonl.is_file():
        sys.exit(f"{jsonl} not found: this benchmark needs the BBC News data (--bbc FOLDER)")
    with jsonl.open(encoding="utf-8") as f:
        lines = [line for _, line in zip(range(articles), f, strict=False)]
    subset = into / "bbc.jsonl"
    subset.write_text("".join(lines), encoding="utf-8")
    return [*sample_files(), subset]


def embedded_texts(files: list[Path], settings: Settings) -> tuple[int, list[str]]:
    """How many articles ``files`` hold, and every chunk's ``embedding_text``, in order."""
    articles, rejected = read_paths(files, settings)
    if rejected:
        raise RuntimeError(f"unexpected rejections: {rejected[:3]}")
    chunking = settings.chunking
    return len(articles), [
        embedding_text(a, c)
        for a in articles
        for c in chunk_article(a, chunking.max_tokens, chunking.overlap_tokens)
    ]


def product_ingest(
    encoder: SentenceEncoder, settings: Settings, files: list[Path]
) -> tuple[float, int]:
    """Seconds of ``Assistant.add(files)`` into a fresh index, and the chunks it stored."""
    with tempfile.TemporaryDirectory(prefix="bench-ingest-ix-") as tmp:
        assistant = Assistant.open(Path(tmp) / "ix", settings=settings, encoder=encoder)
        t = time.perf_counter()
        report = assistant.add(files)
        seconds = time.perf_counter() - t
        if report.rejected:
            raise RuntimeError(f"the product rejected {report.rejected[:3]}")
        return seconds, assistant.info().chunks


def timed_encode(encoder: SentenceEncoder, texts: list[str], batch: int) -> tuple[float, int]:
    """Seconds of one ``encoder.encode(texts, batch)`` call, and the rows it returned."""
    t = time.perf_counter()
    vectors = encoder.encode(texts, batch)
    return time.perf_counter() - t, len(vectors)


def padded_tokens(encoder: SentenceEncoder, texts: list[str], batch: int) -> dict[str, int]:
    """Tokens each measure feeds the model, padding included (a batch pads to its longest).

    The bare passes batch as sentence-transformers does (longest first by characters);
    the product in :func:`~qa.ingest.pipeline.embedding_order`, ``batch`` at a time.
    """
    ids = encoder.tokenizer(texts, truncation=True, max_length=encoder.model.max_seq_length)
    lengths = [len(x) for x in ids["input_ids"]]

    def cost(order: list[int], size: int) -> int:
        return sum(
            len(part) * max(lengths[i] for i in part)
            for part in (order[lo : lo + size] for lo in range(0, len(order), size))
        )

    by_chars = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    return {
        "unpadded": sum(lengths),
        "bare_product_batch": cost(by_chars, batch),
        "bare_64": cost(by_chars, 64),
        "product": cost(embedding_order(texts), batch),
    }


def cpu_seconds() -> float:
    """User + system CPU seconds of this process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def machine_cpu_seconds() -> float | None:
    """CPU seconds all processes of this machine have used (``/proc/stat``; None elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def main() -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=200, help="First N BBC articles.")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--bbc", type=Path, default=BBC, help="The bbc_news folder.")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    load_before = os.getloadavg()
    machine_before, own_before, wall_before = machine_cpu_seconds(), cpu_seconds(), time.time()
    settings = Settings()
    batch = settings.ingest.encode_batch_size
    tmp = tempfile.TemporaryDirectory(prefix="bench-ingest-")
    files = corpus(args.bbc, args.articles, Path(tmp.name))
    articles, texts = embedded_texts(files, settings)

    encoder = SentenceEncoder()  # as `qa ingest` builds it (qa.assistant.Assistant.open)
    for size in (batch, 64):  # load the model and warm up both batch sizes
        encoder.encode(texts[:64], size)
    product_ingest(encoder, settings, files[:1])  # every import of the product path

    runs: dict[str, Callable[[], tuple[float, int]]] = {
        "bare_product_batch": lambda: timed_encode(encoder, texts, batch),
        "bare_64": lambda: timed_encode(encoder, texts, 64),
        "product": lambda: product_ingest(encoder, settings, files),
    }
    seconds: dict[str, list[float]] = {m: [] for m in MEASURES}
    parse_and_chunk: list[float] = []
    order = list(MEASURES)
    for _ in range(args.rounds):
        t = time.perf_counter()
        embedded_texts(files, settings)
        parse_and_chunk.append(time.perf_counter() - t)
        for measure in order:
            s, n = runs[measure]()
            if n != len(texts):
                raise RuntimeError(f"{measure} embedded {n} chunks, the bare encoder {len(texts)}")
            seconds[measure].append(s)
            print(f"{measure:20} {n / s:6.1f} chunks/s  ({s:.2f} s)", flush=True)
        order.reverse()

    machine_after, own_after = machine_cpu_seconds(), cpu_seconds()
    others = None
    if machine_before is not None and machine_after is not None:
        others = (machine_after - machine_before) - (own_after - own_before)
    import torch

    rate = {m: len(texts) * len(v) / sum(v) for m, v in seconds.items()}
    product_s = sum(seconds["product"])
    result = {
        "command": " ".join(["benchmarks/bench_ingest.py", *sys.argv[1:]]),
        "articles": articles,
        "chunks": len(texts),
        "encode_batch_size": batch,
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "rounds": args.rounds,
        "seconds": {m: [round(s, 3) for s in v] for m, v in seconds.items()},
        "chunks_per_s": {m: round(r, 2) for m, r in rate.items()},
        "product_vs_bare_product_batch": round(rate["product"] / rate["bare_product_batch"], 3),
        "product_vs_bare_64": round(rate["product"] / rate["bare_64"], 3),
        "goal": ">= 0.90 of the bare encoder",
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "other_processes_cpu_s": None if others is None else round(others, 1),
        "wall_s": round(time.time() - wall_before, 1),
        "parse_and_chunk_s": [round(s, 3) for s in parse_and_chunk],
        "parse_and_chunk_share_of_product": round(sum(parse_and_chunk) / product_s, 4),
        "padded_tokens": padded_tokens(encoder, texts, batch),
        "cpu_s": round(cpu_seconds(), 1),
    }
    print("| measure | chunks/s |\n| --- | --- |")
    print(f"| bare encoder, batch {batch} | {rate['bare_product_batch']:.1f} |")
    print(f"| bare encoder, batch 64 | {rate['bare_64']:.1f} |")
    print(
        f"| product (Assistant.add) | {rate['product']:.1f} = "
        f"{100 * result['product_vs_bare_product_batch']:.0f}% / "
        f"{100 * result['product_vs_bare_64']:.0f}% of the encoder at {batch} / 64 |"
    )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
