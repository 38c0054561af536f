"""The extractors by name: the one list the assistant, the CLIs and the evaluation use.

Each entry names a class with ``available() -> bool`` and ``build(encoder, settings)``;
classes are imported on first use, so listing names costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names only: listing extractors must not load numpy or faiss
    from embeddings.encoder import Encoder
    from qa.extract.base import Extractor
    from qa.settings import ReadingSettings

EXTRACTORS: dict[str, str] = {
    "neural": "qa.extract.neural:NeuralReader",
    "heuristic": "qa.extract.heuristic:HeuristicExtractor",
}
AUTO = "auto"
# "auto": the first available of these, in order
AUTO_ORDER = ("neural", "heuristic")
CHOICES: tuple[str, ...] = (AUTO, *EXTRACTORS)


def extractor_class(name: str) -> Any:
    """The class registered under ``name``.

    Raises:
        ValueError: If no extractor has that name.
    """
    if name not in EXTRACTORS:
        raise ValueError(f"unknown extractor {name!r} (expected one of {', '.join(CHOICES)})")
    module, attr = EXTRACTORS[name].split(":")
    return getattr(importlib.import_module(module), attr)


def resolve(name: str) -> str:
    """The extractor ``name`` stands for (``auto`` -> the first available one)."""
    if name != AUTO:
        extractor_class(name)  # validates the name
        return name
    for candidate in AUTO_ORDER:
        if extractor_class(candidate).available():
            return candidate
    raise RuntimeError("no extractor is available")


def make_extractor(name: str, encoder: Encoder, settings: ReadingSettings) -> Extractor:
    """Build the extractor ``name`` (``auto`` included).

    Raises:
        ValueError: If the name is unknown.
        RuntimeError: If the extractor asked for is not installed.
    """
    chosen = resolve(name)
    cls = extractor_class(chosen)
    if not cls.available():
        raise RuntimeError(f"the {chosen} extractor is not installed")
    extractor: Extractor = cls.build(encoder, settings)
    return extractor
