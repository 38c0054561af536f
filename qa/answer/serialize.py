"""Answers as plain JSON-ready data.

The one shape that the CLI (``--json``) and the chat (API clients, tests) both print.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from qa.answer.conversation import Turn
from qa.common.when import format_when
from qa.types import Answer, When


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
