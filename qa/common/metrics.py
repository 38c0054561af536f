"""Metrics shared by evaluation and reader training.

SQuAD answer scoring, retrieval recall, abstention, risk-coverage, latency.

The answer metrics follow the official evaluation scripts of SQuAD v1.1 and
SQuAD 2.0 (``evaluate-v1.1.py`` / ``evaluate-v2.0.py`` from
``rajpurkar/SQuAD-explorer``): answers are normalised (lower case, ASCII
punctuation removed, the articles *a*, *an*, *the* removed, whitespace
collapsed), exact match and token F1 are taken as the maximum over the gold
answers, and an empty gold list means "unanswerable": only an empty
prediction is then correct.
"""

from __future__ import annotations

import collections
import math
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCT = frozenset(string.punctuation)
_TYPOGRAPHIC = _PUNCT | {"“", "”", "‘", "’", "—", "–"}


def normalize_answer(text: str, *, typographic: bool = False) -> str:
    """Normalise an answer exactly as the official SQuAD scripts do.

    Lower case, remove ASCII punctuation, remove the articles a/an/the and
    collapse whitespace (in that order, as in the official script).

    Args:
        text: The answer.
        typographic: Also remove curly quotes and dashes (how the assistant
            groups equal answers from news text; the metrics keep the official
            ASCII-only rule).
    """
    text = text.lower()
    punct = _TYPOGRAPHIC if typographic else _PUNCT
    text = "".join(ch for ch in text if ch not in punct)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str | None) -> list[str]:
    """Tokens of a normalised answer (empty for ``None`` or an empty answer)."""
    return normalize_answer(text).split() if text else []


def exact_match(prediction: str | None, gold: str) -> float:
    """1.0 if the normalised prediction equals the normalised gold answer."""
    return float(
        normalize_answer(prediction if prediction is not None else "") == normalize_answer(gold)
    )


def token_f1(prediction: str | None, gold: str) -> float:
    """Token-overlap F1 of two answers (SQuAD 2.0 semantics for empty answers).

    If either side has no tokens, the score is 1.0 when both are empty and
    0.0 otherwise (identical to v1.1 whenever the gold answer is non-empty).
    """
    pred_toks = answer_tokens(prediction)
    gold_toks = answer_tokens(gold)
    if not pred_toks or not gold_toks:
        return float(pred_toks == gold_toks)
    common = collections.Counter(pred_toks) & collections.Counter(gold_toks)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(pred_toks)
    recall = num_same / len(gold_toks)
    return 2 * precision * recall / (precision + recall)


def _golds(golds: Sequence[str]) -> list[str]:
    """Gold answers as the v2 script uses them: empty ones dropped, ``[""]`` if none."""
    kept = [g for g in golds if normalize_answer(g)]
    return kept or [""]


def max_exact(prediction: str | None, golds: Sequence[str]) -> float:
    """Exact match against the best of several gold answers (empty list = unanswerable)."""
    return max(exact_match(prediction, g) for g in _golds(golds))


def max_f1(prediction: str | None, golds: Sequence[str]) -> float:
    """Token F1 against the best of several gold answers (empty list = unanswerable)."""
    return max(token_f1(prediction, g) for g in _golds(golds))


def is_answerable(golds: Sequence[str]) -> bool:
    """Whether a question has at least one non-empty gold answer."""
    return any(normalize_answer(g) for g in golds)


def contains_answer(passage: str, golds: Sequence[str]) -> bool:
    """Whether ``passage`` holds one of the gold answers as a token sequence.

    Both sides are normalised, so the match ignores case, punctuation and
    articles (as DrQA's retrieval recall does with its tokenizer).
    """
    hay = f" {normalize_answer(passage)} "
    for gold in golds:
        needle = normalize_answer(gold)
        if needle and f" {needle} " in hay:
            return True
    return False


# ---------------------------------------------------------------------------
# SQuAD 2.0: abstention with a no-answer threshold


@dataclass(frozen=True)
class ThresholdResult:
    """The best no-answer threshold on a set of questions.

    Attributes:
        threshold: Answers scoring below this are withheld (empty prediction).
        exact: Exact match (percent) with that threshold applied.
        f1: Token F1 (percent) with that threshold applied.

    """

    threshold: float
    exact: float
    f1: float


def apply_threshold(
    exact: Sequence[float],
    scores: Sequence[float],
    answerable: Sequence[bool],
    threshold: float,
) -> list[float]:
    """Per-question scores after withholding answers scoring below ``threshold``.

    Like ``apply_no_ans_threshold`` of the official v2 script, with
    ``na_prob = 1 - score``: a withheld answer scores 1 on an unanswerable
    question and 0 on an answerable one.
    """
    return [
        (float(not has) if s < threshold else e)
        for e, s, has in zip(exact, scores, answerable, strict=True)
    ]


def _best_threshold(
    values: Sequence[float],
    scores: Sequence[float],
    answered: Sequence[bool],
    answerable: Sequence[bool],
) -> tuple[float, float]:
    """Run the official ``find_best_thresh`` with na_prob = 1 - score.

    Starts from "withhold everything" and adds questions in decreasing score.
    One difference: among questions with equal scores, only the point after
    the whole tie group is considered (the official script can report a
    score in the middle of a tie that no threshold reproduces); with distinct
    scores the two agree exactly. Returns the best total (percent) and the
    threshold (a score: answers with ``score >= threshold`` are kept).
    """
    n = len(values)
    if n == 0:
        return 0.0, 0.0
    cur = float(sum(1 for has in answerable if not has))
    best, best_thresh = cur, math.inf
    order = sorted(range(n), key=lambda i: -scores[i])
    for pos, i in enumerate(order):
        diff = values[i] if answerable[i] else -1.0 if answered[i] else 0.0
        cur += diff
        last_of_tie = pos + 1 == n or scores[order[pos + 1]] != scores[i]
        if last_of_tie and cur > best:
            best, best_thresh = cur, scores[i]
    return 100.0 * best / n, best_thresh


def best_threshold(
    predictions: Sequence[str | None],
    golds: Sequence[Sequence[str]],
    scores: Sequence[float],
) -> ThresholdResult:
    """Search the no-answer threshold that maximises EM (and, separately, F1).

    Mirrors ``find_all_best_thresh`` of the official v2 script; the returned
    threshold is the one that maximises exact match, and ``f1`` is the F1 at
    that same threshold (the official script reports the F1-optimal one too,
    which can differ slightly; see :func:`best_f1_threshold`).
    """
    exact = [max_exact(p, g) for p, g in zip(predictions, golds, strict=True)]
    answered = [bool(p) for p in predictions]
    has = [is_answerable(g) for g in golds]
    em, thresh = _best_threshold(exact, scores, answered, has)
    f1 = [max_f1(p, g) for p, g in zip(predictions, golds, strict=True)]
    f1_at = apply_threshold(f1, scores, has, thresh)
    return ThresholdResult(thresh, em, 100.0 * sum(f1_at) / max(len(f1_at), 1))


def best_f1_threshold(
    predictions: Sequence[str | None],
    golds: Sequence[Sequence[str]],
    scores: Sequence[float],
) -> tuple[float, float]:
    """Return the F1-optimal threshold and its F1 (percent), like ``best_f1_thresh``."""
    f1 = [max_f1(p, g) for p, g in zip(predictions, golds, strict=True)]
    answered = [bool(p) for p in predictions]
    has = [is_answerable(g) for g in golds]
    best, thresh = _best_threshold(f1, scores, answered, has)
    return thresh, best


# ---------------------------------------------------------------------------
# Retrieval


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant passage has 0-based rank < k."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r < k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """MRR over questions; a question with no relevant passage retrieved adds 0."""
    if not ranks:
        return 0.0
    return sum(1.0 / (r + 1) for r in ranks if r is not None) / len(ranks)


# ---------------------------------------------------------------------------
# Latency


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100), linearly interpolated (numpy's default)."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency_stats(latencies_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean latency in milliseconds and questions per second (serial)."""
    total = sum(latencies_s)
    n = len(latencies_s)
    return {
        "p50_ms": 1000.0 * percentile(latencies_s, 50),
        "p95_ms": 1000.0 * percentile(latencies_s, 95),
        "mean_ms": 1000.0 * total / n if n else 0.0,
        "questions_per_s": n / total if total > 0 else 0.0,
    }
