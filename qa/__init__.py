"""News question answering: exact answer spans with citations.

Public API: :class:`Assistant` (``open``, ``add``, ``delete``, ``ask``, ``ask_batch``)
and :func:`ask`.

The names load on first use (PEP 562), so that ``qa ask`` asking a running
``qa serve`` does not import PyTorch, FAISS or the models' libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qa.assistant import Assistant, ask
    from qa.settings import Settings
    from qa.types import Answer, Article, Chunk, Citation, Filters, Hit, IngestReport

_HOMES = {
    "Assistant": "qa.assistant",
    "ask": "qa.assistant",
    "Settings": "qa.settings",
    "Answer": "qa.types",
    "Article": "qa.types",
    "Chunk": "qa.types",
    "Citation": "qa.types",
    "Filters": "qa.types",
    "Hit": "qa.types",
    "IngestReport": "qa.types",
}

__all__ = [
    "Answer",
    "Article",
    "Assistant",
    "Chunk",
    "Citation",
    "Filters",
    "Hit",
    "IngestReport",
    "Settings",
    "ask",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
