"""News time in answers: when an answer happened, and which source leads when they differ.

- :func:`span_time` resolves the time an answer names, or its sentence names, against
  its article's date ("Friday" in an article of 2025-11-07 is that day).
- :func:`lead_and_others`: when several confident candidates come from different
  articles, the newest article's answer leads (news supersedes news) and the others
  become a timeline, newest first; a different answer dated the same day as the lead
  is a conflict, shown, not hidden. A question about a period ("in 2024") prefers
  candidates from articles of that period.
"""

from __future__ import annotations

from collections.abc import Sequence

from qa.answer.citations import citation_for
from qa.common.when import find_time_expressions, resolve, resolve_in
from qa.ingest.chunking import sentence_spans
from qa.settings import AnsweringSettings
from qa.types import Candidate, OtherAnswer, Span, TimeScope, When


def span_time(span: Span, asks_time: bool = True) -> When | None:
    """The time ``span`` names; for a question about time, else the nearest in its sentence.

    Args:
        span: The answer span.
        asks_time: The question asks when; then a span without a time of its own
            ("Tuesday, replacing Tom Elling" has one, "after the vote" has not) takes
            the time nearest to it in its sentence.

    ``None`` for an undated article, or when neither holds a time expression.
    """
    article = span.hit.article
    if not article.date:
        return None
    chunk = span.hit.chunk
    rel_start, rel_end = span.start - chunk.start, span.end - chunk.start
    lo, hi = 0, len(chunk.text)
    for a, b in sentence_spans(chunk.text):
        if a <= rel_start < b or (a < rel_end <= b):
            lo, hi = a, b
            break
    sentence = chunk.text[lo:hi]
    when = resolve_in(article.text, span.start, span.end, article.date, sentence)
    if when is not None or not asks_time:
        return when
    found = find_time_expressions(sentence)
    if not found:
        return None
    here = rel_start - lo

    def distance(item: tuple[int, int, str]) -> int:
        s, e, _ = item
        return 0 if s <= here < e else min(abs(s - here), abs(e - here))

    for _start, _end, phrase in sorted(found, key=distance):
        resolved = resolve(phrase, article.date, sentence)
        if resolved is not None:
            return resolved
    return None


def candidate_date(candidate: Candidate) -> str | None:
    """The newest date among the articles that give ``candidate`` (``None``: all undated)."""
    dates = [s.hit.article.date for s in candidate.spans if s.hit.article.date]
    return max(dates) if dates else None


def _in_scope(candidate: Candidate, scope: TimeScope | None) -> bool:
    """Whether an article of the question's period gives ``candidate``."""
    if scope is None or not (scope.date_from or scope.date_to):
        return False
    for span in candidate.spans:
        date = span.hit.article.date
        if date is None:
            continue
        if scope.date_from and date < scope.date_from:
            continue
        if scope.date_to and date > scope.date_to:
            continue
        return True
    return False


def _articles(candidate: Candidate) -> set[str]:
    return {s.hit.article.article_id for s in candidate.spans}


def _same_answer(a: Candidate, b: Candidate) -> bool:
    """Whether one answer contains the other ("19", "19 ferries"): no disagreement."""
    return a.key in b.key or b.key in a.key


def lead_and_others(
    scored: Sequence[tuple[Candidate, float]],
    settings: AnsweringSettings,
    scope: TimeScope | None,
) -> tuple[Candidate, float, list[tuple[Candidate, float]]]:
    """Pick the leading candidate and its rivals (other articles' different answers).

    The most confident candidate leads, except that (with ``settings.time_aware``):
    a question about a period ("in 2023") prefers the best candidate that an article
    of that period gives, when one reaches ``min_score`` and a fifth of the best
    confidence; and a question about the present ("who is", "how many ... does",
    "now") lets the newest article's candidate lead among the confident ones
    (confidence at least ``min_score`` and ``rival_ratio`` of the best).

    Returns:
        ``(lead, its confidence, rivals)``: rivals are confident candidates from
        articles that do not give the lead's answer, one per article, newest first.
    """
    ordered = sorted(scored, key=lambda cs: -cs[1])
    best, best_score = ordered[0]
    if not settings.time_aware:
        return best, best_score, []
    lead, lead_score = best, best_score
    in_scope = [
        (c, p)
        for c, p in ordered
        if _in_scope(c, scope) and p >= max(settings.min_score, 0.2 * best_score)
    ]
    floor = max(settings.min_score, settings.rival_ratio * best_score)
    contenders = [(c, p) for c, p in ordered if p >= floor]
    if in_scope:
        lead, lead_score = in_scope[0]
        contenders = [(c, p) for c, p in contenders if _in_scope(c, scope)] or in_scope
    if scope is not None and scope.prefer_latest:
        pool = [(c, p) for c, p in contenders if candidate_date(c)]
        if pool:
            lead, lead_score = max(pool, key=lambda cp: (candidate_date(cp[0]) or "", cp[1]))
    taken = set(_articles(lead))
    rivals = []
    for c, p in sorted(
        contenders, key=lambda cp: (candidate_date(cp[0]) or "", cp[1]), reverse=True
    ):
        if c is lead or _same_answer(c, lead) or _articles(c) & taken:
            continue
        taken |= _articles(c)
        rivals.append((c, p))
    return lead, lead_score, rivals


def other_answers(
    rivals: Sequence[tuple[Candidate, float]], lead_date: str | None
) -> tuple[tuple[OtherAnswer, ...], bool]:
    """The timeline entries of ``rivals`` and whether one conflicts with the lead.

    A rival conflicts when its article is dated the same day as the lead's.
    """
    out = []
    conflict = False
    for candidate, score in rivals:
        span = candidate.spans[0]
        date = candidate_date(candidate)
        same_day = lead_date is not None and date == lead_date
        conflict = conflict or same_day
        out.append(
            OtherAnswer(
                text=candidate.text,
                score=score,
                citation=citation_for(span),
                when=span_time(span, asks_time=False),
                conflict=same_day,
            )
        )
    return tuple(out), conflict
