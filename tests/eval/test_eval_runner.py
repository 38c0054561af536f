"""The tiny fixture sets through every mode end to end (real Assistant, fake encoder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashingEncoder

from qa.eval import datasets, report, runner
from qa.eval.runner import RunConfig, System, default_factory, plan_systems, run_eval
from qa.settings import Settings

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def factory():
    return default_factory(HashingEncoder())


def _jsonl_set():
    return datasets.load_jsonl(FIX / "articles.jsonl", FIX / "questions.jsonl")


def _cfg(tmp_path, mode, **kw):
    return RunConfig(
        mode=mode, out=tmp_path / mode, extractor="heuristic", progress=False, command="test", **kw
    )


def _check_run_dir(out: Path, summary: dict, mode: str) -> None:
    assert json.loads((out / "summary.json").read_text()) == summary
    assert (out / "table.md").read_text().startswith("## ")
    for plot in summary["outputs"]["plots"]:
        assert (out / plot).stat().st_size > 1000
    for name in summary["systems"]:
        rows = report.read_jsonl(out / f"predictions-{report.safe_name(name)}.jsonl")
        assert len(rows) == summary["dataset"]["questions"]
        keys = {"id", "question", "gold", "correct", "latency_s"}
        keys |= {"rank"} if mode == "retrieval" else {"prediction", "score", "citations"}
        assert keys <= set(rows[0])
    files = summary["dataset"]["files"]
    assert all(len(f["sha256"]) == 64 for f in files)


def test_closed_jsonl(tmp_path, factory):
    summary = run_eval(_jsonl_set(), _cfg(tmp_path, "closed"), factory=factory)
    _check_run_dir(tmp_path / "closed", summary, "closed")
    s = summary["systems"]["heuristic"]
    assert s["n"] == 7
    assert 0 <= s["exact"] <= s["f1"] <= 100
    assert {"has_ans", "no_ans", "best_threshold", "heldout", "aurc", "citation", "latency"} <= set(
        s
    )
    rows = report.read_jsonl(tmp_path / "closed" / "predictions-heuristic.jsonl")
    answered = [r for r in rows if r["prediction"] and r["answerable"]]
    assert answered, "the heuristic extractor should answer something on the fixture"
    # closed mode: the citation is the gold article itself
    assert all(r["citations"][0]["doc_id"] in {"a1", "a2", "a3", "a4"} for r in answered)
    assert summary["ingest"] == {}


def test_open_jsonl_with_distractors_and_compare(tmp_path, factory, monkeypatch):
    # Keep the default run fast: no neural reader model load here.
    monkeypatch.setattr(runner, "neural_available", lambda: "disabled in this test")
    docs, files = datasets.load_distractors(FIX / "distractors.jsonl")
    eval_set = _jsonl_set().with_distractors(docs, files)
    summary = run_eval(eval_set, _cfg(tmp_path, "open", compare=True), factory=factory)
    _check_run_dir(tmp_path / "open", summary, "open")
    names = set(summary["systems"])
    assert names == {"hybrid+heuristic", "bm25+heuristic", "dense+heuristic"}
    assert summary["skipped"] == {"neural": "disabled in this test"}
    assert summary["extractors"]["hybrid+heuristic"]["name"] == "heuristic"
    assert summary["ingest"]["added"] == 6
    assert summary["index"]["info"]["articles"] == 6
    s = summary["systems"]["hybrid+heuristic"]
    assert 0 <= s["citation"]["accuracy"] <= 100


def test_retrieval_squad_compare_and_reuse_index(tmp_path, factory):
    eval_set = datasets.load_squad(FIX / "squad_tiny.json")
    cfg = _cfg(tmp_path, "retrieval", compare=True, index_dir=tmp_path / "idx")
    summary = run_eval(eval_set, cfg, factory=factory)
    _check_run_dir(tmp_path / "retrieval", summary, "retrieval")
    assert set(summary["systems"]) == {"bm25", "dense", "hybrid"}
    bm25 = summary["systems"]["bm25"]
    assert bm25["n"] == 7
    # 3 paragraphs only: everything is within the top 20
    assert bm25["answer_recall"]["@20"] == 100.0
    assert bm25["doc_recall"]["@20"] == 100.0
    assert bm25["answer_recall"]["@1"] >= 50.0
    again = run_eval(
        eval_set,
        RunConfig(
            mode="retrieval", out=tmp_path / "again", progress=False, index_dir=tmp_path / "idx"
        ),
        factory=factory,
    )
    assert again["ingest"]["added"] == 0 and again["ingest"]["unchanged"] == 3


def test_squad2_closed_reports_noans(tmp_path, factory):
    eval_set = datasets.load_squad(FIX / "squad2_tiny.json", name="squad2")
    summary = run_eval(eval_set, _cfg(tmp_path, "closed"), factory=factory)
    s = summary["systems"]["heuristic"]
    assert s["has_ans"]["n"] == 3 and s["no_ans"]["n"] == 2
    assert s["best_threshold"]["exact"] >= s["exact"]
    assert "| HasAns EM |" in (tmp_path / "closed" / "table.md").read_text().replace(
        "|HasAns", "| HasAns"
    )


def test_realtimeqa_open(tmp_path, factory):
    eval_set = datasets.load_realtimeqa(FIX / "realtimeqa_tiny.jsonl").sample(2, seed=1)
    summary = run_eval(eval_set, _cfg(tmp_path, "open"), factory=factory)
    assert summary["dataset"]["questions"] == 2
    assert summary["dataset"]["documents"] == 2
    assert "answer_in_article" in summary["systems"]["hybrid+heuristic"]["subsets"]


def test_plan_systems():
    s = Settings()
    closed, _ = plan_systems(RunConfig(mode="closed", out=Path("x"), extractor="heuristic"), s)
    assert closed == [System("heuristic", None)]
    opened, _ = plan_systems(
        RunConfig(mode="open", out=Path("x"), extractor="heuristic", compare=True), s
    )
    assert opened[0] == System("heuristic", "hybrid")
    assert {x.retrieval for x in opened} == {"bm25", "dense", "hybrid"}


def test_closed_hits_have_distinct_content_ids():
    # Extractors cache parses by chunk id: two paragraphs must never share one.
    from qa.eval.runner import closed_hits

    s = datasets.load_squad(FIX / "squad_tiny.json")
    hits = [closed_hits(d, Settings())[0] for d in s.docs]
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)
    for h, d in zip(hits, s.docs, strict=True):
        assert h.article.text[h.chunk.start : h.chunk.end] == h.chunk.text == d.text


def test_closed_hits_chunk_long_documents():
    from qa.eval.datasets import EvalDoc
    from qa.eval.runner import CLOSED_WHOLE_DOC_CHARS, closed_hits

    text = "The council met on Monday. " * (CLOSED_WHOLE_DOC_CHARS // 20)
    hits = closed_hits(EvalDoc("long", text), Settings())
    assert len(hits) > 1
    assert all(h.article.text[h.chunk.start : h.chunk.end] == h.chunk.text for h in hits)


@pytest.mark.slow
def test_closed_compare_with_neural_reader(tmp_path, factory):
    if runner.neural_available():
        pytest.skip("qa.extract.neural cannot be imported")
    from qa.extract.neural import NeuralReader

    if not NeuralReader.available():
        pytest.skip("no reader artifact installed")
    cfg = RunConfig(
        mode="closed", out=tmp_path / "c", extractor="heuristic", compare=True, progress=False
    )
    summary = run_eval(_jsonl_set(), cfg, factory=factory)
    assert set(summary["systems"]) == {"heuristic", "neural"}
    assert "artifact" in summary["extractors"]["neural"]
