"""A brute-force reference retriever: exact cosine similarity in numpy.

Slow (it reads every vector of the generation), but obviously right: the contract
test compares the product's retriever with it, and a new backend can be checked
against it the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from qa.retrieve.base import allowed_chunks
from qa.types import Filters, Hit


class ExactRetriever:
    """Dense retrieval by exhaustive numpy search over the current generation.

    Args:
        index: Anything with a ``state`` attribute holding the current
            :class:`~qa.index.IndexState`.
        encoder: Encodes questions.
    """

    def __init__(self, index: Any, encoder: Encoder) -> None:
        self.index = index
        self.encoder = encoder

    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` chunks with the highest cosine similarity, best first."""
        return self.retrieve_batch([question], k, filters)[0]

    def retrieve_batch(
        self, questions: Sequence[str], k: int, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """:meth:`retrieve` for several questions."""
        state = self.index.state
        allowed = allowed_chunks(state, filters)
        ids = np.array(sorted(state.chunks), dtype=np.int64) if allowed is None else allowed
        if not len(questions):
            return []
        queries = self.encoder.encode(list(questions))
        if not len(ids) or k <= 0:
            return [[] for _ in questions]
        matrix = state.vectors.reconstruct(ids)
        out = []
        for query in queries:
            sims = matrix @ query
            order = np.lexsort((ids, -sims))[:k]  # best first, ties by id
            chunks = state.chunks_by_id(int(ids[i]) for i in order)
            articles = state.articles_by_id(c.article_id for c in chunks.values())
            hits = []
            for rank, i in enumerate(order):
                chunk = chunks[int(ids[i])]
                sim = float(sims[i])
                hits.append(
                    Hit(
                        chunk=chunk,
                        article=articles[chunk.article_id],
                        score=float(np.clip((sim + 1.0) / 2.0, 0.0, 1.0)),
                        rank=rank,
                        dense_score=sim,
                    )
                )
            out.append(hits)
        return out
