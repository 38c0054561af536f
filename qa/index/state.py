"""One loaded index generation, replaced whole on every write."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.vector_index import VectorIndex
from qa.index import lexical
from qa.index.rows import StoreRows
from qa.types import Article, Chunk, Filters


@dataclass
class IndexState:
    """One generation, as readers see it. Replaced whole on every write.

    A generation loaded from disk reads its articles and chunks from its store on
    demand (``rows``; ``articles`` and ``chunks`` are views of it) and its BM25 from
    ``bm25_dir``; plain dicts serve the empty index and tests.

    Attributes:
        damage: Set (to a message naming the file) when the background check of a
            large generation finds a file that does not match the manifest; readers
            then refuse to answer from it.

    """

    generation: int
    articles: Mapping[str, Article]
    chunks: Mapping[int, Chunk]
    vectors: VectorIndex
    by_hash: Mapping[str, str] = field(default_factory=dict)
    rows: StoreRows | None = None
    bm25_dir: Path | None = None
    damage: str | None = None
    _bm25: Any = None
    _bm25_ids: np.ndarray | None = None
    _bm25_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_store(
        cls, generation: int, rows: StoreRows, vectors: VectorIndex, bm25_dir: Path | None
    ) -> IndexState:
        """A generation whose rows are read from ``rows`` on demand."""
        return cls(generation, rows.articles, rows.chunks, vectors, rows.by_hash, rows, bm25_dir)

    def bm25(self) -> tuple[Any, np.ndarray]:
        """The BM25 model over chunk texts and its doc->chunk ids.

        Loaded (memory-mapped) from the generation's files when it has them; built
        from the chunks on first use otherwise (the empty index, format version 1).
        """
        with self._bm25_lock:
            if self._bm25 is None:
                if self.bm25_dir is not None:
                    self._bm25, self._bm25_ids = lexical.load(self.bm25_dir)
                else:
                    self._bm25, self._bm25_ids = lexical.build(self.passages())
        assert self._bm25_ids is not None
        return self._bm25, self._bm25_ids

    def passages(self) -> Iterable[tuple[Article, Chunk]]:
        """Every chunk with its article."""
        if self.rows is not None:
            return self.rows.iter_passages()
        return ((self.articles[c.article_id], c) for c in self.chunks.values())

    def chunk_ids(self, filters: Filters | None) -> np.ndarray | None:
        """Ids of the chunks whose articles pass ``filters`` (``None``: no filter)."""
        if filters is None or filters.empty:
            return None
        if self.rows is not None:
            return self.rows.chunk_ids(filters)
        sources = {s.lower() for s in filters.sources}
        wanted = set(filters.article_ids)
        keep = {
            a.article_id
            for a in self.articles.values()
            if (not wanted or a.article_id in wanted)
            and (not sources or (a.source or "").lower() in sources)
            and filters.admits(a.date)
        }
        return np.array(
            sorted(cid for cid, c in self.chunks.items() if c.article_id in keep), dtype=np.int64
        )

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, Chunk]:
        """The chunks among ``ids`` (one query for a stored generation)."""
        if self.rows is not None:
            return self.rows.chunks_by_id(ids)
        return {int(i): self.chunks[int(i)] for i in ids if int(i) in self.chunks}

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]:
        """The articles among ``ids`` (one query for a stored generation)."""
        if self.rows is not None:
            return self.rows.articles_by_id(ids)
        return {a: self.articles[a] for a in ids if a in self.articles}

    def dates(self) -> tuple[str | None, str | None, int]:
        """``(oldest, newest, undated)`` of the articles' dates."""
        if self.rows is not None:
            oldest, newest, undated = self.rows.query(
                "SELECT min(date), max(date), coalesce(sum(date IS NULL), 0) FROM articles"
            )[0]
            return oldest, newest, int(undated)
        dated = sorted(a.date for a in self.articles.values() if a.date)
        return (
            dated[0] if dated else None,
            dated[-1] if dated else None,
            len(self.articles) - len(dated),
        )
