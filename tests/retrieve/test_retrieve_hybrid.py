"""Unit tests for qa.retrieval: RRF fusion, filters, BM25, dense and hybrid retrieval."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fakes import HashingEncoder, StateHolder, add_articles

from qa.index import Index, IndexState
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.retrieve.base import MODES, allowed_chunks
from qa.retrieve.hybrid import HybridRetriever, bm25_search, dense_search, fuse
from qa.settings import Settings
from qa.types import Article, Filters, Hit

S = Settings()

RECORDS: list[dict[str, Any]] = [
    {
        "id": "fed",
        "title": "Fed raises interest rates",
        "text": "The Federal Reserve raised interest rates by a quarter point on Wednesday. "
        "Chair Jerome Powell said inflation remained too high and more increases were possible.",
        "date": "2024-01-05",
        "source": "Reuters",
    },
    {
        "id": "ecb",
        "title": "ECB holds interest rates",
        "text": "The European Central Bank kept interest rates unchanged on Thursday. "
        "President Christine Lagarde said inflation was easing across the euro area.",
        "date": "2024-02-10",
        "source": "AFP",
    },
    {
        "id": "award",
        "title": "Novelist wins book prize",
        "text": "The novelist Quentin Zyxwvut won the national book prize on Tuesday for his "
        "third novel. The jury praised the book's portrait of a fishing village.",
        "date": "2024-03-01",
        "source": "AP",
    },
    {
        "id": "football",
        "title": "United win the cup final",
        "text": "United won the cup final 3-1 on Saturday in front of 81,034 fans. "
        "The striker scored twice in the second half to seal the win.",
        "date": "2024-05-20",
        "source": "reuters",
    },
    {
        "id": "undated",
        "title": "Bank rates explainer",
        "text": "Interest rates are set by central banks to manage inflation. Higher interest "
        "rates make borrowing more expensive. Rates, inflation and banks: interest rates "
        "explained.",
        "source": None,
    },
]


# Undated filler articles that all talk about interest rates, so that BM25's idf makes a
# rare name far more telling than "interest rates" (as in a real news corpus).
FILLERS: list[dict[str, Any]] = [
    {
        "id": f"filler-{n}",
        "title": f"Markets note {n}",
        "text": f"Analysts in city {n} expect interest rates to stay high. Mortgage rates and "
        f"interest costs weigh on household budget number {n}.",
        "source": "Filler",
    }
    for n in range(20)
]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[IndexState, dict[str, Article]]:
    articles = [article_from_record(r, "test") for r in RECORDS]
    index = Index.open(
        tmp_path_factory.mktemp("idx"), HashingEncoder(), chunking_signature(S.chunking)
    )
    report = add_articles(index, articles + [article_from_record(r, "filler") for r in FILLERS])
    assert len(report.added) == len(RECORDS) + len(FILLERS)
    by_key = {r["id"]: a for r, a in zip(RECORDS, articles, strict=True)}
    return index.state, by_key


@pytest.fixture(scope="module")
def state(built) -> IndexState:  # noqa: ANN001
    return built[0]


@pytest.fixture(scope="module")
def arts(built) -> dict[str, Article]:  # noqa: ANN001
    return built[1]


def _articles_of(state: IndexState, ids: np.ndarray | list[int] | None) -> set[str]:
    assert ids is not None
    return {state.chunks[int(i)].article_id for i in ids}


def _retrieve(
    state: IndexState,
    question: str,
    k: int = 5,
    filters: Filters | None = None,
    mode: str = "hybrid",
) -> list[Hit]:
    retriever = HybridRetriever(StateHolder(state), HashingEncoder(), S.retrieval, mode)
    return retriever.retrieve(question, k, filters)


# --------------------------------------------------------------------- fuse
def test_fuse_first_everywhere_scores_one() -> None:
    rankings = [[(1, 0.9), (2, 0.8), (3, 0.1)], [(1, 12.0), (3, 5.0)], [(1, 0.3)]]
    fused = fuse(rankings, 60)
    assert fused[0] == (1, pytest.approx(1.0))
    assert fuse([[(5, 0.1)]], 60) == [(5, pytest.approx(1.0))]
    assert all(0.0 < s <= 1.0 for _, s in fused)


def test_fuse_rrf_values_and_ordering() -> None:
    k = 60
    dense = [(10, 0.9), (20, 0.8), (30, 0.7)]
    sparse = [(30, 9.0), (40, 8.0)]
    fused = dict(fuse([dense, sparse], k))
    best = 2 / (k + 1)
    assert fused[10] == pytest.approx((1 / (k + 1)) / best)  # first in one list only: 0.5
    assert fused[10] == pytest.approx(0.5)
    assert fused[30] == pytest.approx((1 / (k + 3) + 1 / (k + 1)) / best)
    assert fused[40] == pytest.approx((1 / (k + 2)) / best)
    order = [cid for cid, _ in fuse([dense, sparse], k)]
    assert order == [30, 10, 20, 40]
    # raw scores do not matter, only ranks
    assert fuse([[(1, 100.0), (2, -5.0)]], k) == fuse([[(1, 0.0), (2, 0.0)]], k)


def test_fuse_ties_break_by_chunk_id_and_empty_input() -> None:
    fused = fuse([[(7, 1.0), (3, 0.5)], [(3, 1.0), (7, 0.5)]], 60)
    assert [cid for cid, _ in fused] == [3, 7]
    assert fused[0][1] == pytest.approx(fused[1][1])
    assert fuse([], 60) == []
    assert fuse([[], []], 60) == []


def test_fuse_smaller_k_rewards_top_ranks_more() -> None:
    ranking = [(i, 0.0) for i in range(5)]
    sharp = [s for _, s in fuse([ranking], 1)]
    flat = [s for _, s in fuse([ranking], 1000)]
    assert sharp == sorted(sharp, reverse=True) and flat == sorted(flat, reverse=True)
    assert sharp[-1] < flat[-1]


# ------------------------------------------------------------------ filters
def test_no_filter_means_no_restriction(state: IndexState) -> None:
    assert allowed_chunks(state, None) is None
    assert allowed_chunks(state, Filters()) is None


def test_filter_by_date_range_inclusive(state: IndexState, arts) -> None:  # noqa: ANN001
    allowed = allowed_chunks(state, Filters(date_from="2024-02-10", date_to="2024-03-01"))
    assert allowed is not None and allowed.dtype == np.int64
    assert _articles_of(state, allowed) == {arts["ecb"].article_id, arts["award"].article_id}
    # every chunk of a kept article is allowed
    expected = {
        cid for cid, c in state.chunks.items() if c.article_id in _articles_of(state, allowed)
    }
    assert set(allowed.tolist()) == expected
    only_from = allowed_chunks(state, Filters(date_from="2024-03-01"))
    assert _articles_of(state, only_from) == {arts["award"].article_id, arts["football"].article_id}
    only_to = allowed_chunks(state, Filters(date_to="2024-01-05"))
    assert _articles_of(state, only_to) == {arts["fed"].article_id}  # undated articles never match


def test_filter_by_source_case_insensitive(state: IndexState, arts) -> None:  # noqa: ANN001
    allowed = allowed_chunks(state, Filters(sources=("REUTERS",)))
    assert _articles_of(state, allowed) == {arts["fed"].article_id, arts["football"].article_id}
    allowed = allowed_chunks(state, Filters(sources=("afp", "Ap")))
    assert _articles_of(state, allowed) == {arts["ecb"].article_id, arts["award"].article_id}


def test_filter_by_article_ids_and_combined(state: IndexState, arts) -> None:  # noqa: ANN001
    ids = (arts["fed"].article_id, arts["football"].article_id, arts["undated"].article_id)
    assert _articles_of(state, allowed_chunks(state, Filters(article_ids=ids))) == set(ids)
    both = allowed_chunks(
        state, Filters(article_ids=ids, sources=("reuters",), date_from="2024-02-01")
    )
    assert _articles_of(state, both) == {arts["football"].article_id}


def test_filter_matching_nothing_gives_no_hits(state: IndexState) -> None:
    filters = Filters(date_from="2030-01-01")
    allowed = allowed_chunks(state, filters)
    assert allowed is not None and allowed.size == 0
    for mode in MODES:
        assert _retrieve(state, "interest rates", filters=filters, mode=mode) == []


@pytest.mark.parametrize("mode", MODES)
def test_retrieve_respects_filters(state: IndexState, arts, mode: str) -> None:  # noqa: ANN001
    filters = Filters(sources=("afp",))
    hits = _retrieve(state, "Who raised interest rates?", filters=filters, mode=mode)
    assert hits
    assert {h.article.article_id for h in hits} == {arts["ecb"].article_id}


# ---------------------------------------------------------------------- bm25
def test_bm25_finds_rare_name_that_dense_ranks_lower(state: IndexState, arts) -> None:  # noqa: ANN001
    question = "Zyxwvut interest rates"
    vector = HashingEncoder().encode([question])
    dense = dense_search(state, vector, 100, None)
    sparse = bm25_search(state, question, 100, None)
    award = arts["award"].article_id
    dense_rank = [state.chunks[c].article_id for c, _ in dense].index(award)
    assert dense_rank >= 5, "the fake encoder should prefer the many rate articles"
    assert state.chunks[sparse[0][0]].article_id == award
    # scores are positive and descending
    scores = [s for _, s in sparse]
    assert all(s > 0 for s in scores) and scores == sorted(scores, reverse=True)


def test_bm25_finds_exact_number(state: IndexState, arts) -> None:  # noqa: ANN001
    sparse = bm25_search(state, "How many fans, 81,034?", 3, None)
    assert sparse and state.chunks[sparse[0][0]].article_id == arts["football"].article_id


def test_bm25_edge_cases(state: IndexState, arts) -> None:  # noqa: ANN001
    assert bm25_search(state, "the of and a", 5, None) == []  # stopwords only
    assert bm25_search(state, "xylophone quasar", 5, None) == []  # words not in the corpus
    assert len(bm25_search(state, "interest rates inflation", 2, None)) == 2
    fed_only = allowed_chunks(state, Filters(article_ids=(arts["fed"].article_id,)))
    hits = bm25_search(state, "Zyxwvut interest", 5, fed_only)
    assert hits and _articles_of(state, [c for c, _ in hits]) == {arts["fed"].article_id}
    empty = IndexState(0, {}, {}, state.vectors)
    assert bm25_search(empty, "interest", 5, None) == []


# ------------------------------------------------------------------ retrieve
@pytest.mark.parametrize("mode", MODES)
def test_retrieve_modes_return_consistent_hits(state: IndexState, mode: str) -> None:
    hits = _retrieve(state, "Who won the national book prize?", k=3, mode=mode)
    assert 1 <= len(hits) <= 3
    assert [h.rank for h in hits] == list(range(len(hits)))
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    for h in hits:
        assert state.chunks[h.chunk.chunk_id] == h.chunk
        assert h.article.article_id == h.chunk.article_id
        assert h.article.text[h.chunk.start : h.chunk.end] == h.chunk.text
        if mode == "dense":
            assert h.dense_score is not None and h.bm25_score is None
        if mode == "bm25":
            assert h.bm25_score is not None and h.bm25_score > 0 and h.dense_score is None
        if mode == "hybrid":
            assert h.dense_score is not None or h.bm25_score is not None
    if mode != "hybrid":
        assert hits[0].score == pytest.approx(1.0)  # one ranking: the top hit is first everywhere
    assert len({h.chunk.chunk_id for h in hits}) == len(hits)


def test_hybrid_agreement_scores_one(state: IndexState, arts) -> None:  # noqa: ANN001
    hybrid = _retrieve(state, "Zyxwvut novelist national book prize", k=5)
    assert hybrid[0].article.article_id == arts["award"].article_id
    assert hybrid[0].bm25_score is not None and hybrid[0].dense_score is not None
    assert hybrid[0].score == pytest.approx(1.0)  # first for both retrievers
    assert all(h.score < 1.0 for h in hybrid[1:])


def test_hybrid_lifts_rare_name_above_its_dense_rank(state: IndexState, arts) -> None:  # noqa: ANN001
    question = "Zyxwvut interest rates"
    award = arts["award"].article_id
    n = len(state.chunks)
    dense = [h.article.article_id for h in _retrieve(state, question, k=n, mode="dense")]
    hybrid = _retrieve(state, question, k=n, mode="hybrid")
    rank = [h.article.article_id for h in hybrid].index(award)
    assert rank < dense.index(award)
    assert hybrid[rank].bm25_score is not None


def test_batch_encodes_questions_once(state: IndexState, arts) -> None:  # noqa: ANN001
    encoder = HashingEncoder()
    retriever = HybridRetriever(StateHolder(state), encoder, S.retrieval, "dense")
    batch = retriever.retrieve_batch(["striker scored cup final", "interest rates"], 2)
    assert encoder.calls == 1  # one batch for both questions
    assert batch[0][0].article.article_id == arts["football"].article_id
    assert [h.chunk.chunk_id for h in batch[1]] == [
        h.chunk.chunk_id for h in retriever.retrieve("interest rates", 2)
    ]


def test_a_question_searched_again_is_not_encoded_again(state: IndexState) -> None:
    from qa.retrieve import hybrid

    encoder = HashingEncoder()
    retriever = HybridRetriever(StateHolder(state), encoder, S.retrieval, "hybrid")
    first = retriever.retrieve_batch(["interest rates", "cup final"], 3)
    again = retriever.retrieve("interest rates", 3)  # e.g. the question's period, searched too
    assert encoder.calls == 1
    assert [h.chunk.chunk_id for h in again] == [h.chunk.chunk_id for h in first[0]]
    fresh = HybridRetriever(StateHolder(state), HashingEncoder(), S.retrieval, "hybrid")
    assert [h.score for h in fresh.retrieve("interest rates", 3)] == [h.score for h in again]
    vectors = retriever.question_vectors(["cup final", "interest rates", "cup final"])
    assert vectors.shape == (3, encoder.dimension) and encoder.calls == 1
    for i in range(hybrid.QUESTION_CACHE + 5):  # bounded
        retriever.question_vectors([f"question {i}"])
    assert len(retriever._vectors) == hybrid.QUESTION_CACHE


def test_k_larger_than_index(state: IndexState) -> None:
    hits = _retrieve(state, "interest rates", k=500, mode="dense")
    assert len(hits) == len(state.chunks)


def test_unknown_mode(state: IndexState) -> None:
    with pytest.raises(ValueError, match="unknown retrieval mode 'sparse'"):
        _retrieve(state, "anything", mode="sparse")


def test_empty_index_gives_no_hits(tmp_path: Path) -> None:
    index = Index.open(tmp_path / "empty", HashingEncoder(), chunking_signature(S.chunking))
    for mode in MODES:
        assert (
            HybridRetriever(index, HashingEncoder(), S.retrieval, mode).retrieve("rates", 5) == []
        )
