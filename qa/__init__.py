"""News question answering: exact answer spans with citations.

Public API: :class:`Assistant` (``open``, ``add``, ``delete``, ``ask``, ``ask_batch``)
and :func:`ask`.
"""

from qa.assistant import Assistant, ask
from qa.settings import Settings
from qa.types import Answer, Article, Chunk, Citation, Filters, Hit, IngestReport

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
