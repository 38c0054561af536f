"""Hybrid retrieval: dense (FAISS) and BM25, fused by reciprocal rank."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from embeddings.encoder import Encoder
from qa.index import IndexState
from qa.types import Filters, Hit

MODES = ("hybrid", "dense", "bm25")


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
        if filters.date_from and (not article.date or article.date < filters.date_from):
            continue
        if filters.date_to and (not article.date or article.date > filters.date_to):
            continue
        keep.add(article.article_id)
    return np.array(
        [cid for cid, c in state.chunks.items() if c.article_id in keep], dtype=np.int64
    )


def dense_search(
    state: IndexState, query_vector: np.ndarray, k: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Top-``k`` chunks by cosine similarity."""
    scores, ids = state.vectors.search(query_vector, k, allowed)
    return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]


def bm25_search(
    state: IndexState, question: str, k: int, allowed: np.ndarray | None
) -> list[tuple[int, float]]:
    """Top-``k`` chunks by BM25 (only chunks with a positive score)."""
    if not state.chunks:
        return []
    import bm25s

    model, doc_ids = state.bm25()
    tokens = bm25s.tokenize([question], stopwords="en", return_ids=False, show_progress=False)[0]
    if not tokens:
        return []
    scores = np.asarray(model.get_scores(tokens), dtype=np.float32)
    if allowed is not None:
        mask = np.isin(doc_ids, allowed)
        scores = np.where(mask, scores, 0.0)
    k = min(k, len(scores))
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(doc_ids[i]), float(scores[i])) for i in top if scores[i] > 0]


def fuse(rankings: Sequence[list[tuple[int, float]]], rrf_k: int) -> list[tuple[int, float]]:
    """Reciprocal rank fusion, normalised so a chunk ranked first everywhere scores 1."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, (cid, _) in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (rrf_k + rank + 1)
    best = len(rankings) / (rrf_k + 1)
    ordered = sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))
    return [(cid, score / best) for cid, score in ordered]


def retrieve(
    state: IndexState,
    encoder: Encoder,
    question: str,
    k: int,
    *,
    dense_k: int,
    bm25_k: int,
    rrf_k: int,
    filters: Filters | None = None,
    mode: str = "hybrid",
    query_vector: np.ndarray | None = None,
) -> list[Hit]:
    """Find the ``k`` chunks most likely to hold the answer.

    Args:
        state: The loaded index generation.
        encoder: Encodes the question for dense search.
        question: The question.
        k: How many hits to return.
        dense_k: Dense candidates to fuse.
        bm25_k: BM25 candidates to fuse.
        rrf_k: Fusion constant.
        filters: Optional date/source/article filters.
        mode: ``hybrid``, ``dense`` or ``bm25``.
        query_vector: Precomputed question vector (batch use).

    """
    if mode not in MODES:
        raise ValueError(f"unknown retrieval mode {mode!r} (expected one of {', '.join(MODES)})")
    allowed = allowed_chunks(state, filters)
    dense: list[tuple[int, float]] = []
    sparse: list[tuple[int, float]] = []
    if mode in ("hybrid", "dense"):
        vector = query_vector if query_vector is not None else encoder.encode([question])
        dense = dense_search(state, vector, max(k, dense_k), allowed)
    if mode in ("hybrid", "bm25"):
        sparse = bm25_search(state, question, max(k, bm25_k), allowed)
    rankings = [r for r, used in ((dense, mode != "bm25"), (sparse, mode != "dense")) if used]
    dense_scores = dict(dense)
    bm25_scores = dict(sparse)
    hits = []
    for rank, (cid, score) in enumerate(fuse(rankings, rrf_k)[:k]):
        chunk = state.chunks[cid]
        hits.append(
            Hit(
                chunk=chunk,
                article=state.articles[chunk.article_id],
                score=score,
                rank=rank,
                dense_score=dense_scores.get(cid),
                bm25_score=bm25_scores.get(cid),
            )
        )
    return hits
