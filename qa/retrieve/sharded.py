"""Retrieval over an index split into shards, one Ray actor per shard.

Each shard is an ordinary index directory (made by ``qa ingest``) holding a disjoint part
of the articles. :class:`ShardedRetriever` answers as :class:`~qa.retrieve.hybrid.HybridRetriever`
would over one index holding all of them:

1. The driver encodes the question once and sends the vector; the actors hold no model.
2. Each shard refreshes (another process may have ingested into it), returns its dense
   top ``max(k, dense_k)`` (cosine: comparable across shards) and its document counts and
   document frequencies for the question's BM25 terms.
3. The driver sums those; each shard scores BM25 with the summed statistics (the whole
   collection's IDF) and returns its top ``max(k, bm25_k)``.
4. The driver merges the lists by score, fuses them as ``HybridRetriever`` does, and asks the
   owning shards for the top ``k`` chunks' rows.

Chunk ids are content hashes (article id and offsets), so they are the same in a shard as
in one index. The one difference: BM25's length normalisation uses each shard's average
chunk length (as each segment's does within one index, ``qa.index.lexical.Lexical``).
Ray is imported only when a :class:`ShardedRetriever` is made (docs/cluster.md).
"""

from __future__ import annotations

import copy
import heapq
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from embeddings.encoder import Encoder
from qa.index import Index, IndexState
from qa.ingest.chunking import chunking_signature
from qa.retrieve.base import MODES, allowed_chunks
from qa.retrieve.hybrid import HybridRetriever, bm25_search, bm25_tokens, dense_search, fuse
from qa.settings import Settings
from qa.types import Article, Chunk, Filters, Hit

Ranking = list[tuple[int, float]]
Stats = tuple[int, list[float]]
READY_S = 180
"""How long the shard actors may take to start (an unschedulable actor waits forever)."""
PINNED = 8
"""How many recent generations a shard keeps, so every step of one question reads one."""


class ModelStub:
    """Stands in for the encoder where a shard opens its index: a name and a width only.

    Args:
        name: The driver's encoder name (checked against the index manifest).
        dimension: Its vector width.
    """

    def __init__(self, name: str, dimension: int) -> None:
        self.name = name
        self.dimension = dimension

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Never called: the driver encodes questions.

        Raises:
            RuntimeError: Always.
        """
        raise RuntimeError("a shard holds no model: the driver encodes questions")


class ShardSearcher:
    """One shard's searches (the body of a Ray actor; plain Python, testable alone).

    Args:
        path: The shard's index directory (readable where the actor runs).
        model: The driver's encoder name.
        dimension: The driver's encoder width.
        settings: Chunking and index layout, as the driver's.
    """

    def __init__(self, path: str, model: str, dimension: int, settings: Settings) -> None:
        self.index = Index.open(
            Path(path),
            ModelStub(model, dimension),
            chunking_signature(settings.chunking),
            create=False,
            layout=settings.index,
        )
        self._states: OrderedDict[int, IndexState] = OrderedDict()

    def _pin(self, state: IndexState) -> int:
        self._states[state.generation] = state
        self._states.move_to_end(state.generation)
        while len(self._states) > PINNED:
            self._states.popitem(last=False)
        return state.generation

    def _state(self, generation: int) -> IndexState:
        return self._states.get(generation) or self.index.state

    def first(
        self,
        questions: list[str],
        vectors: np.ndarray | None,
        n: int,
        filters: Filters | None,
        stats: bool,
    ) -> tuple[int, list[Ranking], list[Stats]]:
        """Refresh, then each question's dense top ``n`` and BM25 term statistics.

        Returns:
            ``(generation, dense rankings, (documents, document frequencies) per question)``;
            the later calls name the generation so that one question reads one.
        """
        self.index.refresh()
        state = self.index.state
        allowed = allowed_chunks(state, filters)
        dense = (
            [dense_search(state, vectors[i : i + 1], n, allowed) for i in range(len(questions))]
            if vectors is not None
            else []
        )
        term_stats = (
            [
                state.lexical().term_stats(bm25_tokens(q)) if state.chunks else (0, [])
                for q in questions
            ]
            if stats
            else []
        )
        return self._pin(state), dense, term_stats

    def bm25(
        self,
        generation: int,
        questions: list[str],
        n: int,
        filters: Filters | None,
        stats: list[Stats],
    ) -> list[Ranking]:
        """Each question's BM25 top ``n``, scored with the whole collection's ``stats``."""
        state = self._state(generation)
        allowed = allowed_chunks(state, filters)
        return [bm25_search(state, q, n, allowed, s) for q, s in zip(questions, stats, strict=True)]

    def rows(
        self, generation: int, chunk_ids: list[int]
    ) -> tuple[dict[int, Chunk], dict[str, Article]]:
        """The chunks among ``chunk_ids`` and their articles."""
        state = self._state(generation)
        chunks = state.chunks_by_id(chunk_ids)
        return chunks, state.articles_by_id({c.article_id for c in chunks.values()})


def _merge(rankings: Sequence[Ranking], n: int) -> Ranking:
    """The top ``n`` of several rankings by score (ties: lower chunk id first)."""
    return heapq.nsmallest(n, (p for r in rankings for p in r), key=lambda p: (-p[1], p[0]))


def _sum_stats(per_shard: Sequence[Stats]) -> Stats:
    documents = sum(s[0] for s in per_shard)
    width = max((len(s[1]) for s in per_shard), default=0)
    df = [sum(s[1][j] for s in per_shard if s[1]) for j in range(width)]
    return documents, df


class ShardedRetriever:
    """Hybrid retrieval over shard indexes, one Ray actor per shard; the :class:`Retriever` seam.

    Use it as a context manager (or call :meth:`close`): a Ray cluster it started is shut
    down; one this process was already connected to is left as it is.

    Args:
        paths: The shard index directories (disjoint articles; the same encoder and
            chunking). Each must be readable at that path where its actor runs.
        encoder: Encodes questions, here, once each.
        settings: Retrieval counts, chunking and index layout (defaults when ``None``).
        mode: ``hybrid``, ``dense`` or ``bm25``.
        address: ``"local"`` starts a Ray cluster on this machine; ``"auto"``,
            ``HOST:PORT`` or ``ray://HOST:10001`` connects to a running one (as
            ``qa ingest --ray``).
        num_cpus: CPUs reserved per actor (default: one, or a fair share of the
            cluster's CPUs when there are more shards than CPUs).

    Raises:
        RuntimeError: If Ray is not installed.
        ValueError: If ``paths`` is empty or ``mode`` unknown.
    """

    def __init__(
        self,
        paths: Sequence[str | Path],
        encoder: Encoder,
        settings: Settings | None = None,
        mode: str = "hybrid",
        address: str | None = "local",
        num_cpus: float | None = None,
    ) -> None:
        if mode not in MODES:
            raise ValueError(
                f"unknown retrieval mode {mode!r} (expected one of {', '.join(MODES)})"
            )
        if not paths:
            raise ValueError("a sharded retriever needs at least one shard directory")
        from qa.ingest.distributed import connect

        self.settings = settings if settings is not None else Settings()
        self.mode = mode
        self.paths = [Path(p) for p in paths]
        self._encoder = HybridRetriever(None, encoder, self.settings.retrieval)
        self._exit = ExitStack()
        self.ray = self._exit.enter_context(connect(address))
        try:
            if num_cpus is None:
                cpus = float(self.ray.cluster_resources().get("CPU", 1.0))
                num_cpus = min(1.0, round(cpus / len(self.paths), 2))
            actor = self.ray.remote(ShardSearcher).options(num_cpus=num_cpus)
            self.shards = [
                actor.remote(str(p.resolve()), encoder.name, encoder.dimension, self.settings)
                for p in self.paths
            ]
            # open every shard now: a missing or incompatible index fails here, not mid-question
            try:
                self.ray.get([s.__ray_ready__.remote() for s in self.shards], timeout=READY_S)
            except self.ray.exceptions.GetTimeoutError as exc:
                raise RuntimeError(
                    f"the {len(self.paths)} shard actors did not start within {READY_S} s "
                    f"(each asks for {num_cpus} CPU: does the cluster have them free?)"
                ) from exc
        except BaseException:
            self._exit.close()
            raise

    def in_mode(self, mode: str) -> ShardedRetriever:
        """The same shards and connection searched in another mode (closing it closes nothing).

        Raises:
            ValueError: If ``mode`` is unknown.
        """
        if mode not in MODES:
            raise ValueError(
                f"unknown retrieval mode {mode!r} (expected one of {', '.join(MODES)})"
            )
        other = copy.copy(self)
        other.mode = mode
        other._exit = ExitStack()
        return other

    def close(self) -> None:
        """Let the actors go and shut down a Ray cluster started here (idempotent)."""
        self.shards = []
        self._exit.close()

    def __enter__(self) -> ShardedRetriever:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def retrieve(self, question: str, k: int, filters: Filters | None = None) -> list[Hit]:
        """The ``k`` chunks most likely to hold the answer, best first."""
        return self.retrieve_batch([question], k, filters)[0]

    def retrieve_batch(
        self, questions: Sequence[str], k: int, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """:meth:`retrieve` for several questions: one encoding batch, three rounds of calls."""
        if not questions:
            return []
        if not self.shards:
            raise RuntimeError("the sharded retriever is closed")
        ray, s, qs = self.ray, self.settings.retrieval, list(questions)
        use_dense, use_bm25 = self.mode != "bm25", self.mode != "dense"
        n_dense, n_bm25 = max(k, s.dense_k), max(k, s.bm25_k)
        vectors = self._encoder.question_vectors(qs) if use_dense else None
        first = ray.get(
            [a.first.remote(qs, vectors, n_dense, filters, use_bm25) for a in self.shards]
        )
        generations = [g for g, _, _ in first]
        dense = [
            _merge([d[i] for _, d, _ in first], n_dense) if use_dense else []
            for i in range(len(qs))
        ]
        sparse: list[Ranking] = [[] for _ in qs]
        if use_bm25:
            stats = [_sum_stats([t[i] for _, _, t in first]) for i in range(len(qs))]
            calls = [
                a.bm25.remote(g, qs, n_bm25, filters, stats)
                for a, g in zip(self.shards, generations, strict=True)
            ]
            per_shard = ray.get(calls)
            sparse = [_merge([r[i] for r in per_shard], n_bm25) for i in range(len(qs))]
        tops = []
        for d, b in zip(dense, sparse, strict=True):
            rankings = [r for r, used in ((d, use_dense), (b, use_bm25)) if used]
            tops.append(fuse(rankings, s.rrf_k)[:k])
        wanted = sorted({cid for top in tops for cid, _ in top})
        found = ray.get(
            [a.rows.remote(g, wanted) for a, g in zip(self.shards, generations, strict=True)]
        )
        chunks: dict[int, Chunk] = {}
        articles: dict[str, Article] = {}
        for c, a in found:
            chunks.update(c)
            articles.update(a)
        return [
            [
                Hit(
                    chunk=chunks[cid],
                    article=articles[chunks[cid].article_id],
                    score=score,
                    rank=rank,
                    dense_score=dict(d).get(cid),
                    bm25_score=dict(b).get(cid),
                )
                for rank, (cid, score) in enumerate(top)
            ]
            for top, d, b in zip(tops, dense, sparse, strict=True)
        ]
