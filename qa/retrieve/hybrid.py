"""Hybrid retrieval: dense (FAISS) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from qa.index import IndexState
from qa.retrieve.base import MODES, allowed_chunks
from qa.settings import RetrievalSettings
from qa.types import Filters, Hit

QUESTION_CACHE = 256
"""How many recent question vectors a retriever keeps."""


def dense_search(
    state: IndexState, query_vector: np.ndarray, k: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Top-``k`` chunks by cosine similarity."""
    scores, ids = state.vectors.search(query_vector, k, allowed)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def bm25_tokens(question: str) -> list[str]:
    """The question's BM25 terms (bm25s's tokenizer, English stopwords removed)."""
    import bm25s

    return list(
        bm25s.tokenize([question], stopwords="en", return_ids=False, show_progress=False)[0]
    )


def bm25_search(
    state: IndexState,
    question: str,
    k: int,
    allowed: np.ndarray | None,
    stats: tuple[int, list[float]] | None = None,
) -> list[tuple[int, float]]:
    """Top-``k`` chunks by BM25 (only chunks with a positive score).

    ``stats``: the whole collection's ``(documents, document frequency per term of
    bm25_tokens(question))`` when ``state`` is one shard of it (``Lexical.term_stats``).
    """
    if not state.chunks:
        return []
    tokens = bm25_tokens(question)
    if not tokens:
        return []
    return state.lexical().search(tokens, k, allowed, stats)


def fuse(rankings: Sequence[list[tuple[int, float]]], rrf_k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion, normalised so a chunk ranked first everywhere scores 1."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (cid, _) in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (rrf_k + rank + 1)
    best = len(rankings) / (rrf_k + 1)
    ordered = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(cid, score / best) for cid, score in ordered]


class HybridRetriever:
    """Dense (FAISS) and BM25 retrieval, fused by reciprocal rank.

    Filters are pushed into both searches: a FAISS id selector and a BM25 mask.

    Args:
        index: Anything with a ``state`` attribute holding the current
            :class:`~qa.index.IndexState` (read once per question, so a question
            never sees half of a write).
        encoder: Encodes questions for dense search.
        settings: Candidate counts and the fusion constant.
        mode: ``hybrid``, ``dense`` or ``bm25``.
    """

    def __init__(
        self,
        index: Any,
        encoder: Encoder,
        settings: RetrievalSettings | None = None,
        mode: str = "hybrid",
    ) -> None:
        if mode not in MODES:
            raise ValueError(
                f"unknown retrieval mode {mode!r} (expected one of {', '.join(MODES)})"
            )
        self.index = index
        self.encoder = encoder
        self.settings = settings if settings is not None else RetrievalSettings()
        self.mode = mode
        # recent question vectors: a question searched twice (its time period's passages
        # are searched too: Assistant.passages_for) is encoded once
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._vectors_lock = threading.Lock()

    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` chunks most likely to hold the answer, best first."""
        vector = self.question_vectors([question]) if self.mode != "bm25" else None
        return self._search(self.index.state, question, k, filters, vector)

    def retrieve_batch(
        self, questions: Sequence[str], k: int, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """:meth:`retrieve` for several questions, encoded in one batch, on one generation."""
        if not questions:
            return []
        state = self.index.state
        vectors = self.question_vectors(questions) if self.mode != "bm25" else None
        return [
            self._search(state, q, k, filters, None if vectors is None else vectors[i : i + 1])
            for i, q in enumerate(questions)
        ]

    def question_vectors(self, questions: Sequence[str]) -> np.ndarray:
        """The questions' unit vectors, one row each; the recent ones come from a cache."""
        with self._vectors_lock:
            known = {q: self._vectors[q] for q in questions if q in self._vectors}
        missing = list(dict.fromkeys(q for q in questions if q not in known))
        if missing:
            fresh = self.encoder.encode(missing)
            with self._vectors_lock:
                for q, row in zip(missing, fresh, strict=True):
                    known[q] = row
                    self._vectors[q] = row
                    self._vectors.move_to_end(q)
                while len(self._vectors) > QUESTION_CACHE:
                    self._vectors.popitem(last=False)
        return np.stack([known[q] for q in questions]).astype(np.float32, copy=False)

    def _search(
        self,
        state: IndexState,
        question: str,
        k: int,
        filters: Filters | None,
        query_vector: np.ndarray | None,
    ) -> list[Hit]:
        s = self.settings
        allowed = allowed_chunks(state, filters)
        dense: list[tuple[int, float]] = []
        sparse: list[tuple[int, float]] = []
        if self.mode in ("hybrid", "dense"):
            vector = query_vector if query_vector is not None else self.encoder.encode([question])
            dense = dense_search(state, vector, max(k, s.dense_k), allowed)
        if self.mode in ("hybrid", "bm25"):
            sparse = bm25_search(state, question, max(k, s.bm25_k), allowed)
        rankings = [
            r for r, used in ((dense, self.mode != "bm25"), (sparse, self.mode != "dense")) if used
        ]
        dense_scores = dict(dense)
        bm25_scores = dict(sparse)
        top = fuse(rankings, s.rrf_k)[:k]
        chunks = state.chunks_by_id(cid for cid, _ in top)
        articles = state.articles_by_id(c.article_id for c in chunks.values())
        hits = []
        for rank, (cid, score) in enumerate(top):
            chunk = chunks[cid]
            hits.append(
                Hit(
                    chunk=chunk,
                    article=articles[chunk.article_id],
                    score=score,
                    rank=rank,
                    dense_score=dense_scores.get(cid),
                    bm25_score=bm25_scores.get(cid),
                )
            )
        return hits
