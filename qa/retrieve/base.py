"""The retriever seam: one protocol every backend implements.

A backend answers ``retrieve(question, k, filters)`` with at most ``k``
:class:`~qa.types.Hit` objects, best first (``rank`` 0, 1, ...; ``score`` in
[0, 1], not increasing), every hit's chunk belonging to its article and passing
``filters`` (applied inside the backend's search, not after it, so ``k`` hits come
back whenever ``k`` chunks pass). ``tests/retrieve/test_retriever_contract.py``
checks any backend against this contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from qa.index import IndexState
from qa.types import Filters, Hit

MODES = ("hybrid", "dense", "bm25")


class Retriever(Protocol):
    """Finds the passages most likely to hold the answer to a question."""

    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """At most ``k`` hits for ``question``, best first."""
        ...

    def retrieve_batch(
        self, questions: Sequence[str], k: int, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """:meth:`retrieve` for several questions (backends may batch the work)."""
        ...


def allowed_chunks(state: IndexState, filters: Filters | None) -> np.ndarray | None:
    """Chunk ids that pass ``filters`` (``None`` when there is no filter)."""
    if filters is None or filters.empty:
        return None
    sources = {s.lower() for s in filters.sources}
    wanted = set(filters.article_ids)
    keep: set[str] = set()
    for article in state.articles.values():
        if wanted and article.article_id not in wanted:
            continue
        if sources and (article.source or "").lower() not in sources:
            continue
        if not filters.admits(article.date):
            continue
        keep.add(article.article_id)
    return np.array(
        [cid for cid, c in state.chunks.items() if c.article_id in keep], dtype=np.int64
    )
