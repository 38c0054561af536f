"""Integration: the real encoder and spaCy on the bundled sample corpus."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashingEncoder

from qa import Assistant, Filters, Settings
from qa.extract.registry import make_extractor
from qa.settings import ReadingSettings

SAMPLE_Q = "Who is Japan's counterpart in the dialogue?"


def check_offsets(answer) -> None:
    for cite in (*answer.citations, *answer.related):
        assert cite.quote
        lo, hi = cite.highlight
        assert cite.passage[lo:hi] == cite.quote
        assert cite.passage_start <= cite.start <= cite.end <= cite.passage_end


def test_sample_question_answered_with_exact_citation(sample_assistant) -> None:
    answer = sample_assistant.ask(SAMPLE_Q)
    assert answer.text == "Takehiro Funakoshi"
    assert 0.0 <= answer.score <= 1.0
    assert answer.citations
    articles = {a.article_id: a for a in sample_assistant.articles()}
    for cite in answer.citations:
        assert articles[cite.article_id].text[cite.start : cite.end] == cite.quote == answer.text
        assert cite.date == "2025-11-07"
        assert cite.source == "Yonhap"
    check_offsets(answer)


def test_unanswerable_question_gets_no_answer(sample_assistant) -> None:
    answer = sample_assistant.ask("Who won the 2022 FIFA World Cup?")
    assert answer.text is None
    assert not answer.citations
    assert answer.related  # the closest passages are offered
    check_offsets(answer)


def test_ask_batch_matches_ask(sample_assistant) -> None:
    questions = [SAMPLE_Q, "Who won the 2022 FIFA World Cup?", "When were the talks held?"]
    batch = sample_assistant.ask_batch(questions)
    single = [sample_assistant.ask(q) for q in questions]
    assert [a.text for a in batch] == [a.text for a in single]
    assert [round(a.score, 5) for a in batch] == [round(a.score, 5) for a in single]


def test_filters_restrict_sources_and_dates(sample_assistant) -> None:
    none = sample_assistant.ask(SAMPLE_Q, filters=Filters(sources=("Reuters",)))
    assert none.text is None and not none.related
    old = sample_assistant.ask(SAMPLE_Q, filters=Filters(date_to="2020-01-01"))
    assert old.text is None
    ok = sample_assistant.ask(
        SAMPLE_Q, filters=Filters(sources=("yonhap",), date_from="2025-11-01")
    )
    assert ok.text == "Takehiro Funakoshi"


def test_empty_question_rejected(sample_assistant) -> None:
    with pytest.raises(ValueError, match="empty"):
        sample_assistant.ask("   ")


def test_module_level_ask_uses_sample(monkeypatch: pytest.MonkeyPatch, sample_assistant) -> None:
    import qa.assistant as module

    monkeypatch.setattr(module, "_default", sample_assistant)
    import qa

    assert qa.ask(SAMPLE_Q).text == "Takehiro Funakoshi"


def test_open_is_cheap_and_models_lazy(tmp_path: Path) -> None:
    encoder = HashingEncoder()
    assistant = Assistant.open(tmp_path / "ix", encoder=encoder)
    assert encoder.calls == 0
    assert assistant.info().articles == 0


def test_add_update_delete_roundtrip(tmp_path: Path) -> None:
    enc = HashingEncoder()
    assistant = Assistant.open(
        tmp_path / "ix", encoder=enc, settings=Settings().replace(extractor="heuristic")
    )
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.txt").write_text(
        "Flood hits valley\n\nHeavy rain flooded the valley on Monday, officials said."
    )
    (folder / "b.jsonl").write_text(
        '{"id": "x1", "title": "Vote", "text": "Parliament voted on Tuesday."}\n{bad json\n'
    )
    (folder / "c.bin").write_bytes(b"\x00\x01")
    report = assistant.add(folder)
    assert len(report.added) == 2
    reasons = {r.origin.split("/")[-1]: r.reason for r in report.rejected}
    assert "malformed JSON" in reasons["b.jsonl:2"]
    assert "unsupported" in reasons["c.bin"]
    again = assistant.add(folder)
    assert len(again.unchanged) == 2 and not again.added
    (folder / "a.txt").write_text(
        "Flood hits valley\n\nThe river burst its banks on Monday, officials said."
    )
    updated = assistant.add(folder / "a.txt")
    assert len(updated.updated) == 1
    target = updated.updated[0]
    assert "river burst" in {a.article_id: a for a in assistant.articles()}[target].text
    assert assistant.delete(target)
    assert not assistant.delete(target)
    reopened = Assistant.open(tmp_path / "ix", encoder=enc)
    assert reopened.info().articles == 1


def test_follow_up_style_questions(sample_assistant) -> None:
    heuristic = Assistant.open(
        sample_assistant.path,
        encoder=sample_assistant.encoder,
        settings=Settings().replace(extractor="heuristic"),
    )
    # the object of "build on", not the nearby "Seoul"
    assert "outcome" in (heuristic.ask("What did Funakoshi hope to build on?").text or "")
    # "Takehiro" is only in another passage of the same article: no penalty
    assert heuristic.ask("Who is Japan's prime minister?").text == "Sanae Takaichi"


def test_heuristic_cache_is_keyed_by_text_not_only_chunk_id(sample_assistant) -> None:
    """Hits built outside an index (closed-book reading) may all share chunk id 0."""
    from qa.ingest.parsing import article_from_record
    from qa.types import Chunk, Hit

    heuristic = make_extractor("heuristic", sample_assistant.encoder, ReadingSettings())
    answers = []
    for name in ("Maria Lopez", "John Smith"):
        text = f"The new mayor of the town is {name}, officials said on Monday."
        article = article_from_record({"id": name, "text": text}, "t")
        hit = Hit(Chunk(0, article.article_id, 0, 0, len(text), text), article, 1.0, 0)
        answers.append(heuristic.extract("Who is the new mayor of the town?", [hit])[0].text)
    assert answers == ["Maria Lopez", "John Smith"]


TIME_FIXTURES = Path(__file__).parent / "eval" / "fixtures"


@pytest.fixture(scope="module")
def time_assistant(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    """The time test corpus (one company over three years) with the fake encoder."""
    import json

    records = [
        json.loads(line)
        for line in (TIME_FIXTURES / "time_articles.jsonl").read_text().splitlines()
        if line.strip()
    ]
    records.append({"id": "undated", "text": "Harbourline Ferries has a blue and white logo."})
    assistant = Assistant.open(
        tmp_path_factory.mktemp("time-ix"),
        encoder=HashingEncoder(),
        settings=Settings().replace(
            extractor="heuristic", min_score=0.0, uncalibrated_min_score=0.0
        ),
    )
    assistant.add_records(records)
    return assistant


def test_as_of_ignores_later_articles_and_keeps_undated(time_assistant: Assistant) -> None:
    q = "Who is the chief executive of Harbourline Ferries?"
    for as_of in ("2023-12-31", "2024-06-01"):
        cited = [
            c
            for _, hits, _ in time_assistant.passages_for([q], as_of=as_of, top_k=20)
            for c in hits
        ]
        assert cited and all(h.article.date is None or h.article.date <= as_of for h in cited)
        assert any(h.article.date is None for h in cited)  # the undated article is kept
        answer = time_assistant.ask(q, as_of=as_of, top_k=20)
        for c in (*answer.citations, *(o.citation for o in answer.others)):
            assert c.date is None or c.date <= as_of
    with pytest.raises(ValueError, match="as_of must be a date"):
        time_assistant.ask(q, as_of="last Tuesday")


def test_as_of_narrows_explicit_filters(time_assistant: Assistant) -> None:
    hits = time_assistant.passages_for(
        ["Harbourline ferries fleet"],
        filters=Filters(date_from="2024-01-01"),
        as_of="2024-12-31",
        top_k=20,
    )[0][1]
    assert hits and all(
        h.article.date and "2024-01-01" <= h.article.date <= "2024-12-31" for h in hits
    )


def test_question_period_adds_passages_of_that_period(time_assistant: Assistant) -> None:
    question, hits, scope = time_assistant.passages_for(
        ["How many ferries did Harbourline Ferries operate in 2023?"], top_k=1
    )[0]
    assert scope is not None and (scope.date_from, scope.date_to) == ("2023-01-01", "2023-12-31")
    assert any(h.article.date and h.article.date.startswith("2023") for h in hits)


def test_chat_examples_are_answered_right_or_refused(sample_assistant) -> None:
    """The chat's example buttons, asked in order in one conversation, as the chat does."""
    from qa.answer.conversation import Conversation
    from qa.chat.backend import SAMPLE_EXAMPLES

    expected = {
        "Who is Japan's counterpart in the dialogue?": ["Takehiro Funakoshi"],
        "What did he hope to build on?": ["outcome of the recent summit talks"],
        "Who called on Japan to work together?": ["Park Yoon-joo", "senior South Korean diplomat"],
        "Where was the Asia-Pacific Economic Cooperation meeting held?": ["Gyeongju"],
    }
    # the reader is unsure of the "build on" follow-up (calibrated 0.16 with v7): it may be
    # refused, but never answered wrongly; every other example must be answered right
    may_refuse = {"What did he hope to build on?"}
    assert set(SAMPLE_EXAMPLES) == set(expected)
    conversation = Conversation(sample_assistant)
    for question in SAMPLE_EXAMPLES:
        answer = conversation.ask(question).answer
        if answer.text is None and question in may_refuse:
            continue
        assert answer.text is not None, question
        assert any(e in answer.text for e in expected[question]), (question, answer.text)


def test_when_question_gets_the_resolved_date(sample_assistant) -> None:
    answer = sample_assistant.ask("When were the talks held?")
    assert answer.text == "Friday"
    assert answer.when is not None and answer.when.start == answer.when.end == "2025-11-07"
