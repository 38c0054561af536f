"""Tune ``settings.answering.retrieval_weight`` on held-out *training* passages (never on dev sets).

The held-out slice is the one the reader's training run kept aside (same data file,
fraction and seed as ``qa train-reader``), so the reader has never seen these passages
and no evaluation set is touched. The passages go into an index (optionally a copy of an
existing index, e.g. news articles, as distractors); each question is retrieved and
read once, and the answer is composed for every candidate weight from the same spans.

Run::

    HF_HUB_OFFLINE=1 .venv/bin/python -m qa.eval.tune \
        --train ../shared/data/train/qa_train_combined.json --seed 13 \
        --distractor-index runs/eval/final/index-rtqa --work runs/tune \
        --weights 0,0.5,1,2,4 --out runs/tune/retrieval_weight.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.answer.compose import compose
from qa.common.metrics import max_exact, max_f1
from qa.common.selective import risk_coverage
from qa.eval.datasets import EvalDoc, EvalQuestion, EvalSet, iter_records
from qa.extract.registry import EXTRACTORS
from qa.settings import AnsweringSettings, Settings


def heldout_set(train_path: str, fraction: float, seed: int, limit: int | None) -> EvalSet:
    """The training run's held-out passages and their questions as an :class:`EvalSet`."""
    import random

    from qa.reader.data import load_squad, split_heldout

    _, held = split_heldout(load_squad(train_path), fraction, seed)
    doc_ids: dict[str, str] = {}
    docs: list[EvalDoc] = []
    questions: list[EvalQuestion] = []
    for ex in held:
        if ex.context not in doc_ids:
            doc_ids[ex.context] = f"heldout-{len(doc_ids)}"
            docs.append(EvalDoc(doc_id=doc_ids[ex.context], text=ex.context, title=ex.title))
        golds = tuple(t for t, _ in ex.answers)
        questions.append(
            EvalQuestion(
                qid=ex.qid,
                question=ex.question,
                answers=golds,
                doc_ids=(doc_ids[ex.context],),
                tags=("has_ans",),
            )
        )
    if limit is not None and limit < len(questions):
        questions = random.Random(seed).sample(questions, limit)
    return EvalSet(
        name="heldout",
        docs=tuple(docs),
        questions=tuple(questions),
        files=(Path(train_path),),
        total_questions=len(questions),
    )


def score_weights(
    assistant: Any, eval_set: EvalSet, weights: Sequence[float], top_k: int, progress: bool
) -> list[dict[str, Any]]:
    """EM/F1/AURC of the composed answers for each weight (one read per question)."""
    from tqdm import tqdm

    per: dict[float, dict[str, list[float]]] = {w: {"em": [], "f1": [], "s": []} for w in weights}
    extractor = assistant.extractor
    for q in tqdm(eval_set.questions, disable=not progress, unit="q"):
        hits = assistant.retrieve(q.question, k=top_k)
        spans = extractor.extract(q.question, hits)
        for w in weights:
            a = compose(
                q.question,
                spans,
                hits,
                extractor.name,
                AnsweringSettings(min_score=0.0, uncalibrated_min_score=0.0, retrieval_weight=w),
            )
            per[w]["em"].append(max_exact(a.text, q.answers))
            per[w]["f1"].append(max_f1(a.text, q.answers))
            per[w]["s"].append(a.score)
    rows = []
    n = max(1, len(eval_set.questions))
    for w in weights:
        r = per[w]
        rc = risk_coverage(r["s"], [e == 1.0 for e in r["em"]])
        rows.append(
            {
                "retrieval_weight": w,
                "exact_match": round(100 * sum(r["em"]) / n, 2),
                "f1": round(100 * sum(r["f1"]) / n, 2),
                "aurc": round(rc.aurc, 4),
                "n": len(eval_set.questions),
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", required=True, help="the reader's training file (SQuAD JSON)")
    ap.add_argument("--seed", type=int, default=13, help="the training run's --seed")
    ap.add_argument("--heldout-fraction", type=float, default=0.02)
    ap.add_argument("--limit", type=int, default=None, help="score a seeded sample of N")
    ap.add_argument("--distractor-index", default=None, help="copy this index as distractors")
    ap.add_argument("--work", required=True, help="folder for the tuning index")
    ap.add_argument("--weights", default="0,0.5,1,2,4")
    ap.add_argument("--extractor", default="neural", choices=list(EXTRACTORS))
    ap.add_argument("--out", default=None, help="write the result here as JSON")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    from qa.eval.runner import default_factory

    weights = [float(w) for w in args.weights.split(",")]
    eval_set = heldout_set(args.train, args.heldout_fraction, args.seed, args.limit)
    index_dir = Path(args.work) / "index"
    if args.distractor_index and not index_dir.exists():
        shutil.copytree(args.distractor_index, index_dir)
    settings = Settings().replace(
        min_score=0.0, uncalibrated_min_score=0.0, extractor=args.extractor
    )
    assistant = default_factory()(index_dir, settings)
    t0 = time.perf_counter()
    report = assistant.add_records(iter_records(eval_set), origin="tune:heldout")
    ingest_s = time.perf_counter() - t0
    rows = score_weights(assistant, eval_set, weights, settings.retrieval.top_k, not args.quiet)
    best = max(rows, key=lambda r: (r["f1"], -r["retrieval_weight"]))
    result = {
        "train": args.train,
        "seed": args.seed,
        "heldout_fraction": args.heldout_fraction,
        "passages": len(eval_set.docs),
        "distractor_index": args.distractor_index,
        "index_articles": assistant.info().articles,
        "ingest": {"added": len(report.added), "seconds": round(ingest_s, 1)},
        "extractor": assistant.extractor.name,
        "top_k": settings.retrieval.top_k,
        "rows": rows,
        "best_by_f1": best["retrieval_weight"],
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
