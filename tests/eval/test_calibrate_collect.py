"""The calibrator's rows: every read of a held-out question, labelled by exact match."""

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import pytest

from qa.answer.compose import candidates
from qa.eval.calibrate import collect, prepare
from qa.eval.datasets import EvalDoc, EvalQuestion, EvalSet
from qa.eval.records import closed_hits
from qa.settings import AnsweringSettings, Settings
from qa.types import Candidate, Hit, Span

DOCS = (
    EvalDoc(doc_id="d0", text="The Kariba Dam was finished in 1959 by Impresit."),
    EvalDoc(doc_id="d1", text="Harare is the capital, and Queen Elizabeth opened the dam."),
)
QUESTIONS = (
    EvalQuestion(
        qid="a", question="When was the dam finished?", answers=("1959",), doc_ids=("d0",)
    ),
    EvalQuestion(
        qid="b", question="Who opened the dam?", answers=("Queen Elizabeth",), doc_ids=("d1",)
    ),
)
SET = EvalSet(name="heldout", docs=DOCS, questions=QUESTIONS, files=(Path("x.json"),))
SETTINGS = Settings()


class Extractor:
    """Finds a fixed string per question in any passage it is given."""

    def extract(self, question: str, hits: Sequence[Hit]) -> list[Span]:
        want = "1959" if question.startswith("When") else "Queen Elizabeth"
        spans = []
        for h in hits:
            at = h.article.text.find(want)
            if at >= 0:
                spans.append(Span(want, at, at + len(want), 0.9, h, 5.0, 1.0))
        return spans


class Assistant:
    """Retrieves the passages of the documents it holds."""

    def __init__(self, docs: Sequence[EvalDoc]) -> None:
        self.docs = docs
        self.extractor = Extractor()

    def passages_for(self, questions: Sequence[str]) -> list[tuple[str, list[Hit], None]]:
        hits = [h for d in self.docs for h in closed_hits(d, SETTINGS)]
        return [(q, hits, None) for q in questions]


def _collect(**kwargs):  # type: ignore[no-untyped-def]
    assistants = [Assistant([DOCS[0]]), Assistant([DOCS[1]])]
    half_of = {"d0": 0, "d1": 1}
    negatives = {"a": DOCS[1], "b": DOCS[0]}
    return collect(SET, assistants, half_of, negatives, SETTINGS, progress=False, **kwargs)


def test_answerable_reads_are_right_and_the_others_give_nothing_right():
    rows = _collect()
    by_read = {(r["qid"], r["setting"]): r for r in rows if r["rank"] == 0}
    assert by_read[("a", "open")]["label"] == 1 and by_read[("a", "closed")]["label"] == 1
    assert by_read[("b", "open")]["text"] == "Queen Elizabeth"
    # the other half and the other passage hold no answer: no candidate, so no row
    assert ("a", "open-missing") not in by_read and ("a", "closed-other") not in by_read
    assert all(len(r["features"]) == len(rows[0]["features"]) for r in rows)


def test_twin_reads_are_never_right():
    rows = _collect(twins={"a": "When was the dam not finished?"})
    twin = [r for r in rows if r["setting"] == "closed-twin"]
    assert twin and all(r["label"] == 0 for r in twin)


def test_propose_sees_every_read_and_its_features_become_the_rows():
    seen = []

    def propose(
        question: str, spans: Sequence[Span], settings: AnsweringSettings
    ) -> list[Candidate]:
        seen.append(question)
        return [
            dataclasses.replace(c, features=(*c.features, 42.0))
            for c in candidates(question, spans, settings)
        ]

    plain = _collect()
    rows = _collect(propose=propose)
    assert len(seen) == 2 * 4  # open, open-missing, closed, closed-other per question
    assert [r["features"][:-1] for r in rows] == [r["features"] for r in plain]
    assert {r["features"][-1] for r in rows} == {42.0}


def test_prepare_names_the_artifact_without_training_data(tmp_path: Path):
    (tmp_path / "manifest.json").write_text('{"format": "newsqa-reader", "training": {}}')
    with pytest.raises(ValueError, match="names no training data"):
        prepare(tmp_path)


def test_the_command_names_a_missing_artifact(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from qa.eval.calibrate import main

    with pytest.raises(SystemExit) as exit_:
        main(
            ["--distractors", "x.jsonl", "--work", str(tmp_path / "w"), "--artifact", str(tmp_path)]
        )
    assert exit_.value.code == 2
    assert f"no reader artifact at {tmp_path}" in capsys.readouterr().err
