"""Turn per-question records into the metrics of a run.

A record is the dict written to the per-question JSONL file (see
``docs/evaluation.md``). Answer records carry ``prediction``, ``score``,
``exact``, ``f1``, ``answerable``, ``citation_ok`` and ``latency_s``;
retrieval records carry ``rank`` (first passage holding a gold answer) and
``doc_rank`` (first passage of a gold document).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from qa.common import metrics as m
from qa.common import selective as sv

RECALL_KS = (1, 5, 10, 20)


def _pct(x: float) -> float:
    return round(100.0 * x, 2)


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _json_float(x: float) -> float | None:
    return None if math.isinf(x) or math.isnan(x) else round(float(x), 6)


def answer_metrics(
    records: Sequence[dict[str, Any]],
    *,
    min_score: float,
    seed: int,
    max_risk: float = 0.1,
) -> dict[str, Any]:
    """Answer quality, abstention, citation and latency metrics of one system.

    Args:
        records: Per-question answer records.
        min_score: The product's confidence threshold (answers below it are
            "not found"); metrics at that threshold are reported as ``served``.
        seed: Seed of the split into a tuning half and a reporting half.
        max_risk: Target error rate for the risk-controlled threshold.

    Returns:
        A JSON-ready dict; percentages are 0-100.

    """
    n = len(records)
    preds = [r["prediction"] for r in records]
    golds = [r["gold"] for r in records]
    scores = [float(r["score"]) for r in records]
    exact = [float(r["exact"]) for r in records]
    f1 = [float(r["f1"]) for r in records]
    has = [bool(r["answerable"]) for r in records]
    correct = [e == 1.0 for e in exact]
    out: dict[str, Any] = {
        "n": n,
        "exact": _pct(_mean(exact)),
        "f1": _pct(_mean(f1)),
    }
    # Served: the product's own threshold.
    served_em = m.apply_threshold(exact, scores, has, min_score)
    served_f1 = m.apply_threshold(f1, scores, has, min_score)
    sel = sv.selective(scores, correct, has, min_score)
    out["served"] = {
        "threshold": min_score,
        "exact": _pct(_mean(served_em)),
        "f1": _pct(_mean(served_f1)),
        "coverage": _pct(sel.coverage),
        "risk": _pct(sel.risk),
    }
    # HasAns / NoAns split (SQuAD 2.0 style), without and with the best threshold.
    n_has = sum(has)
    if n_has < n:
        out["has_ans"] = {
            "n": n_has,
            "exact": _pct(_mean([e for e, h in zip(exact, has, strict=True) if h])),
            "f1": _pct(_mean([f for f, h in zip(f1, has, strict=True) if h])),
        }
        out["no_ans"] = {
            "n": n - n_has,
            "exact": _pct(_mean([e for e, h in zip(exact, has, strict=True) if not h])),
        }
        best = m.best_threshold(preds, golds, scores)
        f1_thresh, f1_best = m.best_f1_threshold(preds, golds, scores)
        out["best_threshold"] = {
            "threshold": _json_float(best.threshold),
            "exact": round(best.exact, 2),
            "f1_at_threshold": round(best.f1, 2),
            "best_f1": round(f1_best, 2),
            "best_f1_threshold": _json_float(f1_thresh),
        }
    # Threshold tuned on one seeded half, reported on the other.
    tune, test = sv.split_halves(n, seed)
    if tune and test:

        def pick(idx: list[int], xs: Sequence[Any]) -> list[Any]:
            return [xs[i] for i in idx]

        tuned = m.best_threshold(pick(tune, preds), pick(tune, golds), pick(tune, scores))
        t_em = m.apply_threshold(
            pick(test, exact), pick(test, scores), pick(test, has), tuned.threshold
        )
        t_f1 = m.apply_threshold(
            pick(test, f1), pick(test, scores), pick(test, has), tuned.threshold
        )
        t_sel = sv.selective(
            pick(test, scores), pick(test, correct), pick(test, has), tuned.threshold
        )
        risk_t = sv.threshold_for_risk(pick(tune, scores), pick(tune, correct), max_risk)
        r_sel = sv.selective(pick(test, scores), pick(test, correct), pick(test, has), risk_t)
        out["heldout"] = {
            "seed": seed,
            "n_tune": len(tune),
            "n_test": len(test),
            "best_em_threshold": _json_float(tuned.threshold),
            "exact": _pct(_mean(t_em)),
            "f1": _pct(_mean(t_f1)),
            "coverage": _pct(t_sel.coverage),
            "risk": _pct(t_sel.risk),
            "target_risk": _pct(max_risk),
            "risk_threshold": _json_float(risk_t),
            "risk_threshold_coverage": _pct(r_sel.coverage),
            "risk_threshold_risk": _pct(r_sel.risk),
        }
    curve = sv.risk_coverage(scores, correct)
    out["aurc"] = round(curve.aurc, 4)
    # Citations: for answered, answerable questions with at least one citation.
    cited = [
        r for r in records if r["answerable"] and r["prediction"] and r["citation_ok"] is not None
    ]
    out["citation"] = {
        "n": len(cited),
        "accuracy": _pct(_mean([float(r["citation_ok"]) for r in cited])),
        "in_gold_doc": _pct(_mean([float(bool(r.get("citation_in_gold_doc"))) for r in cited])),
    }
    timed = [r for r in records if r.get("when_ok") is not None]
    out["time"] = {
        "when_n": len(timed),
        "when_accuracy": _pct(_mean([float(r["when_ok"]) for r in timed])) if timed else None,
        "with_timeline": sum(1 for r in records if r.get("others")),
        "conflicts": sum(1 for r in records if r.get("conflict")),
        "asked_as_of": sum(1 for r in records if r.get("as_of")),
    }
    out["latency"] = {
        k: round(v, 3) for k, v in m.latency_stats([r["latency_s"] for r in records]).items()
    }
    out["subsets"] = _subsets(records)
    return out


def _subsets(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    tags = sorted({t for r in records for t in r.get("tags", [])})
    subsets: dict[str, Any] = {}
    for tag in tags:
        rows = [r for r in records if tag in r.get("tags", [])]
        subsets[tag] = {
            "n": len(rows),
            "exact": _pct(_mean([float(r["exact"]) for r in rows])),
            "f1": _pct(_mean([float(r["f1"]) for r in rows])),
        }
    return subsets


def retrieval_metrics(
    records: Sequence[dict[str, Any]], ks: Sequence[int] = RECALL_KS
) -> dict[str, Any]:
    """Recall@k and MRR of one retrieval system over answerable questions.

    ``answer_recall`` counts a passage holding any gold answer (DrQA style);
    ``doc_recall`` counts a passage of a gold document.
    """
    rows = [r for r in records if r["answerable"]]
    ranks = [r["rank"] for r in rows]
    doc_ranks = [r.get("doc_rank") for r in rows]
    return {
        "n": len(rows),
        "answer_recall": {f"@{k}": _pct(m.recall_at_k(ranks, k)) for k in ks},
        "answer_mrr": round(m.mean_reciprocal_rank(ranks), 4),
        "doc_recall": {f"@{k}": _pct(m.recall_at_k(doc_ranks, k)) for k in ks},
        "doc_mrr": round(m.mean_reciprocal_rank(doc_ranks), 4),
        "latency": {
            k: round(v, 3) for k, v in m.latency_stats([r["latency_s"] for r in records]).items()
        },
    }
