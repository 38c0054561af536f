from __future__ import annotations

import pytest

from qa.common.question import (
    PRONOUNS,
    answer_type,
    clean_question,
    find_pronouns,
    is_follow_up,
    resolve_pronouns,
    specific_terms,
)


def test_clean_question_collapses_whitespace() -> None:
    assert clean_question("  Who   won\tthe\n cup? ") == "Who won the cup?"
    assert clean_question("Plain question?") == "Plain question?"


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", None, 42, b"who?", ["who?"]])
def test_clean_question_rejects_empty_and_non_strings(bad: object) -> None:
    with pytest.raises(ValueError):
        clean_question(bad)  # type: ignore[arg-type]


def test_specific_terms_example() -> None:
    assert specific_terms("Who won the 2022 FIFA World Cup?") == frozenset(
        {"2022", "fifa", "world", "cup"}
    )


def test_specific_terms_never_takes_first_word() -> None:
    assert specific_terms("Korea signed the deal?") == frozenset()
    assert "what" not in specific_terms("What did Seoul announce?")
    assert specific_terms("What did Seoul announce?") == frozenset({"seoul"})


def test_specific_terms_numbers_anywhere_and_no_lowercase_words() -> None:
    assert specific_terms("2024 budget rose by 35 percent") == frozenset({"2024", "35"})
    assert specific_terms("how did the talks end?") == frozenset()
    assert specific_terms("") == frozenset()
    # single capital letters are not names
    assert specific_terms("Was it plan B?") == frozenset()


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is the new president?", "agent"),
        ("Whose plan was approved?", "agent"),
        ("What company bought the startup?", "agent"),
        ("Where did the summit take place?", "place"),
        ("Which country hosted the games?", "place"),
        ("When did the strike end?", "time"),
        ("What year was the law passed?", "time"),
        ("How many people were injured?", "number"),
        ("How much did the bridge cost?", "number"),
        ("What percentage voted yes?", "number"),
        ("How long did the talks last?", "measure"),
        ("How old is the senator?", "measure"),
        ("What did the minister announce?", "thing"),
        ("Which policy was dropped?", "thing"),
    ],
)
def test_answer_type_kind(question: str, kind: str) -> None:
    result = answer_type(question)
    assert result.kind == kind
    assert result.open is (kind == "thing")


def test_answer_type_labels() -> None:
    assert answer_type("Who won?").preferred == ("PERSON", "ORG")
    assert answer_type("Where is it?").preferred[0] == "GPE"
    assert "DATE" in answer_type("When was it?").preferred
    thing = answer_type("What happened?")
    assert thing.open is True
    assert thing.preferred == ()
    assert "PERSON" in thing.acceptable and "DATE" in thing.acceptable


def test_answer_type_first_match_wins() -> None:
    # "how many" outranks "when" in the same question
    assert answer_type("How many times, and when, did he win?").kind == "number"
    assert answer_type("WHERE was it held?").kind == "place"


def test_find_pronouns_in_order_lowercased() -> None:
    assert find_pronouns("Did He tell her about his plan and their deal?") == [
        "he",
        "her",
        "his",
        "their",
    ]
    assert find_pronouns("Who won the election?") == []
    # whole words only
    assert find_pronouns("What did the theme hint at this shelter?") == []


def test_is_follow_up() -> None:
    assert is_follow_up("What did he say?")
    assert is_follow_up("When was it built?")
    assert is_follow_up("Where do THEY live?")
    assert not is_follow_up("Who is the mayor of Seoul?")
    assert not is_follow_up("What is the theory?")
    assert {"he", "she", "it", "they"} <= PRONOUNS


ENTITY = "Takehiro Funakoshi"


def test_resolve_he_to_entity() -> None:
    assert (
        resolve_pronouns("What did he hope to build on?", ENTITY)
        == "What did Takehiro Funakoshi hope to build on?"
    )


def test_resolve_his_to_possessive() -> None:
    assert (
        resolve_pronouns("What was his role in the talks?", ENTITY)
        == "What was Takehiro Funakoshi's role in the talks?"
    )


def test_resolve_possessive_of_name_ending_in_s() -> None:
    assert resolve_pronouns("What is his title?", "James") == "What is James' title?"


def test_resolve_her_possessive_or_object() -> None:
    assert resolve_pronouns("What did her report say?", "Kim") == "What did Kim's report say?"
    assert resolve_pronouns("Who told her about it?", "Kim") == "Who told Kim about it?"
    assert resolve_pronouns("Who met her?", "Kim") == "Who met Kim?"


def test_resolve_leaves_it_and_they_untouched() -> None:
    question = "When did they say it would open?"
    assert resolve_pronouns(question, ENTITY) == question
    assert resolve_pronouns("What did he say about it?", ENTITY) == (
        "What did Takehiro Funakoshi say about it?"
    )


def test_resolve_strips_entity_whitespace() -> None:
    assert resolve_pronouns("Where did she go?", "  Kim Jong  ") == "Where did Kim Jong go?"


@pytest.mark.parametrize("entity", [None, ""])
def test_resolve_without_entity_is_unchanged(entity: str | None) -> None:
    question = "What did he hope to build on?"
    assert resolve_pronouns(question, entity) == question
