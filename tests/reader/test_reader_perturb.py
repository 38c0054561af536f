"""Unanswerable twins: antonyms, swapped names and numbers, negation; over their own passage."""

import random

import pytest

from qa.reader.data import Example
from qa.reader.negatives import NegativeConfig, expand_training
from qa.reader.perturb import antonym, perturb_all, swap

CTX = (
    "The largest dam in the region, the Kariba Dam, was finished in 1959 by Impresit. "
    "It was opened by Queen Elizabeth in Harare and cost 135 million dollars."
)


def _ex(qid, q, answer, ctx=CTX):
    return Example(qid, q, ctx, ((answer, ctx.index(answer)),), "t")


def test_antonym_only_for_a_word_the_passage_uses_and_keeps_case():
    rng = random.Random(0)
    assert antonym("What is the largest dam?", CTX, rng) == "What is the smallest dam?"
    assert antonym("Largest dam built by whom?", CTX, rng) == "Smallest dam built by whom?"
    # "first" is an antonym key, but the passage never says "first"
    assert antonym("Who first opened the dam?", CTX, rng) is None


def test_swap_number_is_one_the_passage_never_mentions():
    for seed in range(20):
        new = swap("What was finished in 1959?", CTX, ["the Kariba Dam"], random.Random(seed), "")
        assert new is not None and new != "What was finished in 1959?"
        if "1959" not in new:
            year = new.split()[-1].rstrip("?")
            assert year.isdigit() and year not in CTX


def test_swap_name_comes_from_the_passage_and_never_from_an_answer():
    q = "Who opened the Kariba Dam?"
    seen = set()
    for seed in range(30):
        new = swap(q, CTX, ["Queen Elizabeth"], random.Random(seed), "")
        assert new is not None
        seen.add(new)
        assert "Queen Elizabeth" not in new
    assert seen <= {"Who opened the Impresit?", "Who opened the Harare?"}


def test_swap_falls_back_to_another_passage_for_names():
    ctx = "Kariba Dam opened on time."
    new = swap("When did Kariba Dam open?", ctx, ["on time"], random.Random(0), "Lake Volta grew.")
    assert new == "When did Lake Volta open?"
    assert swap("When did it open?", ctx, ["on time"], random.Random(0), "") is None


def test_swap_without_foreign_names_takes_none_from_another_passage():
    ctx = "Kariba Dam opened on time."
    q = "When did Kariba Dam open?"
    assert swap(q, ctx, ["on time"], random.Random(0), "Lake Volta grew.", foreign=False) is None
    # a name of its own passage is still taken
    new = swap("Who opened the Harare?", CTX, ["Queen Elizabeth"], random.Random(0), "Lake Volta")
    assert new == swap(
        "Who opened the Harare?", CTX, ["Queen Elizabeth"], random.Random(0), "", foreign=False
    )


def test_perturb_all_without_foreign_names_never_names_what_the_passage_lacks():
    ctx = "Kariba Dam opened on time in the largest town."
    q = "When did Kariba Dam open in the largest town?"
    exs = [Example(f"q{i}", q, ctx, (("on time", 17),), "t") for i in range(20)]
    others = ["Lake Volta grew near Accra."]
    foreign = perturb_all(exs, random.Random(0), others)
    assert any("Lake Volta" in t.question or "Accra" in t.question for t in foreign)
    own = perturb_all(exs, random.Random(0), others, foreign_names=False)
    assert own, "no twin made"
    for twin in own:
        assert "Lake Volta" not in twin.question and "Accra" not in twin.question
        assert twin.answers == () and twin.context == ctx


def test_perturb_all_twins_have_no_answer_and_their_own_passage():
    exs = [
        _ex("a", "What is the largest dam in the region?", "the Kariba Dam"),
        _ex("b", "When was the Kariba Dam finished?", "1959"),
        _ex("c", "Who opened the Kariba Dam?", "Queen Elizabeth"),
    ]
    out = perturb_all(exs, random.Random(3), [CTX])
    assert out, "no twin made"
    by_id = {e.qid: e for e in exs}
    for twin in out:
        qid, kind = twin.qid.split("#")
        assert kind in ("neg-antonym", "neg-swap", "neg-negation")
        src = by_id[qid]
        assert twin.answers == () and twin.context == src.context
        assert twin.question != src.question
        if kind == "neg-negation":
            assert " not " in twin.question


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did the company sell in 2004?", "What did the company not sell in 2004?"),
        ("Who did the king appoint as governor?", "Who did the king not appoint as governor?"),
        ("When was the dam opened?", "When was the dam not opened?"),
        ("What is the capital?", None),  # no auxiliary: nothing to negate
    ],
)
def test_negation_before_the_main_verb(question, expected):
    import spacy

    from qa.reader.perturb import SPACY_MODEL, negation

    nlp = spacy.load(SPACY_MODEL, disable=["ner", "lemmatizer"])
    assert negation(nlp(question)) == expected


def test_expand_training_adds_twins_only_when_asked():
    exs = [
        _ex("a", "What is the largest dam in the region?", "the Kariba Dam"),
        _ex("b", "When was the Kariba Dam finished?", "1959"),
    ]
    plain = expand_training(exs, all_answers=True, negatives=NegativeConfig(), seed=0)
    assert [e.qid for e in plain] == ["a", "b"]
    mixed = expand_training(exs, all_answers=True, negatives=NegativeConfig(perturbed=1.0), seed=0)
    twins = [e for e in mixed if not e.answers]
    assert len(twins) == 2
    assert {e.context for e in twins} == {CTX}
