"""``qa eval`` through click's CliRunner (fake encoder, heuristic extractor)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import HashingEncoder

from qa.eval import cli

FIX = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _fake_encoder(monkeypatch):
    monkeypatch.setattr(cli, "ENCODER_FACTORY", HashingEncoder)


def _invoke(*args: str):
    return CliRunner().invoke(cli.eval_group, list(args), catch_exceptions=False)


def test_squad_closed_cli(tmp_path):
    out = tmp_path / "run"
    res = _invoke(
        "squad",
        str(FIX / "squad_tiny.json"),
        "--mode",
        "closed",
        "--limit",
        "4",
        "--seed",
        "3",
        "--extractor",
        "heuristic",
        "--retrieval-weight",
        "2.5",
        "--out",
        str(out),
        "--quiet",
    )
    assert res.exit_code == 0, res.output
    assert "| heuristic | 4 |" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["dataset"]["sampling"] == {"limit": 4, "seed": 3}
    assert summary["dataset"]["questions_in_file"] == 7
    assert "eval squad" in summary["command"]
    assert summary["settings"]["answering"]["retrieval_weight"] == 2.5


def test_jsonl_retrieval_cli(tmp_path):
    out = tmp_path / "run"
    res = _invoke(
        "jsonl",
        "--articles",
        str(FIX / "articles.jsonl"),
        "--questions",
        str(FIX / "questions.jsonl"),
        "--distractors",
        str(FIX / "distractors.jsonl"),
        "--mode",
        "retrieval",
        "--out",
        str(out),
        "--quiet",
    )
    assert res.exit_code == 0, res.output
    assert (out / "recall_at_k.png").is_file()
    assert json.loads((out / "summary.json").read_text())["dataset"]["distractors"] == 2


def test_realtimeqa_and_squad2_cli(tmp_path):
    res = _invoke(
        "realtimeqa",
        str(FIX / "realtimeqa_tiny.jsonl"),
        "--distractors",
        str(FIX / "distractors.jsonl"),
        "--extractor",
        "heuristic",
        "--out",
        str(tmp_path / "rt"),
        "--quiet",
    )
    assert res.exit_code == 0, res.output
    res = _invoke(
        "squad2",
        str(FIX / "squad2_tiny.json"),
        "--extractor",
        "heuristic",
        "--out",
        str(tmp_path / "s2"),
        "--quiet",
    )
    assert res.exit_code == 0, res.output
    assert "NoAns EM" in res.output


def test_bad_data_is_one_line_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "Who?"}\n')
    res = _invoke(
        "jsonl",
        "--articles",
        str(FIX / "articles.jsonl"),
        "--questions",
        str(bad),
        "--out",
        str(tmp_path / "x"),
    )
    assert res.exit_code != 0
    assert "missing 'answers'" in res.output
