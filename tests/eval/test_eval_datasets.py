"""Loaders on the fixtures, and on the real files when ../shared/data is present."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.eval import datasets

FIX = Path(__file__).parent / "fixtures"
DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


def test_squad_fixture():
    s = datasets.load_squad(FIX / "squad_tiny.json")
    assert len(s.docs) == 3 and len(s.questions) == 7
    q = s.questions[0]
    assert q.answers == ("Denver Broncos", "The Denver Broncos", "Broncos")
    assert s.doc(q.doc_ids[0]).title == "Super Bowl 50"
    assert s.docs[0].record()["id"] == "0-0"


def test_squad2_fixture_unanswerable():
    s = datasets.load_squad(FIX / "squad2_tiny.json", name="squad2")
    noans = [q for q in s.questions if not q.answers]
    assert [q.qid for q in noans] == ["n3", "o3"]
    assert all("no_ans" in q.tags for q in noans)


def test_sample_is_reproducible_and_keeps_corpus():
    s = datasets.load_squad(FIX / "squad_tiny.json")
    a, b = s.sample(3, seed=1), s.sample(3, seed=1)
    assert [q.qid for q in a.questions] == [q.qid for q in b.questions]
    assert a.docs == s.docs and a.total_questions == 7
    assert s.sample(None) is s and s.sample(100) is s
    order = [q.qid for q in s.questions]
    assert [order.index(q.qid) for q in a.questions] == sorted(
        order.index(q.qid) for q in a.questions
    )


def test_realtimeqa_fixture_cleans_quotes():
    s = datasets.load_realtimeqa(FIX / "realtimeqa_tiny.jsonl")
    assert s.questions[0].answers == ("Squid Game",)
    assert len(s.docs) == 2  # the burn-pits article is shared by two questions
    assert s.docs[0].date == "2022-06-12" and s.docs[0].source == "CNN"


@pytest.mark.parametrize(
    ("raw", "clean"),
    [("“Squid Game”", "Squid Game"), ("$5.", "$5"), (" 'Idaho' ", "Idaho"), ("U.S.", "U.S")],
)
def test_clean_choice(raw, clean):
    assert datasets.clean_choice(raw) == clean


def test_distractors_prefixed(tmp_path):
    docs, files = datasets.load_distractors(FIX / "distractors.jsonl")
    assert [d.doc_id for d in docs] == [
        "distractor:distractors:sport/001",
        "distractor:distractors:tech/001",
    ]
    (tmp_path / "x.jsonl").write_text(json.dumps({"text": "hello"}) + "\n")
    docs, files = datasets.load_distractors(tmp_path)
    assert len(docs) == 1 and files == [tmp_path / "x.jsonl"]


def test_jsonl_validation(tmp_path):
    s = datasets.load_jsonl(FIX / "articles.jsonl", FIX / "questions.jsonl")
    assert len(s.docs) == 4 and s.questions[-1].answers == ()
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"question": "Who?", "answers": ["x"], "article_ids": ["zz"]}) + "\n")
    with pytest.raises(datasets.DataError, match="unknown article id"):
        datasets.load_jsonl(FIX / "articles.jsonl", q)
    q.write_text("{not json\n")
    with pytest.raises(datasets.DataError, match=r"q.jsonl:1"):
        datasets.load_jsonl(FIX / "articles.jsonl", q)


@pytest.mark.data
@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data is absent")
def test_real_files_counts():
    squad = datasets.load_squad(DATA / "squad" / "dev-v1.1.json")
    assert (len(squad.docs), len(squad.questions)) == (2067, 10570)
    s2 = datasets.load_squad(DATA / "squad" / "squad-v2.0_cs224n-2019_dev.json", name="squad2")
    assert len(s2.questions) == 6078
    assert sum(1 for q in s2.questions if not q.answers) == 3168
    rt = datasets.load_realtimeqa(DATA / "realtimeqa" / "realtimeqa_2022_gold_joined.jsonl")
    assert (len(rt.questions), len(rt.docs)) == (194, 204)
    bbc, _ = datasets.load_distractors(DATA / "bbc_news")
    assert len(bbc) == 2225
