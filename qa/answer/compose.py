"""Answer composition: extractor spans -> one scored, cited :class:`~qa.types.Answer`.

Every factor of an answer's score is applied here, once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from qa.answer.calibration import Calibrator
from qa.answer.citations import citations_of, passage_citation
from qa.answer.features import candidate_features, clean_span, content_words
from qa.answer.timeline import candidate_date, lead_and_others, other_answers, span_time
from qa.common.metrics import normalize_answer
from qa.common.question import answer_type, specific_terms
from qa.settings import AnsweringSettings
from qa.types import Answer, Article, Candidate, Hit, Span, TimeScope


def normalise(text: str) -> str:
    """The key under which equal answers merge (SQuAD rules plus typographic marks)."""
    return normalize_answer(text, typographic=True)


def missing_terms(terms: frozenset[str], article: Article) -> tuple[int, int]:
    """How many of the question's ``(names, numbers)`` the whole article never mentions.

    A year counts as mentioned by an article dated in that year (news is about its
    own time: "in 2023" is answered by a 2023 article that never writes "2023").
    """
    names = numbers = 0
    if not terms:
        return 0, 0
    text = article.text.lower()
    year = article.date[:4] if article.date else None
    for term in terms:
        if term == year or re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text):
            continue
        if any(c.isdigit() for c in term):
            numbers += 1
        else:
            names += 1
    return names, numbers


def support(terms: frozenset[str], article: Article) -> float:
    """How well ``article`` supports a question's specific terms, in (0, 1].

    Each name of the question that the whole article never mentions multiplies
    the factor by 0.55, each number (a year, a count) by 0.3: an answer found
    in an article about something else is then unlikely to clear the threshold.
    """
    names, numbers = missing_terms(terms, article)
    return float(0.55**names * 0.3**numbers)


def prior(hit: Hit, retrieval_weight: float) -> float:
    """The retrieval factor ``hit.score ** retrieval_weight`` (1.0 when the weight is 0)."""
    if retrieval_weight == 0.0:
        return 1.0
    return float(max(hit.score, 1e-6) ** retrieval_weight)


def candidates(
    question: str,
    spans: Sequence[Span],
    settings: AnsweringSettings | None = None,
    limit: int = 5,
) -> list[Candidate]:
    """The ``limit`` best candidate answers with their features, best raw score first.

    Spans are cleaned of edge punctuation, scored (extractor x support x retrieval),
    and grouped by normalised text.
    """
    settings = settings if settings is not None else AnsweringSettings()
    terms = specific_terms(question)
    missing: dict[str, tuple[int, int]] = {}
    groups: dict[str, list[tuple[float, Span]]] = {}
    for raw_span in spans:
        span = clean_span(raw_span)
        if span is None:
            continue
        key = normalise(span.text)
        if not key:
            continue
        aid = span.hit.article.article_id
        if aid not in missing:
            missing[aid] = missing_terms(terms, span.hit.article)
        names, numbers = missing[aid]
        factor = 0.55**names * 0.3**numbers * prior(span.hit, settings.retrieval_weight)
        groups.setdefault(key, []).append((span.score * factor, span))
    ordered = sorted(
        ((key, sorted(members, key=lambda m: -m[0])) for key, members in groups.items()),
        key=lambda kv: (-kv[1][0][0], kv[0]),
    )[:limit]
    kind = answer_type(question)
    words = content_words(question)
    out = []
    tops = [members[0][0] for _, members in ordered]
    for rank, (key, members) in enumerate(ordered):
        best = members[0][1]
        # the gap to the strongest rival: the runner-up for the best, the best for the rest
        rival = (tops[1] if len(tops) > 1 else None) if rank == 0 else tops[0]
        feats = candidate_features(
            spans=[m[1] for m in members],
            raw_scores=[m[0] for m in members],
            runner_up=rival,
            rank=rank,
            missing=missing[best.hit.article.article_id],
            kind=kind,
            question_words=words,
            question=question,
        )
        out.append(
            Candidate(key, tuple(m[1] for m in members), tuple(m[0] for m in members), tuple(feats))
        )
    return out


def confidence(candidate: Candidate, calibrator: Calibrator | None) -> float:
    """The shown confidence of a candidate.

    With a calibrator: the probability that it is right. Without one (the heuristic
    extractor): its best composed score plus 0.03 for each further article that
    gives it, capped at 1.
    """
    if calibrator is not None:
        return calibrator.probability(candidate.features)
    articles = {s.hit.article.article_id for s in candidate.spans}
    return min(1.0, candidate.raw + 0.03 * (len(articles) - 1))


def compose(
    question: str,
    spans: Sequence[Span],
    hits: Sequence[Hit],
    extractor: str,
    settings: AnsweringSettings | None = None,
    calibrator: Calibrator | None = None,
    scope: TimeScope | None = None,
    related: int = 3,
) -> Answer:
    """Pick the answer, score it once, cite every place that gives it, place it in time.

    Spans with the same normalised text are one candidate; its confidence is the
    calibrator's probability that it is right (see :func:`confidence`). Among the
    confident candidates the newest article's leads and the others form the timeline
    (:mod:`qa.answer.timeline`). Below ``settings.min_score`` the answer is ``None``
    and the closest passages are returned as ``related``.
    """
    settings = settings if settings is not None else AnsweringSettings()
    if calibrator is None and settings.min_score != settings.uncalibrated_min_score:
        settings = replace(settings, min_score=settings.uncalibrated_min_score)
    found = candidates(question, spans, settings)
    scored = [(c, confidence(c, calibrator)) for c in found]
    if not scored or max(p for _, p in scored) < settings.min_score:
        return Answer(
            question=question,
            text=None,
            score=max((p for _, p in scored), default=0.0),
            citations=(),
            related=tuple(passage_citation(h) for h in hits[:related]),
            extractor=extractor,
            time_scope=scope,
        )
    lead, score, rivals = lead_and_others(scored, settings, scope)
    others, conflict = other_answers(rivals, candidate_date(lead))
    cites = citations_of(lead)
    return Answer(
        question=question,
        text=lead.text,
        score=score,
        citations=cites,
        related=(),
        extractor=extractor,
        likely=score >= settings.likely_score,
        when=(
            span_time(lead.spans[0], asks_time=answer_type(question).kind == "time")
            if settings.time_aware
            else None
        ),
        agreeing=len({c.article_id for c in cites}),
        others=others,
        conflict=conflict,
        time_scope=scope,
    )
