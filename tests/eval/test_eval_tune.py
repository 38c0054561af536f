"""Tuning the retrieval weight on held-out training passages (fake encoder, heuristic)."""

from __future__ import annotations

from pathlib import Path

from fakes import HashingEncoder

from qa.eval.datasets import iter_records
from qa.eval.runner import default_factory
from qa.eval.tune import heldout_set, score_weights
from qa.reader.data import load_squad, split_heldout
from qa.settings import Settings

FIX = Path(__file__).parent / "fixtures"


def test_heldout_set_is_the_training_runs_heldout_slice() -> None:
    path = str(FIX / "squad_tiny.json")
    eval_set = heldout_set(path, 0.5, 13, None)
    train, held = split_heldout(load_squad(path), 0.5, 13)
    assert eval_set.questions and len(eval_set.questions) == len(held)
    held_texts = {d.text for d in eval_set.docs}
    assert held_texts == {e.context for e in held}
    assert not held_texts & {e.context for e in train}
    doc_ids = {d.doc_id for d in eval_set.docs}
    assert all(q.doc_ids[0] in doc_ids and q.answers for q in eval_set.questions)


def test_score_weights_reads_once_and_scores_every_weight(tmp_path: Path) -> None:
    eval_set = heldout_set(str(FIX / "squad_tiny.json"), 1.0, 13, None)
    settings = Settings().replace(min_score=0.0, uncalibrated_min_score=0.0, extractor="heuristic")
    assistant = default_factory(HashingEncoder())(tmp_path / "index", settings)
    assistant.add_records(iter_records(eval_set), origin="test")
    rows = score_weights(assistant, eval_set, [0.0, 1.0, 4.0], 3, progress=False)
    assert [r["retrieval_weight"] for r in rows] == [0.0, 1.0, 4.0]
    for r in rows:
        assert r["n"] == len(eval_set.questions)
        assert 0.0 <= r["exact_match"] <= r["f1"] <= 100.0
        assert 0.0 <= r["aurc"] <= 1.0
