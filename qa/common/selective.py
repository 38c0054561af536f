"""Selective answering: risk-coverage, calibration (reliability), thresholds, AUC.

How well a confidence orders and predicts right answers; shared by evaluation, the
reader's held-out checks and the answer calibrator's fitting.
"""

from __future__ import annotations

import bisect
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass


def auc(pos: Sequence[float], neg: Sequence[float]) -> float:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if not pos or not neg:
        return float("nan")
    p = sorted(pos)
    wins = 0.0
    for x in neg:
        below = bisect.bisect_left(p, x)
        above_eq = bisect.bisect_right(p, x)
        wins += (len(p) - above_eq) + 0.5 * (above_eq - below)
    return wins / (len(p) * len(neg))


# ---------------------------------------------------------------------------
# Abstention: risk-coverage


@dataclass(frozen=True)
class RiskCoverage:
    """The risk-coverage curve of answers ranked by confidence.

    Attributes:
        coverage: Share of questions answered, for each cut-off (ascending).
        risk: Error rate among the answered questions at that cut-off.
        thresholds: The score of the last question answered at that cut-off.
        aurc: Area under the curve: the mean risk over all cut-offs
            (lower is better; 0 when every answer is right).

    """

    coverage: list[float]
    risk: list[float]
    thresholds: list[float]
    aurc: float


def risk_coverage(scores: Sequence[float], correct: Sequence[bool]) -> RiskCoverage:
    """Risk-coverage curve: answer the k most confident questions, k = 1..n.

    Ties in score are answered together (one point per distinct score), so
    the curve does not depend on the order of equal scores.
    """
    n = len(scores)
    if n == 0:
        return RiskCoverage([], [], [], 0.0)
    order = sorted(range(n), key=lambda i: -scores[i])
    coverage: list[float] = []
    risk: list[float] = []
    thresholds: list[float] = []
    errors = 0
    area = 0.0
    for pos, i in enumerate(order):
        errors += 0 if correct[i] else 1
        k = pos + 1
        last_of_tie = k == n or scores[order[k]] != scores[i]
        if last_of_tie:
            coverage.append(k / n)
            risk.append(errors / k)
            thresholds.append(float(scores[i]))
    # Mean risk over k = 1..n with ties resolved to their group's risk.
    prev_k = 0
    for cov, r in zip(coverage, risk, strict=True):
        k = round(cov * n)
        area += r * (k - prev_k)
        prev_k = k
    return RiskCoverage(coverage, risk, thresholds, area / n)


@dataclass(frozen=True)
class Reliability:
    """How well confidences match accuracy (equal-width bins over [0, 1]).

    Attributes:
        ece: Expected calibration error: the bin-size-weighted mean of
            ``|mean confidence - accuracy|`` over the non-empty bins.
        bins: Per non-empty bin ``(low, high, count, mean confidence, accuracy)``.

    """

    ece: float
    bins: list[tuple[float, float, int, float, float]]


def reliability(
    confidences: Sequence[float], correct: Sequence[bool], n_bins: int = 10
) -> Reliability:
    """Expected calibration error and the reliability diagram's bins."""
    n = len(confidences)
    if n == 0:
        return Reliability(0.0, [])
    groups: list[list[int]] = [[] for _ in range(n_bins)]
    for i, c in enumerate(confidences):
        groups[min(int(c * n_bins), n_bins - 1)].append(i)
    bins = []
    ece = 0.0
    for b, members in enumerate(groups):
        if not members:
            continue
        conf = sum(confidences[i] for i in members) / len(members)
        acc = sum(1.0 for i in members if correct[i]) / len(members)
        ece += len(members) / n * abs(conf - acc)
        bins.append((b / n_bins, (b + 1) / n_bins, len(members), conf, acc))
    return Reliability(ece, bins)


def split_halves(n: int, seed: int) -> tuple[list[int], list[int]]:
    """Split indices ``0..n-1`` into two seeded halves (tune, test)."""
    idx = list(range(n))
    random.Random(seed).shuffle(idx)
    half = n // 2
    return sorted(idx[:half]), sorted(idx[half:])


def threshold_for_risk(scores: Sequence[float], correct: Sequence[bool], max_risk: float) -> float:
    """Return the lowest threshold whose answered questions have risk <= ``max_risk``.

    Returns ``math.inf`` (answer nothing) when no cut-off reaches the target.
    """
    curve = risk_coverage(scores, correct)
    best = math.inf
    for r, t in zip(curve.risk, curve.thresholds, strict=True):
        if r <= max_risk:
            best = t
    return best


@dataclass(frozen=True)
class SelectiveResult:
    """Answers kept at a fixed threshold: how many, and how many right.

    Attributes:
        threshold: Answers with ``score >= threshold`` are given.
        coverage: Share of questions answered.
        risk: Error rate among the answered (0 when none answered).
        accuracy: Share of all questions handled correctly: a right answer,
            or a withheld answer on an unanswerable question.
        n: Number of questions.

    """

    threshold: float
    coverage: float
    risk: float
    accuracy: float
    n: int


def selective(
    scores: Sequence[float],
    correct: Sequence[bool],
    answerable: Sequence[bool],
    threshold: float,
) -> SelectiveResult:
    """Coverage, risk and overall accuracy when withholding answers below ``threshold``."""
    n = len(scores)
    kept = [i for i in range(n) if scores[i] >= threshold]
    wrong = sum(1 for i in kept if not correct[i])
    handled = sum(1 for i in kept if correct[i]) + sum(
        1 for i in range(n) if scores[i] < threshold and not answerable[i]
    )
    return SelectiveResult(
        threshold=threshold,
        coverage=len(kept) / n if n else 0.0,
        risk=wrong / len(kept) if kept else 0.0,
        accuracy=handled / n if n else 0.0,
        n=n,
    )
