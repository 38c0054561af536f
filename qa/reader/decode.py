"""Decode answer spans from start/end logits of one window.

Everything here is plain numpy so it can be tested on synthetic logits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class WindowSpan:
    """A candidate span in one window, in characters of the window's passage."""

    start: int
    end: int
    logit: float  # start_logit + end_logit
    null_logit: float  # start_logit[CLS] + end_logit[CLS] of the same window

    @property
    def margin(self) -> float:
        """How much the span beats the window's no-answer ([CLS]) score."""
        return self.logit - self.null_logit


def decode_window(
    start_logits: np.ndarray,
    end_logits: np.ndarray,
    offsets: Sequence[tuple[int, int] | None],
    *,
    n_best: int = 5,
    max_answer_tokens: int = 30,
    max_answer_chars: int | None = None,
    top_k: int = 20,
) -> list[WindowSpan]:
    """The ``n_best`` spans of a window, best first.

    Args:
        start_logits: ``(L,)`` start logits (padding may follow; it is ignored
            because its offsets are ``None`` or missing).
        end_logits: ``(L,)`` end logits, aligned with ``start_logits``.
        offsets: Per token, ``(char_start, char_end)`` in the passage, or ``None`` for
            tokens outside the passage (question, specials, padding).
        n_best: How many spans to return.
        max_answer_tokens: Longest span in tokens.
        max_answer_chars: Longest span in characters (``None``: no limit).
        top_k: Start and end candidates considered (the best ``top_k`` of each).
    """
    n = min(len(offsets), len(start_logits))
    ctx = np.array([i for i in range(n) if offsets[i] is not None], dtype=np.int64)
    if ctx.size == 0:
        return []
    s = np.asarray(start_logits, dtype=np.float64)
    e = np.asarray(end_logits, dtype=np.float64)
    null = float(s[0] + e[0])
    k = min(top_k, ctx.size)
    s_idx = ctx[np.argsort(-s[ctx], kind="stable")[:k]]
    e_idx = ctx[np.argsort(-e[ctx], kind="stable")[:k]]
    pairs = []
    for i in s_idx:
        for j in e_idx:
            if j < i or j - i + 1 > max_answer_tokens:
                continue
            cs, ce = offsets[i][0], offsets[j][1]  # type: ignore[index]
            if ce <= cs or (max_answer_chars is not None and ce - cs > max_answer_chars):
                continue
            pairs.append((float(s[i] + e[j]), int(cs), int(ce)))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    out: list[WindowSpan] = []
    seen: set[tuple[int, int]] = set()
    for logit, cs, ce in pairs:
        if (cs, ce) in seen:
            continue
        seen.add((cs, ce))
        out.append(WindowSpan(cs, ce, logit, null))
        if len(out) >= n_best:
            break
    return out


def calibrated(margin: float, a: float, b: float) -> float:
    """Probability that a span is right: ``sigmoid(a * margin + b)``, in [0, 1]."""
    z = a * margin + b
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def fit_calibration(
    margins: Sequence[float], labels: Sequence[int], iters: int = 200
) -> tuple[float, float]:
    """Fit ``(a, b)`` of :func:`calibrated` by logistic regression (Newton steps)."""
    x = np.asarray(margins, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.size == 0 or y.min() == y.max():
        return 1.0, 0.0
    w = np.zeros(2)
    X = np.stack([x, np.ones_like(x)], axis=1)
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-(X @ w)))
        g = X.T @ (p - y) + 1e-4 * w
        H = (X * (p * (1 - p))[:, None]).T @ X + 1e-4 * np.eye(2)
        step = np.linalg.solve(H, g)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return float(w[0]), float(w[1])
