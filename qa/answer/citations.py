"""Citations: where an answer is said, with the passage around it for highlighting."""

from __future__ import annotations

from qa.types import Candidate, Citation, Hit, Span


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


def citations_of(candidate: Candidate) -> tuple[Citation, ...]:
    """One citation per place: spans that overlap in one article become one citation."""
    kept: list[Span] = []
    for span in candidate.spans:
        aid = span.hit.article.article_id
        if any(
            k.hit.article.article_id == aid and k.start < span.end and span.start < k.end
            for k in kept
        ):
            continue
        kept.append(span)
    return tuple(citation_for(s) for s in kept)
