from __future__ import annotations

from qa.answering import compose, normalise, specific_terms, support
from qa.parsing import article_from_record
from qa.types import Chunk, Hit, Span


def make_hit(text: str, article_id: str = "a", rank: int = 0) -> Hit:
    article = article_from_record({"id": article_id, "title": "T", "text": text}, "t")
    chunk = Chunk(1 + rank, article.article_id, 0, 0, len(text), text)
    return Hit(chunk=chunk, article=article, score=1.0, rank=rank)


def span_of(hit: Hit, text: str, score: float) -> Span:
    start = hit.article.text.index(text)
    return Span(text, start, start + len(text), score, hit)


def test_specific_terms() -> None:
    assert specific_terms("Who won the 2022 FIFA World Cup?") == {"2022", "fifa", "world", "cup"}
    assert specific_terms("Who is Japan's counterpart in the dialogue?") == {"japan"}
    assert specific_terms("what happened?") == frozenset()


def test_support_penalises_missing_numbers_more_than_names() -> None:
    hit = make_hit("England won the World Cup final against Australia.")
    assert support(specific_terms("Who won the World Cup?"), hit.article) == 1.0
    assert support(frozenset({"fifa"}), hit.article) == 0.55
    assert support(frozenset({"2022"}), hit.article) == 0.3


def test_compose_merges_duplicates_and_cites_each_article() -> None:
    one = make_hit("The minister Ana Lee spoke on Monday.", "a", 0)
    two = make_hit("Ana Lee, the minister, left on Tuesday.", "b", 1)
    spans = [
        span_of(one, "Ana Lee", 0.6),
        span_of(two, "Ana Lee", 0.5),
        span_of(one, "Monday", 0.55),
    ]
    answer = compose("Who is the minister?", spans, [one, two], 0.35, "test")
    assert answer.text == "Ana Lee"
    assert len(answer.citations) == 2
    assert {c.article_id for c in answer.citations} == {
        one.article.article_id,
        two.article.article_id,
    }
    assert answer.score > 0.6  # independent support adds a little
    for cite in answer.citations:
        lo, hi = cite.highlight
        assert cite.passage[lo:hi] == cite.quote == "Ana Lee"


def test_compose_abstains_below_threshold_and_offers_related() -> None:
    hit = make_hit("England won the final against Australia in Sydney.")
    spans = [span_of(hit, "England", 0.9)]
    # "2022" and "FIFA" are nowhere in the article: 0.9 * 0.3 * 0.55 < 0.35
    answer = compose("Who won the 2022 FIFA World Cup?", spans, [hit], 0.35, "test")
    assert answer.text is None and not answer.citations
    assert answer.related and answer.related[0].quote == hit.chunk.text
    assert 0.0 <= answer.score < 0.35


def test_normalise() -> None:
    assert normalise("The  Denver Broncos!") == "denver broncos"
