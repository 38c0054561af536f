"""Answers as plain JSON-ready data.

The one shape that the CLI (``--json``) and the chat (API clients, tests) both print.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from qa.answer.conversation import Turn
from qa.common.when import format_when
from qa.types import Answer, Citation, OtherAnswer, TimeScope, When


def answer_json(answer: Answer) -> dict[str, Any]:
    """The answer as a dict: ``answer`` holds the text or ``None``; citations in full."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "found": answer.found,
        "score": round(answer.score, 4),
        "likely": answer.likely,
        "extractor": answer.extractor,
        "when": _when(answer.when),
        "agreeing": answer.agreeing,
        "conflict": answer.conflict,
        "others": [
            {
                "answer": o.text,
                "score": round(o.score, 4),
                "conflict": o.conflict,
                "when": _when(o.when),
                "citation": asdict(o.citation),
            }
            for o in answer.others
        ],
        "time_scope": asdict(answer.time_scope) if answer.time_scope is not None else None,
        "citations": [asdict(c) for c in answer.citations],
        "related": [asdict(c) for c in answer.related],
    }


def _when(when: When | None) -> dict[str, Any] | None:
    if when is None:
        return None
    return {**asdict(when), "label": format_when(when)}


def answer_from_json(data: dict[str, Any]) -> Answer:
    """The :class:`Answer` that :func:`answer_json` wrote (scores rounded as written).

    Raises:
        ValueError: If ``data`` is not in that shape.
    """
    try:
        return Answer(
            question=data["question"],
            text=data["answer"],
            score=float(data["score"]),
            citations=tuple(Citation(**c) for c in data["citations"]),
            related=tuple(Citation(**c) for c in data["related"]),
            extractor=data["extractor"],
            likely=bool(data["likely"]),
            when=_when_back(data["when"]),
            agreeing=int(data["agreeing"]),
            others=tuple(
                OtherAnswer(
                    text=o["answer"],
                    score=float(o["score"]),
                    citation=Citation(**o["citation"]),
                    when=_when_back(o["when"]),
                    conflict=bool(o["conflict"]),
                )
                for o in data["others"]
            ),
            conflict=bool(data["conflict"]),
            time_scope=TimeScope(**data["time_scope"]) if data["time_scope"] else None,
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not an answer in answer_json form: {exc}") from exc


def _when_back(data: dict[str, Any] | None) -> When | None:
    if data is None:
        return None
    return When(**{k: v for k, v in data.items() if k != "label"})


def turn_json(turn: Turn) -> dict[str, Any]:
    """A chat turn: :func:`answer_json` of its answer plus how the question was asked."""
    return {
        **answer_json(turn.answer),
        "question": turn.question,
        "asked": turn.asked,
        "follow_up": turn.follow_up,
        "scoped": turn.scoped,
        "seconds": round(turn.seconds, 4),
    }
