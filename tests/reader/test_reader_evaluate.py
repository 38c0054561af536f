"""qa.reader.evaluate: sampling, closed-setting scoring and calibration, with a fake reader."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pytest

from qa.reader.data import Example
from qa.reader.decode import WindowSpan
from qa.reader.evaluate import calibrate, evaluate_closed, sample_examples, score
from qa.reader.runtime import ReaderRuntime


def _ex(qid: str, question: str, context: str, *answers: str) -> Example:
    return Example(
        qid=qid,
        question=question,
        context=context,
        answers=tuple((a, context.find(a)) for a in answers),
    )


EXAMPLES = [
    _ex("q1", "Who met Funakoshi?", "Kim Jong-un met Takehiro Funakoshi in Seoul.", "Kim Jong-un"),
    _ex("q2", "Where did they meet?", "They met in Seoul on Friday.", "Seoul", "in Seoul"),
    _ex("q3", "When?", "The talks ended on Friday evening.", "Friday evening"),
]


class FakeRuntime:
    """Answers with the first gold answer of its passage, or a fixed word, by a lookup table."""

    def __init__(self, answers: dict[str, str], margin: float = 2.0) -> None:
        self.answers = answers
        self.margin = margin
        self.calls: list[tuple[list[str], list[str]]] = []

    def read(
        self, questions: Sequence[str], passages: Sequence[str], *, n_best: int | None = None
    ) -> list[list[WindowSpan]]:
        self.calls.append((list(questions), list(passages)))
        out: list[list[WindowSpan]] = []
        for q, p in zip(questions, passages, strict=True):
            text = self.answers.get(q, "")
            i = p.find(text) if text else -1
            if i < 0:
                # Not in this passage: a low-margin span on the first word.
                out.append([WindowSpan(0, p.find(" "), logit=-self.margin, null_logit=0.0)])
            else:
                out.append([WindowSpan(i, i + len(text), logit=self.margin, null_logit=0.0)])
        return out


def _runtime(fake: FakeRuntime) -> ReaderRuntime:
    return cast(ReaderRuntime, cast(Any, fake))


def test_score_is_official_max_over_golds() -> None:
    preds = ["Kim Jong-un", "the Seoul", "Friday"]  # exact; exact after normalising; partial
    result = score(EXAMPLES, preds)
    assert result["n"] == 3
    assert result["exact_match"] == pytest.approx(100 * 2 / 3)
    # F1 of "Friday" vs "Friday evening": P=1, R=1/2, F1=2/3.
    assert result["f1"] == pytest.approx(100 * (1 + 1 + 2 / 3) / 3)


def test_score_empty_prediction_scores_zero() -> None:
    assert score(EXAMPLES[:1], [""]) == {"exact_match": 0.0, "f1": 0.0, "n": 1}


def test_sample_examples_is_seeded_and_drops_unanswerable() -> None:
    items = [*EXAMPLES, _ex("q4", "Why?", "No reason is given.")]
    assert [e.qid for e in sample_examples(items, None, 0)] == ["q1", "q2", "q3"]
    a = sample_examples(items, 2, seed=5)
    assert a == sample_examples(items, 2, seed=5)
    assert len(a) == 2 and all(e.answers for e in a)
    assert len(sample_examples(items, 99, 0)) == 3


def test_evaluate_closed_reads_each_question_against_its_own_passage() -> None:
    fake = FakeRuntime({e.question: e.answers[0][0] for e in EXAMPLES})
    result = evaluate_closed(_runtime(fake), EXAMPLES)
    assert result["exact_match"] == pytest.approx(100.0)
    assert result["f1"] == pytest.approx(100.0)
    qs, ps = fake.calls[0]
    assert qs == [e.question for e in EXAMPLES] and ps == [e.context for e in EXAMPLES]


def test_calibrate_maps_high_margin_to_right_answers() -> None:
    fake = FakeRuntime({e.question: e.answers[0][0] for e in EXAMPLES})
    a, b = calibrate(_runtime(fake), EXAMPLES, seed=0)
    # Right answers have margin +2, negatives (other passages) margin -2: the fit must
    # give the positive margin a higher probability than the negative one.
    assert a > 0
    assert a * 2 + b > 0 > a * -2 + b
