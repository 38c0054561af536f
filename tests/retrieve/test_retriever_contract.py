"""The Retriever contract, run against every backend.

A new backend is added by writing one class and one line in ``BACKENDS``: the
same checks then hold for it. ``ExactRetriever`` (brute-force numpy) is also the
reference that the product's FAISS search is compared with.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fakes import HashingEncoder, add_articles

from qa.index import Index
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.retrieve import ExactRetriever, HybridRetriever, Retriever
from qa.settings import Settings
from qa.types import Filters, Hit

S = Settings()
TOPICS = [
    ("rates", "The central bank raised interest rates to fight inflation, its governor said."),
    ("cup", "United won the cup final after the striker scored twice in the second half."),
    ("prize", "The novelist won the national book prize for a portrait of a fishing village."),
    ("flood", "Heavy rain flooded the river town and closed schools and the main bridge."),
]
SOURCES = ["Reuters", "AP", "AFP"]


def _records() -> list[dict[str, Any]]:
    out = []
    for n in range(24):
        key, text = TOPICS[n % len(TOPICS)]
        record: dict[str, Any] = {
            "id": f"{key}-{n}",
            "title": f"{key.title()} report {n}",
            "text": f"{text} Report number {n} from desk {n % 5}. " * (1 + n % 3),
            "source": SOURCES[n % len(SOURCES)],
        }
        if n % 6:
            record["date"] = f"2024-{1 + n % 12:02d}-{1 + n:02d}"
        out.append(record)
    return out


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    ix = Index.open(
        tmp_path_factory.mktemp("contract"), HashingEncoder(), chunking_signature(S.chunking)
    )
    add_articles(ix, [article_from_record(r, "contract") for r in _records()])
    return ix


BACKENDS: dict[str, Callable[[Index], Retriever]] = {
    "hybrid": lambda ix: HybridRetriever(ix, HashingEncoder(), S.retrieval, "hybrid"),
    "dense": lambda ix: HybridRetriever(ix, HashingEncoder(), S.retrieval, "dense"),
    "bm25": lambda ix: HybridRetriever(ix, HashingEncoder(), S.retrieval, "bm25"),
    "exact": lambda ix: ExactRetriever(ix, HashingEncoder()),
}
QUESTIONS = [
    "Who raised interest rates?",
    "Which team won the cup final?",
    "What did the novelist win?",
    "What closed after the flood?",
]
FILTERS = [
    None,
    Filters(sources=("ap",)),
    Filters(date_from="2024-03-01", date_to="2024-08-31"),
    Filters(article_ids=()),
]


def _passes(hit: Hit, filters: Filters | None) -> bool:
    a = hit.article
    if filters is None:
        return True
    if filters.sources and (a.source or "").lower() not in {s.lower() for s in filters.sources}:
        return False
    if filters.date_from and (not a.date or a.date < filters.date_from):
        return False
    if filters.date_to and (not a.date or a.date > filters.date_to):
        return False
    return not (filters.article_ids and a.article_id not in filters.article_ids)


@pytest.fixture(params=sorted(BACKENDS))
def retriever(request: pytest.FixtureRequest, index: Index) -> Retriever:
    return BACKENDS[request.param](index)


def assert_ranked_and_valid(hits: list[Hit], k: int, chunks: Any) -> None:
    """At most ``k`` hits, ranked 0.., scores in [0, 1] best first, distinct stored chunks.

    ``chunks`` maps chunk id to the stored chunk; each hit's chunk must be that one,
    belong to its article and quote the article's text at its offsets.
    """
    assert len(hits) <= k
    assert [h.rank for h in hits] == list(range(len(hits)))
    scores = [h.score for h in hits]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores == sorted(scores, reverse=True)
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)
    for h in hits:
        assert chunks[h.chunk.chunk_id] == h.chunk
        assert h.article.article_id == h.chunk.article_id
        assert h.article.text[h.chunk.start : h.chunk.end] == h.chunk.text


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("k", [1, 5, 12])
def test_hits_are_ranked_valid_and_filtered(retriever: Retriever, index: Index, k, filters) -> None:  # noqa: ANN001
    state = index.state
    for question in QUESTIONS:
        hits = retriever.retrieve(question, k, filters)
        assert_ranked_and_valid(hits, k, state.chunks)
        for h in hits:
            assert _passes(h, filters)


def test_filters_are_applied_inside_the_search(retriever: Retriever, index: Index) -> None:
    """Asking for k hits under a filter gives k hits when k chunks pass it (not fewer)."""
    keep = tuple(sorted(index.state.articles)[:3])
    n_chunks = sum(1 for c in index.state.chunks.values() if c.article_id in keep)
    hits = retriever.retrieve(
        "interest rates cup prize flood report", n_chunks, Filters(article_ids=keep)
    )
    assert {h.article.article_id for h in hits} <= set(keep)
    if not isinstance(retriever, HybridRetriever) or retriever.mode != "bm25":
        assert len(hits) == n_chunks  # dense search ranks every allowed chunk


def test_a_filter_nothing_passes_gives_no_hits(retriever: Retriever) -> None:
    assert retriever.retrieve("interest rates", 5, Filters(sources=("Nobody",))) == []


def test_batch_equals_one_by_one(retriever: Retriever) -> None:
    batch = retriever.retrieve_batch(QUESTIONS, 4)
    single = [retriever.retrieve(q, 4) for q in QUESTIONS]
    assert [[h.chunk.chunk_id for h in hs] for hs in batch] == [
        [h.chunk.chunk_id for h in hs] for hs in single
    ]
    assert retriever.retrieve_batch([], 4) == []


def test_faiss_dense_search_equals_brute_force(index: Index) -> None:
    """The product's FAISS search and the exhaustive numpy reference agree exactly."""
    dense = HybridRetriever(index, HashingEncoder(), S.retrieval, "dense")
    exact = ExactRetriever(index, HashingEncoder())
    for question in QUESTIONS:
        for filters in (None, Filters(sources=("Reuters",))):
            got = dense.retrieve(question, 10, filters)
            ref = exact.retrieve(question, 10, filters)
            assert [h.dense_score for h in got] == pytest.approx(
                [h.dense_score for h in ref], abs=1e-5
            )
            # equal similarities may come in either order; the sets of each score agree
            assert sorted((round(h.dense_score or 0, 5), h.chunk.chunk_id) for h in got) == sorted(
                (round(h.dense_score or 0, 5), h.chunk.chunk_id) for h in ref
            )
    q = HashingEncoder().encode([QUESTIONS[0]])[0]
    ids = np.array(sorted(index.state.chunks), dtype=np.int64)
    sims = index.state.vectors.reconstruct(ids) @ q
    best = ids[int(np.argmax(sims))]
    assert exact.retrieve(QUESTIONS[0], 1)[0].chunk.chunk_id == best
