"""The extractor interface: pull answer spans out of retrieved chunks."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from qa.types import Hit, Span


class Extractor(Protocol):
    """Finds answer candidates in retrieved chunks.

    An extractor reads each chunk on its own and returns spans whose offsets
    are article offsets (chunk start added), so that
    ``span.hit.article.text[span.start:span.end] == span.text``.
    Scores are in [0, 1] and comparable across chunks and articles.
    """

    name: str

    def calibrator_file(self) -> tuple[Path, str] | None:
        """``(calibrator.json, weights sha256)`` fitted for this extractor, if it has one."""
        ...

    def extract(self, question: str, hits: Sequence[Hit]) -> list[Span]:
        """Return answer candidates from ``hits``, best first."""
        ...
