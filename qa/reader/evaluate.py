"""Closed-setting SQuAD evaluation (official v1.1 normalisation) and score calibration.

Run: ``python -m qa.reader.evaluate --artifact DIR --data ../shared/data/squad/dev-v1.1.json
--sample 1000 --seed 0`` (evaluation only: nothing here trains or tunes on its data,
except :func:`calibrate`, which the trainer runs on its held-out *training* slice).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.common.files import atomic_write_text
from qa.common.metrics import best_f1_threshold, max_exact, max_f1
from qa.common.selective import auc
from qa.reader.data import Example, load_squad
from qa.reader.decode import fit_calibration
from qa.reader.runtime import ReaderRuntime


def sample_examples(examples: Sequence[Example], n: int | None, seed: int) -> list[Example]:
    """``n`` examples drawn with ``random.Random(seed)`` (all of them when ``n`` is None)."""
    items = [e for e in examples if e.answers]
    if n is None or n >= len(items):
        return list(items)
    return random.Random(seed).sample(items, n)


def predict(runtime: ReaderRuntime, examples: Sequence[Example], chunk: int = 256) -> list[str]:
    """The best span text for each example (closed setting: its own passage)."""
    preds: list[str] = []
    for i in range(0, len(examples), chunk):
        part = examples[i : i + chunk]
        spans = runtime.read([e.question for e in part], [e.context for e in part], n_best=1)
        for e, sp in zip(part, spans, strict=True):
            preds.append(e.context[sp[0].start : sp[0].end] if sp else "")
    return preds


def score(examples: Sequence[Example], preds: Sequence[str]) -> dict[str, float]:
    """EM and F1 in percent."""
    em = f1 = 0.0
    for e, p in zip(examples, preds, strict=True):
        golds = [t for t, _ in e.answers]
        em += max_exact(p, golds)
        f1 += max_f1(p, golds)
    n = max(1, len(examples))
    return {"exact_match": 100 * em / n, "f1": 100 * f1 / n, "n": len(examples)}


def evaluate_closed(runtime: ReaderRuntime, examples: Sequence[Example]) -> dict[str, float]:
    """Closed-setting EM/F1 of ``runtime`` on ``examples``."""
    return score(examples, predict(runtime, examples))


def evaluate_mixed(
    runtime: ReaderRuntime, positives: Sequence[Example], negatives: Sequence[Example]
) -> dict[str, float]:
    """Held-out abstention: answerable vs. unanswerable (question, passage) pairs.

    Returns ``mixed_f1`` (F1 at the best no-answer threshold on the margin, as the
    official SQuAD 2.0 script computes it, in percent) and ``noans_auc`` (how well the
    margin separates right answers, F1 >= 0.5, from the negatives).
    """
    pos = [e for e in positives if e.answers]
    pairs = [*pos, *negatives]
    preds, margins = read_best(runtime, pairs)
    golds = [[t for t, _ in e.answers] for e in pairs]
    threshold, mixed = best_f1_threshold(preds, golds, margins)
    return {
        "mixed_f1": mixed,
        "mixed_threshold": threshold,
        "noans_auc": auc(right_margins(pos, preds, margins), margins[len(pos) :]),
        "n_negatives": len(negatives),
    }


def read_best(runtime: ReaderRuntime, pairs: Sequence[Example]) -> tuple[list[str], list[float]]:
    """Each pair's best span (``""`` when none) and its margin over no-answer (-1e9 when none)."""
    spans = []
    for i in range(0, len(pairs), 256):
        part = pairs[i : i + 256]
        spans.extend(runtime.read([e.question for e in part], [e.context for e in part], n_best=1))
    preds: list[str] = []
    margins: list[float] = []
    for e, sp in zip(pairs, spans, strict=True):
        preds.append(e.context[sp[0].start : sp[0].end] if sp else "")
        margins.append(sp[0].margin if sp else -1e9)
    return preds, margins


def right_margins(
    positives: Sequence[Example], preds: Sequence[str], margins: Sequence[float]
) -> list[float]:
    """The margins of the answerable pairs read right (F1 >= 0.5), the first ``len(positives)``."""
    return [
        m
        for e, p, m in zip(positives, preds, margins, strict=False)
        if max_f1(p, [t for t, _ in e.answers]) >= 0.5
    ]


def calibrate(
    runtime: ReaderRuntime, heldout: Sequence[Example], seed: int = 0, limit: int = 250
) -> tuple[float, float]:
    """Fit the score calibration on held-out *training* questions.

    Positives: each question read against its own passage, label 1 when the best
    span has F1 >= 0.5. Negatives: the question read against a passage of another
    question (label 0), so that a low score means "not in this chunk".
    """
    rng = random.Random(seed)
    items = [e for e in heldout if e.answers][:limit]
    contexts = sorted({e.context for e in items})
    qs: list[str] = []
    ps: list[str] = []
    labels_gold: list[list[str] | None] = []
    for e in items:
        qs.append(e.question)
        ps.append(e.context)
        labels_gold.append([t for t, _ in e.answers])
        other = rng.choice(contexts)
        if other != e.context:
            qs.append(e.question)
            ps.append(other)
            labels_gold.append(None)
    margins, labels = [], []
    for i in range(0, len(qs), 256):
        spans = runtime.read(qs[i : i + 256], ps[i : i + 256], n_best=1)
        for sp, p, golds in zip(spans, ps[i : i + 256], labels_gold[i : i + 256], strict=True):
            if not sp:
                continue
            margins.append(sp[0].margin)
            text = p[sp[0].start : sp[0].end]
            labels.append(int(golds is not None and max_f1(text, golds) >= 0.5))
    return fit_calibration(margins, labels)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: closed EM/F1 of an artifact on a SQuAD-format file."""
    from qa.reader.artifact import ArtifactError, find_artifact
    from qa.reader.runtime import load_runtime

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifact", default=None, help="artifact dir (default: newest shipped)")
    ap.add_argument("--data", default="../shared/data/squad/dev-v1.1.json")
    ap.add_argument("--sample", type=int, default=1000, help="0 = all questions")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--bf16", action="store_true", help="read under bf16 autocast")
    ap.add_argument("--json", default=None, help="also write the result here")
    ap.add_argument(
        "--record",
        default=None,
        metavar="NAME",
        help="record the result in the artifact manifest under scores.NAME",
    )
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    artifact = Path(args.artifact) if args.artifact is not None else find_artifact()
    if artifact is None:
        raise ArtifactError("no reader artifact under qa/reader_artifacts/")
    runtime = load_runtime(artifact)
    examples = sample_examples(load_squad(args.data), args.sample or None, args.seed)
    t0 = time.perf_counter()
    from contextlib import nullcontext

    with torch.autocast("cpu", dtype=torch.bfloat16) if args.bf16 else nullcontext():
        result: dict[str, Any] = dict(evaluate_closed(runtime, examples))
    result["seconds"] = round(time.perf_counter() - t0, 1)
    result.update(
        data=str(args.data),
        sample=args.sample,
        seed=args.seed,
        bf16=args.bf16,
        artifact=str(artifact),
    )
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    if args.record:
        mpath = artifact / "manifest.json"
        manifest = json.loads(mpath.read_text())
        rec = {k: v for k, v in result.items() if k != "artifact"}
        rec["command"] = "python -m qa.reader.evaluate " + " ".join(
            argv if argv is not None else sys.argv[1:]
        )
        manifest.setdefault("scores", {})[args.record] = rec
        atomic_write_text(mpath, json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
