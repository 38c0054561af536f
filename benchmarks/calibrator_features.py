r"""Candidate features the calibrator does not use, tried out of fold beside the shipped ones.

Reads the calibration rows as ``python -m qa.eval.calibrate`` does (the reader's held-out
training questions, their four reads plus antonym and negation twins, among the BBC
distractors; the indexes in ``--work`` are reused), with extra features for every candidate,
then fits the logistic calibrator out of fold (5 folds grouped by question) on the shipped
features alone, with each extra added, with all of them, and at other regularisation
strengths. With the default twins the first row must equal the shipped calibrator's report
(same rows, same fit). ``--twin-kinds antonym,negation,swap`` adds the swapped-name twins the
shipped fit leaves out (rows in ``<work>/rows_extra-antonym+negation+swap.jsonl``).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/calibrator_features.py \
        --distractors ../shared/data/bbc_news/bbc_news_2004-2005.jsonl --work runs/calibrate/base

``--rows FILE`` refits the rows a previous run wrote (``<work>/rows_extra.jsonl``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.answer.compose import candidates
from qa.answer.features import FEATURES
from qa.common.lexicon import sentence_bounds
from qa.common.question import specific_terms
from qa.eval.calibrate import prepare, read_rows
from qa.eval.report import write_jsonl
from qa.reader.artifact import find_artifact
from qa.settings import AnsweringSettings
from qa.types import Candidate, Span

# the extra features, in the order they follow FEATURES in a row
EXTRA: tuple[str, ...] = (
    "gap_disjoint",  # score logit minus the best candidate at another place
    "gap_overlap",  # score logit minus the best candidate overlapping this one (a boundary rival)
    "place_mass",  # share of all candidates' raw score at this candidate's place
    "ends_at_punct",  # the span is followed by punctuation or the end of the text
    "before_q",  # share of the three words before the span that the question has
    "after_q",  # share of the three words after the span that the question has
    "log_words_x_margin",  # log_answer_words x margin (long answers the reader is sure of)
    "names_not_in_sentence",  # the question's names that the answer's sentence lacks
)
# the twins the shipped calibrator was fitted with (docs/reader.md, "The answer calibrator")
SHIPPED_TWINS = ("antonym", "negation")
_WORD = re.compile(r"[a-z0-9']+")


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _overlaps(a: Span, b: Span) -> bool:
    same = a.hit.article.article_id == b.hit.article.article_id
    return same and a.start < b.end and b.start < a.end


def extra_features(question: str, found: Sequence[Candidate]) -> list[tuple[float, ...]]:
    """The :data:`EXTRA` features of each candidate of one read."""
    asked = set(_WORD.findall(question.lower()))
    names = [t for t in specific_terms(question) if not any(ch.isdigit() for ch in t)]
    total = sum(c.raw for c in found) or 1.0
    out: list[tuple[float, ...]] = []
    for i, c in enumerate(found):
        best = c.spans[0]
        own = _logit(c.raw)
        rivals = [o for j, o in enumerate(found) if j != i]
        near = [o for o in rivals if any(_overlaps(best, s) for s in o.spans)]
        far = [o for o in rivals if o not in near]
        text = best.hit.article.text
        following = text[best.end : best.end + 1]
        before = _WORD.findall(text[max(0, best.start - 60) : best.start].lower())[-3:]
        after = _WORD.findall(text[best.end : best.end + 60].lower())[:3]
        margin = c.features[FEATURES.index("margin")]
        words = c.features[FEATURES.index("log_answer_words")]
        lo, hi = sentence_bounds(text, best.start, best.end)
        sentence = text[lo:hi].lower()
        unsaid = sum(1 for n in names if not re.search(rf"(?<!\w){re.escape(n)}(?!\w)", sentence))
        out.append(
            (
                own - _logit(max(o.raw for o in far)) if far else 8.0,
                own - _logit(max(o.raw for o in near)) if near else 8.0,
                (c.raw + sum(o.raw for o in near)) / total,
                1.0 if following == "" or following in ".,;:!?)\"'\n" else 0.0,
                sum(w in asked for w in before) / 3,
                sum(w in asked for w in after) / 3,
                words * margin,
                float(unsaid),
            )
        )
    return out


def propose(question: str, spans: Sequence[Span], settings: AnsweringSettings) -> list[Candidate]:
    """The product's candidates with :data:`EXTRA` appended to their features."""
    found = candidates(question, spans, settings)
    return [
        dataclasses.replace(c, features=(*c.features, *e))
        for c, e in zip(found, extra_features(question, found), strict=True)
    ]


def compare(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Out-of-fold quality of the shipped features, each extra, all extras, other C."""
    import numpy as np

    from qa.eval.calibration_fit import (
        in_setting,
        logistic,
        out_of_fold,
        quality,
        served_reads,
        standardise,
    )

    names = [*FEATURES, *EXTRA]
    x = np.asarray([r["features"] for r in rows], dtype=np.float64)
    y = np.asarray([r["label"] for r in rows], dtype=np.int64)
    groups = np.asarray([r["qid"] for r in rows])

    def fit(columns: Sequence[str], c: float = 1.0) -> dict[str, float]:
        z, _, _ = standardise(x[:, [names.index(n) for n in columns]])
        served = served_reads(rows, out_of_fold(z, y, groups, 5, lambda: logistic(c)).tolist())
        every, open_ = quality(served, 0.2), quality(in_setting(served, "open"), 0.2)
        return {
            "ece": every["ece"],
            "aurc": every["aurc"],
            "open_aurc": open_["aurc"],
            "open_risk_at_50_coverage": open_["risk_at_50_coverage"],
        }

    shipped = list(FEATURES)
    table = {"shipped features": fit(shipped)}
    for name in EXTRA:
        table[f"+ {name}"] = fit([*shipped, name])
    table["+ all extras"] = fit([*shipped, *EXTRA])
    for c in (0.1, 0.3, 3.0, 10.0):
        table[f"shipped features, C={c}"] = fit(shipped, c)
    return table


def right_by_length(rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Exact-match rate of the top answer of the answerable reads, by its length in words."""
    buckets = {"1": (1, 1), "2-3": (2, 3), "4-7": (4, 7), "8-12": (8, 12), "13+": (13, 10**9)}
    labels: dict[str, list[int]] = {name: [] for name in buckets}
    for r in rows:
        if r["rank"] == 0 and r["setting"] in ("open", "closed"):
            n = len(r["text"].split())
            name = next(k for k, (lo, hi) in buckets.items() if lo <= n <= hi)
            labels[name].append(int(r["label"]))
    return {
        k: {"reads": len(v), "right": round(sum(v) / len(v), 4) if v else 0.0}
        for k, v in labels.items()
    }


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distractors", default="../shared/data/bbc_news/bbc_news_2004-2005.jsonl")
    ap.add_argument("--work", type=Path, default=Path("runs/calibrate/base"))
    ap.add_argument("--artifact", default=None, help="reader artifact (default: the shipped one)")
    ap.add_argument("--rows", type=Path, default=None, help="refit rows a previous run wrote")
    ap.add_argument(
        "--twin-kinds",
        default=",".join(SHIPPED_TWINS),
        help="twins read (default: the shipped calibrator's; of antonym, swap, negation)",
    )
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/calibrator_features.json"))
    args = ap.parse_args()
    if args.rows is not None:
        rows = [json.loads(line) for line in args.rows.read_text().splitlines()]
    else:
        artifact = Path(args.artifact) if args.artifact else find_artifact()
        if artifact is None:
            ap.error("no reader artifact")
        plan = prepare(artifact)
        kinds = [k for k in args.twin_kinds.split(",") if k]
        rows, _, _ = read_rows(plan, args.distractors, args.work, kinds, propose=propose)
        shipped = tuple(kinds) == SHIPPED_TWINS
        path = args.work / (
            "rows_extra.jsonl" if shipped else f"rows_extra-{'+'.join(kinds)}.jsonl"
        )
        write_jsonl(path, rows)
    table = compare(rows)
    width = max(len(k) for k in table)
    print(f"{'':{width}}  ECE     AURC    open AURC  open risk@50%")
    for name, q in table.items():
        print(
            f"{name:{width}}  {q['ece']:.4f}  {q['aurc']:.4f}  {q['open_aurc']:.4f}"
            f"     {q['open_risk_at_50_coverage']:.4f}"
        )
    command = "python benchmarks/calibrator_features.py " + " ".join(sys.argv[1:])
    by_length = right_by_length(rows)
    print("top answers of the answerable reads, right by length:", by_length)
    report = {
        "command": command,
        "rows": len(rows),
        "extra": list(EXTRA),
        "out_of_fold": table,
        "right_by_answer_words": by_length,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
