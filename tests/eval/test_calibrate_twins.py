"""The calibrator's perturbed reads: each twin is a changed question over the same passage."""

from pathlib import Path

from qa.eval.calibrate import SETTINGS, twin_questions
from qa.eval.datasets import EvalDoc, EvalQuestion, EvalSet

CTX = (
    "The largest dam in the region, the Kariba Dam, was finished in 1959 by Impresit. "
    "It was opened by Queen Elizabeth in Harare."
)


def _set() -> EvalSet:
    doc = EvalDoc(doc_id="d0", text=CTX)
    qs = (
        EvalQuestion(
            qid="a", question="What is the largest dam?", answers=("Kariba Dam",), doc_ids=("d0",)
        ),
        EvalQuestion(
            qid="b",
            question="When was the Kariba Dam finished?",
            answers=("1959",),
            doc_ids=("d0",),
        ),
        EvalQuestion(qid="c", question="Why?", answers=("x",), doc_ids=("d0",)),
    )
    return EvalSet(name="heldout", docs=(doc,), questions=qs, files=(Path("x.json"),))


def test_twins_are_changed_questions_keyed_by_their_question():
    twins = twin_questions(_set(), seed=13)
    assert set(twins) <= {"a", "b", "c"}
    assert "a" in twins and "b" in twins  # an antonym and a swap apply to these
    assert "c" not in twins  # nothing to change in "Why?"
    originals = {q.qid: q.question for q in _set().questions}
    for qid, twin in twins.items():
        assert twin != originals[qid]


def test_twins_are_seeded():
    assert twin_questions(_set(), seed=1) == twin_questions(_set(), seed=1)


def test_twin_reads_are_a_reported_setting():
    assert "closed-twin" in SETTINGS


def test_twin_kinds_filter_the_same_draws():
    every = twin_questions(_set(), seed=13)
    swaps = twin_questions(_set(), seed=13, kinds=("swap",))
    others = twin_questions(_set(), seed=13, kinds=("antonym", "negation"))
    assert swaps and others and swaps.keys().isdisjoint(others.keys())
    assert {**swaps, **others} == every  # filtering changes no twin
    assert twin_questions(_set(), seed=13, kinds=()) == {}
