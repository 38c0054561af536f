from __future__ import annotations

import pytest

from qa.answer.compose import compose, normalise, prior, support
from qa.common.question import specific_terms
from qa.ingest.parsing import article_from_record
from qa.settings import AnsweringSettings
from qa.types import Chunk, Hit, Span


def make_hit(text: str, article_id: str = "a", rank: int = 0, score: float = 1.0) -> Hit:
    article = article_from_record({"id": article_id, "title": "T", "text": text}, "t")
    chunk = Chunk(1 + rank, article.article_id, 0, 0, len(text), text)
    return Hit(chunk=chunk, article=article, score=score, rank=rank)


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
    answer = compose(
        "Who is the minister?", spans, [one, two], "test", AnsweringSettings(retrieval_weight=0.0)
    )
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
    answer = compose(
        "Who won the 2022 FIFA World Cup?",
        spans,
        [hit],
        "test",
        AnsweringSettings(retrieval_weight=0.0),
    )
    assert answer.text is None and not answer.citations
    assert answer.related and answer.related[0].quote == hit.chunk.text
    assert 0.0 <= answer.score < 0.35


def test_normalise() -> None:
    assert normalise("The  Denver Broncos!") == "denver broncos"


def test_retrieval_weight_lets_the_better_retrieved_passage_win() -> None:
    strong = make_hit("The minister Ana Lee spoke on Monday.", "a", 0, score=1.0)
    weak = make_hit("The minister Bo Chan spoke on Friday.", "b", 1, score=0.5)
    spans = [span_of(strong, "Ana Lee", 0.60), span_of(weak, "Bo Chan", 0.64)]
    hits = [strong, weak]
    # Without the retrieval score the reader's slightly higher score wins ...
    assert (
        compose(
            "Who is the minister?", spans, hits, "t", AnsweringSettings(retrieval_weight=0.0)
        ).text
        == "Bo Chan"
    )
    # ... with it, 0.64 * 0.5 ** 1 = 0.32 loses to 0.60 * 1.0.
    answer = compose(
        "Who is the minister?", spans, hits, "t", AnsweringSettings(retrieval_weight=1.0)
    )
    assert answer.text == "Ana Lee"
    assert answer.score == pytest.approx(0.60)


def test_prior() -> None:
    hit = make_hit("Text.", score=0.5)
    assert prior(hit, 0.0) == 1.0
    assert prior(hit, 2.0) == pytest.approx(0.25)
    assert prior(make_hit("Text.", score=0.0), 1.0) == pytest.approx(1e-6)
