"""Clean spans, answer-type fit, candidate features and one citation per place."""

from __future__ import annotations

import pytest
from test_compose import make_hit, span_of

from qa.answer.citations import citations_of
from qa.answer.compose import candidates, compose
from qa.answer.features import FEATURES, clean_span, trim_offsets, type_fit
from qa.common.question import answer_type
from qa.settings import AnsweringSettings
from qa.types import Chunk, Hit, Span


def test_a_span_across_a_paragraph_break_is_dropped_a_line_break_is_not() -> None:
    text = (
        "Photo: Andy Wong/AP\n\nDrug-resistant infections rose.\nThe mayor, Ada\n"
        "Lovelace, spoke.\n \nWashington CNN"
    )
    hit = make_hit(text)
    assert clean_span(span_of(hit, "Andy Wong/AP\n\nDrug-resistant infections", 0.9)) is None
    assert clean_span(span_of(hit, "spoke.\n \nWashington", 0.9)) is None  # a blank line
    wrapped = clean_span(span_of(hit, "Ada\nLovelace", 0.9))  # a hard-wrapped line
    assert wrapped is not None and wrapped.text == "Ada\nLovelace"
    assert clean_span(span_of(hit, "Drug-resistant infections", 0.9)) is not None


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("Kenji Harada,", "Kenji Harada"),
        ('"Squid Game"', "Squid Game"),
        ("“Squid Game”", "Squid Game"),
        ("the U.S.", "the U.S."),
        ("Acme Inc.", "Acme Inc."),
        ("in Seoul.", "in Seoul"),
        ("(Yonhap)", "(Yonhap)"),
        ("Yonhap)", "Yonhap"),
        ("$5 million", "$5 million"),
        ("4.5%", "4.5%"),
        (" — Friday's talks;", "Friday's talks"),
        ("...", ""),
    ],
)
def test_trim_offsets(raw: str, want: str) -> None:
    text = f"x {raw} y"
    start, end = trim_offsets(text, 2, 2 + len(raw))
    assert text[start:end] == want
    if want:
        assert text[start] not in ",.;:\"'“”" and text[end - 1] not in ",;:\"'“”"


def test_clean_span_keeps_offsets_true() -> None:
    hit = make_hit("He met Kenji Harada, the envoy, in Seoul.")
    span = span_of(hit, "Kenji Harada,", 0.9)
    cleaned = clean_span(span)
    assert cleaned is not None and cleaned.text == "Kenji Harada"
    assert hit.article.text[cleaned.start : cleaned.end] == cleaned.text
    assert clean_span(span_of(hit, ",", 0.9)) is None


@pytest.mark.parametrize(
    ("question", "answer", "fits"),
    [
        ("Where was the dialogue held?", "Friday", 0.0),
        ("Where was the dialogue held?", "Seoul", 1.0),
        ("Who is Japan's counterpart?", "Friday", 0.0),
        ("Who is Japan's counterpart?", "Takehiro Funakoshi", 1.0),
        ("When were the talks held?", "Friday", 1.0),
        ("When were the talks held?", "Seoul", 0.0),
        ("How many people came?", "81,034", 1.0),
        ("How many people came?", "Tuesday", 0.0),
        ("What did he hope to build on?", "the outcome", 0.5),
    ],
)
def test_type_fit(question: str, answer: str, fits: float) -> None:
    assert type_fit(answer_type(question), answer) == fits


def test_overlapping_spans_at_one_place_are_one_citation() -> None:
    hit = make_hit("He met Kenji Harada, the envoy, in Seoul.")
    spans = [span_of(hit, "Kenji Harada,", 0.8), span_of(hit, "Kenji Harada", 0.7)]
    (candidate,) = candidates("Who did he meet?", spans, AnsweringSettings(retrieval_weight=0))
    assert len(candidate.spans) == 2  # both give the answer ...
    citations = citations_of(candidate)
    assert len(citations) == 1  # ... but it is one place
    assert citations[0].quote == "Kenji Harada"
    answer = compose("Who did he meet?", spans, [hit], "t", AnsweringSettings(retrieval_weight=0))
    assert answer.text == "Kenji Harada" and len(answer.citations) == 1


def test_candidate_features_describe_agreement_and_type() -> None:
    one = make_hit("The minister Ana Lee spoke on Monday in Seoul.", "a", 0)
    two = make_hit("Ana Lee, the minister, left on Tuesday.", "b", 1, score=0.5)
    spans = [
        span_of(one, "Ana Lee", 0.6),
        span_of(two, "Ana Lee", 0.5),
        span_of(one, "Monday", 0.4),
    ]
    cands = candidates("Who is the minister?", spans, AnsweringSettings(retrieval_weight=1.0))
    assert [c.text for c in cands] == ["Ana Lee", "Monday"]
    f = dict(zip(FEATURES, cands[0].features, strict=True))
    g = dict(zip(FEATURES, cands[1].features, strict=True))
    assert len(cands[0].features) == len(FEATURES)
    assert f["log_articles"] > g["log_articles"]
    assert f["type_fit"] == 1.0 and g["type_fit"] == 0.0
    assert f["candidate_rank"] == 0 and g["candidate_rank"] == 1
    assert f["gap_to_next"] > 0 > g["gap_to_next"]
    assert f["question_words_near"] > 0  # "minister" is next to the answer


def test_neural_evidence_reaches_the_features() -> None:
    hit = make_hit("Rates rose to 4.5 percent.")
    start = hit.article.text.index("4.5 percent")
    span = Span("4.5 percent", start, start + 11, 0.9, hit, logit=9.0, null_logit=2.5)
    (candidate,) = candidates("What did rates rise to?", [span])
    f = dict(zip(FEATURES, candidate.features, strict=True))
    assert f["margin"] == 6.5 and f["span_logit"] == 9.0 and f["null_logit"] == 2.5


def _clash(question: str, text: str, answer: str) -> dict[str, float]:
    hit = make_hit(text)
    (candidate, *_) = candidates(question, [span_of(hit, answer, 0.9)])
    return dict(zip(FEATURES, candidate.features, strict=True))


def test_a_negation_the_answers_sentence_lacks_is_seen() -> None:
    text = "Antigen specificity allows responses tailored to pathogens. Nobody disputes it."
    f = _clash("What allows responses that are not tailored to pathogens?", text, "Antigen")
    assert f["negation_unmatched"] == 1.0
    # the same question over a sentence that negates too, and an unnegated question
    g = _clash("What does not allow tailored responses?", "Fever does not allow it.", "Fever")
    h = _clash("What allows tailored responses?", text, "Antigen")
    assert g["negation_unmatched"] == 0.0 and h["negation_unmatched"] == 0.0
    # a later sentence's negation ("Nobody" is not "no") does not count for this one
    text2 = "Lenin said imperialism was the highest form. It was not new."
    assert _clash("Who did not say it?", text2, "Lenin")["negation_unmatched"] == 1.0


def test_an_opposite_in_the_answers_sentence_is_seen() -> None:
    text = "Lenin suggested imperialism was the highest form of capitalism."
    f = _clash('Who suggested imperialism was the "lowest" form?', text, "Lenin")
    g = _clash("Who suggested imperialism was the highest form?", text, "Lenin")
    # the question's word is there too: no clash ("high ... low" both present)
    both = "Prices were high in the north and low in the south; Ana Lee said so."
    h = _clash("Who said prices were low?", both, "Ana Lee")
    assert f["antonym_in_sentence"] == 1.0
    assert g["antonym_in_sentence"] == 0.0 and h["antonym_in_sentence"] == 0.0


def test_numbers_missing_from_the_answers_sentence_are_counted() -> None:
    text = "In 2005 the plant closed. In 1995 the factory was bought by Daewoo for 1,200 won."
    f = _clash("Who bought the factory in 2005 for 1200 won?", text, "Daewoo")
    g = _clash("Who bought the factory in 1995?", text, "Daewoo")
    assert f["numbers_not_in_sentence"] == 1.0  # 2005 is in the article, not the sentence
    assert g["numbers_not_in_sentence"] == 0.0


def test_sentence_features_read_the_answers_own_sentence_in_the_article() -> None:
    # the chunk starts mid-article: the span's offsets are the article's, not the chunk's
    first = "Prices were not high in 1917. "
    text = first + "Lenin said imperialism was the highest form."
    article = make_hit(text).article
    chunk = Chunk(1, article.article_id, 0, len(first), len(text), text[len(first) :])
    hit = Hit(chunk=chunk, article=article, score=1.0, rank=0)
    (candidate,) = candidates(
        "Who did not call it the lowest form in 1917?", [span_of(hit, "Lenin", 0.9)]
    )
    f = dict(zip(FEATURES, candidate.features, strict=True))
    assert f["negation_unmatched"] == 1.0  # "not" is in the sentence before, not in this one
    assert f["antonym_in_sentence"] == 1.0
    assert f["numbers_not_in_sentence"] == 1.0
