"""News time in answers: resolved dates, newest-leads, timelines, conflicts, periods."""

from __future__ import annotations

from qa.answer.compose import compose
from qa.answer.timeline import span_time
from qa.ingest.parsing import article_from_record
from qa.settings import AnsweringSettings
from qa.types import Chunk, Hit, Span, TimeScope

SETTINGS = AnsweringSettings(retrieval_weight=0.0, min_score=0.3, uncalibrated_min_score=0.3)
NOW = TimeScope(None, None, True, "is")


def hit_of(text: str, aid: str, date: str | None, rank: int = 0, source: str = "S") -> Hit:
    record = {"id": aid, "title": f"T {aid}", "text": text, "source": source}
    if date:
        record["date"] = date
    article = article_from_record(record, "t")
    return Hit(Chunk(rank + 1, article.article_id, 0, 0, len(text), text), article, 1.0, rank)


def span(hit: Hit, text: str, score: float) -> Span:
    start = hit.article.text.index(text)
    return Span(text, start, start + len(text), score, hit)


def test_weekday_answer_resolves_to_the_day_before_or_on_the_article_date() -> None:
    # 2024-05-16 is a Thursday: "on Tuesday" is 2024-05-14
    h = hit_of("The company named Maria Osei chief executive on Tuesday.", "a", "2024-05-16")
    when = span_time(span(h, "Tuesday", 0.9))
    assert when is not None and (when.start, when.end) == ("2024-05-14", "2024-05-14")
    # across a year end: 2025-01-02 (Thursday) "on Tuesday" is 2024-12-31
    h = hit_of("A storm halted the ferries on Tuesday.", "b", "2025-01-02")
    assert span_time(span(h, "Tuesday", 0.9)).start == "2024-12-31"  # type: ignore[union-attr]
    # undated article: no date can be attached
    h = hit_of("A storm halted the ferries on Tuesday.", "c", None)
    assert span_time(span(h, "Tuesday", 0.9)) is None


def test_a_time_question_takes_the_time_of_the_answers_sentence() -> None:
    h = hit_of("Services resumed after the vote on Friday, officials said.", "a", "2025-11-07")
    s = span(h, "after the vote", 0.9)
    assert span_time(s, asks_time=False) is None
    when = span_time(s, asks_time=True)
    assert when is not None and when.start == "2025-11-07"


def test_when_is_attached_to_the_answer() -> None:
    h = hit_of("The talks were held on Friday in Seoul.", "a", "2025-11-07")
    answer = compose("When were the talks held?", [span(h, "Friday", 0.9)], [h], "t", SETTINGS)
    assert answer.text == "Friday"
    assert answer.when is not None and answer.when.start == "2025-11-07"


def test_newest_article_leads_for_a_present_question_and_the_rest_is_a_timeline() -> None:
    old = hit_of("Chief executive Tom Elling said the fleet grew.", "old", "2023-03-14", 0)
    new = hit_of("Maria Osei, the chief executive, said the fleet grew.", "new", "2025-06-12", 1)
    spans = [span(old, "Tom Elling", 0.9), span(new, "Maria Osei", 0.7)]
    q = "Who is the chief executive?"
    answer = compose(q, spans, [old, new], "t", SETTINGS, scope=NOW)
    assert answer.text == "Maria Osei" and answer.score == 0.7
    assert [o.text for o in answer.others] == ["Tom Elling"]
    assert answer.others[0].citation.date == "2023-03-14" and not answer.conflict
    # a past question keeps the most confident answer, the other still shown
    past = compose("Who was the chief executive?", spans, [old, new], "t", SETTINGS, scope=None)
    assert past.text == "Tom Elling" and [o.text for o in past.others] == ["Maria Osei"]
    # time-unaware: most confident, no timeline
    plain = AnsweringSettings(
        retrieval_weight=0.0, min_score=0.3, uncalibrated_min_score=0.3, time_aware=False
    )
    unaware = compose(q, spans, [old, new], "t", plain, scope=NOW)
    assert unaware.text == "Tom Elling" and unaware.others == () and unaware.when is None


def test_a_weak_newer_answer_does_not_lead() -> None:
    old = hit_of("Chief executive Tom Elling said the fleet grew.", "old", "2023-03-14", 0)
    new = hit_of("Maria Osei spoke at the launch.", "new", "2025-06-12", 1)
    spans = [span(old, "Tom Elling", 0.9), span(new, "Maria Osei", 0.32)]
    answer = compose("Who is the chief executive?", spans, [old, new], "t", SETTINGS, scope=NOW)
    assert answer.text == "Tom Elling" and answer.others == ()  # 0.32 < 0.5 x 0.9


def test_same_date_disagreement_is_a_conflict() -> None:
    a = hit_of("The company carried 2.1 million passengers last year.", "a", "2025-06-12", 0)
    b = hit_of("Figures show 2.4 million passengers last year.", "b", "2025-06-12", 1, "P")
    spans = [span(a, "2.1 million", 0.8), span(b, "2.4 million", 0.75)]
    answer = compose("How many passengers?", spans, [a, b], "t", SETTINGS, scope=NOW)
    assert answer.conflict
    assert [(o.text, o.conflict) for o in answer.others] == [("2.4 million", True)]


def test_agreeing_articles_are_counted_and_cited() -> None:
    a = hit_of("Maria Osei leads the firm.", "a", "2025-06-12", 0)
    b = hit_of("The firm, led by Maria Osei, grew.", "b", "2025-06-10", 1)
    spans = [span(a, "Maria Osei", 0.8), span(b, "Maria Osei", 0.7)]
    answer = compose("Who leads the firm?", spans, [a, b], "t", SETTINGS, scope=NOW)
    assert answer.agreeing == 2 and len(answer.citations) == 2 and answer.others == ()


def test_a_period_in_the_question_prefers_that_periods_article() -> None:
    old = hit_of("The company operates a fleet of 12 ferries.", "old", "2023-03-14", 1)
    new = hit_of("The company now operates 19 ferries.", "new", "2025-06-12", 0)
    spans = [span(new, "19", 0.95), span(old, "12", 0.2)]
    scope = TimeScope("2023-01-01", "2023-12-31", False, "in 2023")
    q = "How many ferries did it operate in 2023?"
    low = AnsweringSettings(retrieval_weight=0.0, min_score=0.1, uncalibrated_min_score=0.1)
    assert compose(q, spans, [new, old], "t", low, scope=scope).text == "12"
    # without the scope the 2025 answer leads; "2023" is missing from it (x0.3) ...
    unscoped = compose(q, spans, [new, old], "t", low, scope=None)
    assert unscoped.text == "19" and unscoped.score == 0.95 * 0.3
    # ... while the 2023 article counts as mentioning 2023 (its date): no penalty
    assert compose(q, [spans[1]], [old], "t", low).score == 0.2
