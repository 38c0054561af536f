"""Answer composition: extractor spans -> one scored, cited :class:`~qa.types.Answer`.

Every factor of an answer's score is applied here, once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from qa.common.metrics import normalize_answer
from qa.common.question import specific_terms
from qa.settings import AnsweringSettings
from qa.types import Answer, Article, Citation, Hit, Span


def normalise(text: str) -> str:
    """The key under which equal answers merge (SQuAD rules plus typographic marks)."""
    return normalize_answer(text, typographic=True)


def support(terms: frozenset[str], article: Article) -> float:
    """How well ``article`` supports a question's specific terms, in (0, 1].

    Each name of the question that the whole article never mentions multiplies
    the factor by 0.55, each number (a year, a count) by 0.3: an answer found
    in an article about something else is then unlikely to clear the threshold.
    """
    factor = 1.0
    if not terms:
        return factor
    text = article.text.lower()
    for term in terms:
        if not re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text):
            factor *= 0.3 if any(c.isdigit() for c in term) else 0.55
    return factor


def cite(hit: Hit, start: int, end: int, score: float) -> Citation:
    """A citation of ``article.text[start:end]`` inside the passage of ``hit``."""
    article = hit.article
    chunk = hit.chunk
    return Citation(
        article_id=article.article_id,
        title=article.title,
        date=article.date,
        source=article.source,
        url=article.url,
        start=start,
        end=end,
        quote=article.text[start:end],
        passage=chunk.text,
        passage_start=chunk.start,
        passage_end=chunk.end,
        score=score,
    )


def citation_for(span: Span) -> Citation:
    """A citation of ``span`` inside its chunk."""
    return cite(span.hit, span.start, span.end, span.score)


def passage_citation(hit: Hit) -> Citation:
    """A citation of a whole retrieved passage (for "related" results)."""
    return cite(hit, hit.chunk.start, hit.chunk.end, hit.score)


def prior(hit: Hit, retrieval_weight: float) -> float:
    """The retrieval factor ``hit.score ** retrieval_weight`` (1.0 when the weight is 0)."""
    if retrieval_weight == 0.0:
        return 1.0
    return float(max(hit.score, 1e-6) ** retrieval_weight)


def compose(
    question: str,
    spans: Sequence[Span],
    hits: Sequence[Hit],
    extractor: str,
    settings: AnsweringSettings | None = None,
    related: int = 3,
) -> Answer:
    """Merge duplicate spans, pick the best answer, cite every supporting passage.

    Spans with the same normalised text are one answer; it cites each distinct
    article position that supports it (overlapping chunks of one article give
    one citation). A small bonus for independent support is added to the best
    span's score. Below ``min_score`` the answer is ``None`` and the closest
    passages are returned as ``related``.

    A span's score is its extractor score times ``support`` (the question's
    numbers and names that its article never mentions lower it) times
    ``hit.score ** retrieval_weight`` (the retriever's confidence in its passage).
    """
    settings = settings if settings is not None else AnsweringSettings()
    min_score, retrieval_weight = settings.min_score, settings.retrieval_weight
    terms = specific_terms(question)
    factors: dict[str, float] = {}
    for span in spans:
        aid = span.hit.article.article_id
        if aid not in factors:
            factors[aid] = support(terms, span.hit.article)
    spans = [
        replace(s, score=s.score * factor)
        if (factor := factors[s.hit.article.article_id] * prior(s.hit, retrieval_weight)) != 1.0
        else s
        for s in spans
    ]
    groups: dict[str, list[Span]] = {}
    for span in spans:
        key = normalise(span.text)
        if key:
            groups.setdefault(key, []).append(span)
    best_key = None
    best_score = 0.0
    for key, members in groups.items():
        ordered = sorted(members, key=lambda s: -s.score)
        articles = {s.hit.article.article_id for s in ordered}
        score = min(1.0, ordered[0].score + 0.03 * (len(articles) - 1))
        if score > best_score:
            best_key, best_score = key, score
    if best_key is None or best_score < min_score:
        return Answer(
            question=question,
            text=None,
            score=best_score,
            citations=(),
            related=tuple(passage_citation(h) for h in hits[:related]),
            extractor=extractor,
        )
    members = sorted(groups[best_key], key=lambda s: -s.score)
    citations: list[Citation] = []
    seen: set[tuple[str, int, int]] = set()
    for span in members:
        where = (span.hit.article.article_id, span.start, span.end)
        if where in seen:
            continue
        seen.add(where)
        citations.append(citation_for(span))
    return Answer(
        question=question,
        text=members[0].text,
        score=best_score,
        citations=tuple(citations),
        related=(),
        extractor=extractor,
    )
