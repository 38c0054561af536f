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

from qa.index import IndexFormatError, IndexState
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
    """Chunk ids that pass ``filters`` (``None`` when there is no filter), sorted.

    Raises:
        IndexFormatError: If the generation was found damaged (its full check runs in
            the background for large indexes): no answer from a damaged index.

    """
    require_intact(state)
    return state.chunk_ids(filters)


def require_intact(state: IndexState) -> None:
    """Raise :class:`~qa.index.IndexFormatError` if ``state`` was found damaged."""
    if state.damage is not None:
        raise IndexFormatError(state.damage)
