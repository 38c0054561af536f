"""Reading SQuAD-format JSON (v1.1 and v2.0): the one loader for training and evaluation.

The reader's training data (``qa.reader.data``) and the evaluation sets
(``qa.eval.datasets``) both come from here; the answer metrics are in
:mod:`qa.common.metrics`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class DataError(ValueError):
    """A data file is missing or malformed (the message names the file)."""


@dataclass(frozen=True)
class SquadQuestion:
    """One question: gold answers as ``(text, char start)``; none when unanswerable."""

    qid: str
    question: str
    answers: tuple[tuple[str, int], ...]
    impossible: bool = False


@dataclass(frozen=True)
class SquadParagraph:
    """A passage with its questions, and where it sits in the file."""

    title: str
    context: str
    questions: tuple[SquadQuestion, ...]
    article_index: int
    paragraph_index: int


def read_json(path: str | Path) -> Any:
    """Parse a JSON file, or raise :class:`DataError` naming it."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from exc


def read_squad(path: str | Path) -> list[SquadParagraph]:
    """All paragraphs of a SQuAD v1.1 or v2.0 file, in file order.

    Unanswerable v2.0 questions (``is_impossible``) get no answers; their
    ``plausible_answers`` are ignored, as in the official scripts.

    Raises:
        DataError: If the file is missing, not JSON, or not SQuAD-shaped.
    """
    path = Path(path)
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataError(f"{path}: not a SQuAD file (no 'data' list)")
    out: list[SquadParagraph] = []
    try:
        for a_idx, article in enumerate(data["data"]):
            title = str(article.get("title") or "")
            for p_idx, para in enumerate(article.get("paragraphs", [])):
                questions = []
                for qa in para.get("qas", []):
                    impossible = bool(qa.get("is_impossible"))
                    answers = (
                        ()
                        if impossible
                        else tuple(
                            (str(a["text"]), int(a["answer_start"])) for a in qa.get("answers", [])
                        )
                    )
                    questions.append(
                        SquadQuestion(str(qa["id"]), str(qa["question"]), answers, impossible)
                    )
                out.append(SquadParagraph(title, para["context"], tuple(questions), a_idx, p_idx))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(f"{path}: malformed SQuAD entry ({exc!r})") from exc
    return out
