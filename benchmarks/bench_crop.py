"""Reading less: question-aware cropping of passages, F1 and time against full passages.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_crop.py [--questions 1000] [--budgets 90,60]
        [--out FILE]

For SQuAD v1.1 dev questions (``random.Random(seed)`` sample, closed: the gold paragraph),
the shipped reader reads (a) the whole paragraph (the baseline, as the product reads a
chunk) and (b) for each word budget, the paragraph cropped to the sentence sharing most
content words with the question, grown by neighbouring sentences while the budget allows.
Offsets are mapped back into the paragraph before scoring. Same process, batches of 32.
The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def crop(question: str, context: str, budget: int) -> tuple[int, int]:
    """Character range of ``context`` to read: the best sentence and its neighbours."""
    from qa.answer.features import content_words
    from qa.ingest.chunking import sentence_spans

    if len(context.split()) <= budget:
        return 0, len(context)
    sents = sentence_spans(context)
    if not sents:
        return 0, len(context)
    asked = content_words(question)
    scores = [len(asked & content_words(context[a:b])) for a, b in sents]
    best = max(range(len(sents)), key=lambda i: (scores[i], -i))
    lo = hi = best
    words = len(context[sents[best][0] : sents[best][1]].split())
    grew = True
    while grew:
        grew = False
        for cand in (hi + 1, lo - 1):
            if 0 <= cand < len(sents):
                more = len(context[sents[cand][0] : sents[cand][1]].split())
                if words + more <= budget:
                    words += more
                    lo, hi = min(lo, cand), max(hi, cand)
                    grew = True
    return sents[lo][0], sents[hi][1]


def main() -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared/data/squad/dev-v1.1.json"))
    ap.add_argument("--questions", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--budgets", default="90,60", help="word budgets, comma-separated")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from qa.common.metrics import max_exact, max_f1
    from qa.extract.neural import NeuralReader
    from qa.reader.data import load_squad
    from qa.reader.evaluate import sample_examples

    runtime = NeuralReader(None).runtime
    examples = sample_examples(load_squad(args.data), args.questions, args.seed)
    rows: list[dict[str, Any]] = []
    for budget in [None, *(int(b) for b in args.budgets.split(",") if b)]:
        started = time.perf_counter()
        em = f1 = 0.0
        words = 0
        for i in range(0, len(examples), 32):
            batch = examples[i : i + 32]
            ranges = [
                crop(e.question, e.context, budget) if budget else (0, len(e.context))
                for e in batch
            ]
            contexts = [e.context[a:b] for e, (a, b) in zip(batch, ranges, strict=True)]
            found = runtime.read([e.question for e in batch], contexts, n_best=1)
            for e, (a, _), spans in zip(batch, ranges, found, strict=True):
                pred = e.context[a + spans[0].start : a + spans[0].end] if spans else ""
                golds = [text for text, _ in e.answers]
                em += max_exact(pred, golds)
                f1 += max_f1(pred, golds)
            words += sum(len(c.split()) for c in contexts)
        n = len(examples)
        row = {
            "budget_words": budget,
            "exact_match": round(100 * em / n, 2),
            "f1": round(100 * f1 / n, 2),
            "words_per_passage": round(words / n, 1),
            "seconds": round(time.perf_counter() - started, 1),
        }
        rows.append(row)
        print(json.dumps(row), flush=True)
    for row in rows[1:]:
        row["f1_minus_full"] = round(row["f1"] - rows[0]["f1"], 2)
        row["speedup"] = round(rows[0]["seconds"] / row["seconds"], 2)
    result = {"data": args.data, "questions": args.questions, "seed": args.seed, "rows": rows}
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
