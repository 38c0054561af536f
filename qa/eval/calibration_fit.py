"""Fitting the answer calibrator and measuring it out of fold.

scikit-learn fits the logistic model (only here, at fitting time; the product applies
the saved weights itself). Quality is measured on out-of-fold predictions, folds
grouped by question, so no question is scored by a model that saw it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.answer.calibration import Calibrator
from qa.answer.features import FEATURES
from qa.common import selective as sv


def served_reads(
    rows: Sequence[dict[str, Any]], scores: Sequence[float]
) -> dict[tuple[str, str], tuple[float, bool]]:
    """Per read (question, setting): the best-scoring candidate's score and label."""
    best: dict[tuple[str, str], tuple[float, bool]] = {}
    for row, score in zip(rows, scores, strict=True):
        key = (row["qid"], row["setting"])
        if key not in best or score > best[key][0]:
            best[key] = (score, bool(row["label"]))
    return best


def in_setting(
    served: dict[tuple[str, str], tuple[float, bool]], setting: str
) -> dict[tuple[str, str], tuple[float, bool]]:
    """The reads of ``served`` made in one setting ("open", "closed", ...)."""
    return {k: v for k, v in served.items() if k[1] == setting}


def quality(served: dict[tuple[str, str], tuple[float, bool]], risk: float) -> dict[str, Any]:
    """ECE, AURC, accuracy, risk at 50% coverage and the threshold for ``risk``."""
    conf = [c for c, _ in served.values()]
    right = [r for _, r in served.values()]
    rel = sv.reliability(conf, right)
    curve = sv.risk_coverage(conf, right)
    at_half = next((r for c, r in zip(curve.coverage, curve.risk, strict=True) if c >= 0.5), 0.0)
    threshold = sv.threshold_for_risk(conf, right, risk)
    kept = [r for c, r in zip(conf, right, strict=True) if c >= threshold]
    return {
        "reads": len(conf),
        "accuracy": round(sum(right) / max(1, len(right)), 4),
        "ece": round(rel.ece, 4),
        "aurc": round(curve.aurc, 4),
        "risk_at_50_coverage": round(at_half, 4),
        "threshold_for_risk": None if math.isinf(threshold) else round(threshold, 4),
        "coverage_at_threshold": round(len(kept) / max(1, len(conf)), 4),
        "risk_at_threshold": round(1 - sum(kept) / len(kept), 4) if kept else None,
        "reliability": [
            {"low": lo, "high": hi, "n": n, "confidence": round(c, 4), "accuracy": round(a, 4)}
            for lo, hi, n, c, a in rel.bins
        ],
    }


ABLATIONS: dict[str, tuple[str, ...]] = {
    "without type fit": ("type_fit", "type_open"),
    "without agreement": ("log_spans", "log_articles"),
    "without retrieval": ("retrieval_score", "retrieval_rank", "dense_score"),
    "without question words": ("question_words_near", "answer_in_question"),
    "without missing terms": ("missing_names", "missing_numbers"),
    "without sentence clash": (
        "negation_unmatched",
        "antonym_in_sentence",
        "numbers_not_in_sentence",
    ),
}


def standardise(x: Any) -> tuple[Any, Any, Any]:
    """``(z, mean, scale)``: the columns of ``x`` centred and scaled (a constant one by 1)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return (x - mean) / scale, mean, scale


def logistic(c: float) -> Any:
    """The calibrator's model: logistic regression with inverse regularisation ``c``."""
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=5000)


def _boosted() -> Any:
    """Gradient-boosted trees, the alternative the report compares the logistic model with."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(
        max_depth=3, learning_rate=0.05, max_iter=200, l2_regularization=1.0, random_state=0
    )


def out_of_fold(z: Any, y: Any, groups: Any, folds: int, make: Any) -> Any:
    """Probabilities for every row from models (``make()``) that never saw its group.

    Args:
        z: Standardised features, one row per candidate.
        y: Labels (1 = right).
        groups: The question of each row; folds never split a question.
        folds: Number of folds.
        make: Builds an unfitted scikit-learn classifier.
    """
    import numpy as np
    from sklearn.model_selection import GroupKFold

    oof = np.zeros(len(y))
    for train, test in GroupKFold(n_splits=folds).split(z, y, groups):
        model = make()
        model.fit(z[train], y[train])
        oof[test] = model.predict_proba(z[test])[:, 1]
    return oof


_SUMMARY = ("ece", "aurc", "risk_at_50_coverage", "accuracy")


def fit_calibrator(
    rows: Sequence[dict[str, Any]],
    *,
    reader_sha256: str,
    risk: float = 0.2,
    folds: int = 5,
    c: float = 1.0,
) -> tuple[Calibrator, dict[str, Any]]:
    """Fit the logistic calibrator on candidate ``rows`` and report its out-of-fold quality.

    Args:
        rows: Candidate rows with ``qid``, ``setting``, ``label``, ``raw`` and ``features``.
        reader_sha256: sha256 of the reader weights the rows were read with.
        risk: Target risk for the recommended threshold.
        folds: Cross-validation folds (grouped by question).
        c: Inverse regularisation strength.

    Returns:
        The calibrator fitted on all rows, and a report: out-of-fold quality of the
        calibrated probability and, for comparison, of the uncalibrated composed score.
    """
    import numpy as np

    x = np.asarray([r["features"] for r in rows], dtype=np.float64)
    y = np.asarray([r["label"] for r in rows], dtype=np.int64)
    groups = np.asarray([r["qid"] for r in rows])
    z, mean, scale = standardise(x)
    oof = out_of_fold(z, y, groups, folds, lambda: logistic(c))
    ablations = {}
    for name, dropped in ABLATIONS.items():
        keep = [i for i, f in enumerate(FEATURES) if f not in dropped]
        probs = out_of_fold(z[:, keep], y, groups, folds, lambda: logistic(c))
        q = quality(served_reads(rows, probs.tolist()), risk)
        ablations[name] = {k: q[k] for k in _SUMMARY}
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # OpenMP threads beside a busy core slow it tenfold
        boosted_oof = out_of_fold(z, y, groups, folds, _boosted)
    boosted_served = served_reads(rows, boosted_oof.tolist())
    boosted = quality(boosted_served, risk)
    model = logistic(c)
    model.fit(z, y)
    calibrator = Calibrator(
        features=FEATURES,
        mean=tuple(float(v) for v in mean),
        scale=tuple(float(v) for v in scale),
        coef=tuple(float(v) for v in model.coef_[0]),
        intercept=float(model.intercept_[0]),
        reader_sha256=reader_sha256,
    )
    by_setting: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        by_setting[r["setting"]].append(i)
    calibrated = served_reads(rows, oof.tolist())
    raw = served_reads(rows, [float(r["raw"]) for r in rows])
    report: dict[str, Any] = {
        "rows": len(rows),
        "positives": int(y.sum()),
        "folds": folds,
        "C": c,
        "target_risk": risk,
        "calibrated_out_of_fold": quality(calibrated, risk),
        "uncalibrated_raw_score": quality(raw, risk),
        "by_setting": {
            name: {
                "calibrated": quality(in_setting(calibrated, name), risk),
                "raw": quality(in_setting(raw, name), risk),
            }
            for name in sorted(by_setting)
        },
        "ablations_out_of_fold": ablations,
        # the same features in gradient-boosted trees (depth 3, 200 rounds), for comparison
        "gradient_boosting_out_of_fold": {
            **{k: boosted[k] for k in _SUMMARY},
            "aurc_by_setting": {
                name: quality(in_setting(boosted_served, name), risk)["aurc"]
                for name in sorted(by_setting)
            },
        },
        "weights": dict(zip(FEATURES, (round(w, 4) for w in calibrator.coef), strict=True)),
    }
    return calibrator, report


def reliability_plot(report: dict[str, Any], path: Path) -> None:
    """A reliability diagram of the out-of-fold calibrated and raw confidences."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    for key, label in (
        ("calibrated_out_of_fold", "calibrated (out of fold)"),
        ("uncalibrated_raw_score", "composed score (before)"),
    ):
        q = report[key]
        bins = q["reliability"]
        ax.plot(
            [b["confidence"] for b in bins],
            [b["accuracy"] for b in bins],
            marker="o",
            label=f"{label}: ECE {q['ece']:.3f}",
        )
    ax.set_xlabel("shown confidence")
    ax.set_ylabel("share right (EM)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Answer confidence on held-out training questions")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
