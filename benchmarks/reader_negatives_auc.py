r"""No-answer AUC of reader artifacts by kind of negative, on the trainer's held-out mix.

The held-out slice of the training data (seed 13, 2%, 500 questions sampled as the trainer
samples them) with the negatives the trainer makes for it (another paragraph, a BM25
passage, and unanswerable twins: antonym, swap, negation), each artifact read the same way.
Reports the AUC of right answers (F1 >= 0.5) against each kind of negative.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/reader_negatives_auc.py \
        qa/reader_artifacts/v7 RUN/best
"""

from __future__ import annotations

import argparse
import random

from qa.common.selective import auc
from qa.reader.data import load_squad, split_heldout
from qa.reader.evaluate import read_best, right_margins
from qa.reader.negatives import NegativeConfig, expand_training
from qa.reader.perturb import KINDS as TWIN_KINDS
from qa.reader.runtime import load_runtime

# the other-paragraph and BM25 negatives (qa.reader.negatives), then the twins
KINDS = ("article", "bm25", *TWIN_KINDS)


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("artifacts", nargs="+")
    ap.add_argument("--train", default="../shared/data/train/qa_train_combined.json")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    _, held = split_heldout(load_squad(args.train), 0.02, args.seed)
    heldout = random.Random(args.seed).sample(held, min(len(held), 500))
    config = NegativeConfig(same_article=0.5, retrieved=0.5, perturbed=0.5)
    mix = expand_training(heldout, all_answers=False, negatives=config, seed=args.seed)
    negatives = [e for e in mix if not e.answers]
    positives = [e for e in heldout if e.answers]
    for artifact in args.artifacts:
        runtime = load_runtime(artifact)
        # each pair is read once; the AUCs below compare the same margins
        preds, margins = read_best(runtime, [*positives, *negatives])
        right = right_margins(positives, preds, margins)
        against = margins[len(positives) :]
        row = {"all": auc(right, against)}
        for kind in KINDS:
            subset = [
                m for m, e in zip(against, negatives, strict=True) if e.qid.endswith(f"#neg-{kind}")
            ]
            row[f"{kind} ({len(subset)})"] = auc(right, subset)
        print(artifact, {k: round(v, 3) for k, v in row.items()}, flush=True)


if __name__ == "__main__":
    main()
