from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.common.squad import DataError, SquadParagraph, SquadQuestion, read_json, read_squad

V1 = {
    "version": "1.1",
    "data": [
        {
            "title": "Super_Bowl_50",
            "paragraphs": [
                {
                    "context": "Super Bowl 50 was played in Santa Clara, California.",
                    "qas": [
                        {
                            "id": "q1",
                            "question": "Where was Super Bowl 50 played?",
                            "answers": [
                                {"text": "Santa Clara, California", "answer_start": 28},
                                {"text": "Santa Clara", "answer_start": 28},
                            ],
                        },
                        {
                            "id": "q2",
                            "question": "Which Super Bowl was it?",
                            "answers": [{"text": "50", "answer_start": 11}],
                        },
                    ],
                },
                {
                    "context": "The Broncos beat the Panthers 24 to 10.",
                    "qas": [
                        {
                            "id": "q3",
                            "question": "Who won?",
                            "answers": [{"text": "The Broncos", "answer_start": 0}],
                        }
                    ],
                },
            ],
        },
        {
            "title": "Warsaw",
            "paragraphs": [
                {
                    "context": "Warsaw is the capital of Poland.",
                    "qas": [
                        {
                            "id": "q4",
                            "question": "What is Warsaw the capital of?",
                            "answers": [{"text": "Poland", "answer_start": 25}],
                        }
                    ],
                }
            ],
        },
    ],
}

V2 = {
    "version": "v2.0",
    "data": [
        {
            "title": "Normans",
            "paragraphs": [
                {
                    "context": "The Normans gave their name to Normandy, a region in France.",
                    "qas": [
                        {
                            "id": "n1",
                            "question": "In what country is Normandy located?",
                            "answers": [{"text": "France", "answer_start": 53}],
                            "is_impossible": False,
                        },
                        {
                            "id": "n2",
                            "question": "Who gave their name to Brittany?",
                            "answers": [],
                            "plausible_answers": [{"text": "The Normans", "answer_start": 0}],
                            "is_impossible": True,
                        },
                    ],
                }
            ],
        }
    ],
}


def write(tmp_path: Path, data: object, name: str = "squad.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_v1_paragraphs_in_file_order_with_indices(tmp_path: Path) -> None:
    paras = read_squad(write(tmp_path, V1))
    assert all(isinstance(p, SquadParagraph) for p in paras)
    assert [(p.title, p.article_index, p.paragraph_index) for p in paras] == [
        ("Super_Bowl_50", 0, 0),
        ("Super_Bowl_50", 0, 1),
        ("Warsaw", 1, 0),
    ]
    assert paras[1].context == "The Broncos beat the Panthers 24 to 10."
    assert [q.qid for p in paras for q in p.questions] == ["q1", "q2", "q3", "q4"]


def test_v1_answers_are_text_and_start(tmp_path: Path) -> None:
    paras = read_squad(write(tmp_path, V1))
    first = paras[0].questions[0]
    assert isinstance(first, SquadQuestion)
    assert first == SquadQuestion(
        "q1",
        "Where was Super Bowl 50 played?",
        (("Santa Clara, California", 28), ("Santa Clara", 28)),
        False,
    )
    for para in paras:
        for q in para.questions:
            assert not q.impossible
            for text, start in q.answers:
                assert para.context[start : start + len(text)] == text


def test_v2_impossible_question_has_no_answers(tmp_path: Path) -> None:
    (para,) = read_squad(write(tmp_path, V2))
    answerable, impossible = para.questions
    assert answerable.answers == (("France", 53),)
    assert answerable.impossible is False
    assert impossible.qid == "n2"
    assert impossible.answers == ()
    assert impossible.impossible is True


def test_impossible_ignores_answers_even_when_present(tmp_path: Path) -> None:
    data = json.loads(json.dumps(V2))
    qa = data["data"][0]["paragraphs"][0]["qas"][1]
    qa["answers"] = [{"text": "The Normans", "answer_start": 0}]
    (para,) = read_squad(write(tmp_path, data))
    assert para.questions[1].answers == ()
    assert para.questions[1].impossible


def test_missing_title_becomes_empty_string(tmp_path: Path) -> None:
    data = {"data": [{"paragraphs": [{"context": "c", "qas": []}]}]}
    (para,) = read_squad(write(tmp_path, data))
    assert para.title == ""
    assert para.questions == ()


def test_read_json_parses(tmp_path: Path) -> None:
    path = write(tmp_path, {"a": [1, 2]}, "x.json")
    assert read_json(path) == {"a": [1, 2]}
    assert read_json(str(path)) == {"a": [1, 2]}


def test_missing_file_raises_data_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "nope.json"
    with pytest.raises(DataError) as info:
        read_squad(path)
    assert str(path) in str(info.value)
    with pytest.raises(DataError, match="nope.json"):
        read_json(path)


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_json(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_invalid_json_raises_data_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"data": [', encoding="utf-8")
    with pytest.raises(DataError) as info:
        read_squad(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_invalid_utf8_raises_data_error(tmp_path: Path) -> None:
    path = tmp_path / "latin.json"
    path.write_bytes(b'{"data": "\xff\xfe"}')
    with pytest.raises(DataError) as info:
        read_json(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("data", [{"version": "1.1"}, {"data": {}}, [], "text", {"data": None}])
def test_no_data_list_raises_data_error(tmp_path: Path, data: object) -> None:
    path = write(tmp_path, data)
    with pytest.raises(DataError) as info:
        read_squad(path)
    assert str(path) in str(info.value)


def _without(key: str) -> dict:
    data = json.loads(json.dumps(V1))
    del data["data"][0]["paragraphs"][0]["qas"][0][key]
    return data


def _one_qa(qa: dict) -> dict:
    return {"data": [{"paragraphs": [{"context": "c", "qas": [qa]}]}]}


@pytest.mark.parametrize(
    "data",
    [
        _without("question"),
        _without("id"),
        {"data": [{"title": "t", "paragraphs": [{"qas": []}]}]},
        _one_qa({"id": "x", "question": "q", "answers": [{"text": "c"}]}),
        _one_qa({"id": "x", "question": "q", "answers": [{"text": "c", "answer_start": "z"}]}),
        {"data": ["not an article"]},
    ],
    ids=["no-question", "no-id", "no-context", "no-answer-start", "bad-start", "not-object"],
)
def test_malformed_entry_raises_data_error_naming_file(tmp_path: Path, data: dict) -> None:
    path = write(tmp_path, data)
    with pytest.raises(DataError) as info:
        read_squad(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fixture", [V1, V2], ids=["v1", "v2"])
def test_reader_and_eval_loaders_agree(tmp_path: Path, fixture: dict) -> None:
    from qa.eval.datasets import load_squad as eval_load
    from qa.reader.data import load_squad as reader_load

    path = write(tmp_path, fixture)
    examples = reader_load(path)
    evalset = eval_load(path)
    paras = read_squad(path)
    expected = [q for p in paras for q in p.questions]
    assert [e.qid for e in examples] == [q.qid for q in evalset.questions]
    assert [e.qid for e in examples] == [q.qid for q in expected]
    assert [e.question for e in examples] == [q.question for q in evalset.questions]
    assert [tuple(t for t, _ in e.answers) for e in examples] == [
        q.answers for q in evalset.questions
    ]
    assert [e.answers for e in examples] == [q.answers for q in expected]
    contexts = {d.doc_id: d.text for d in evalset.docs}
    for example, question in zip(examples, evalset.questions, strict=True):
        (doc_id,) = question.doc_ids
        assert contexts[doc_id] == example.context
