"""One loaded index generation, replaced whole on every write."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from embeddings.vector_index import VectorIndex
from qa.index import lexical
from qa.index.vectors import SegmentedVectors
from qa.index.views import Rows
from qa.types import Article, Chunk, Filters


@dataclass
class IndexState:
    """One generation, as readers see it. Replaced whole on every write.

    A generation loaded from disk is one or more segments: it reads its articles and
    chunks from their stores on demand (``rows``; ``articles`` and ``chunks`` are
    views of it), searches their vectors together (``vectors``) and loads their BM25
    from ``bm25_dirs``; plain dicts serve the empty index and tests.

    Attributes:
        damage: Set (to a message naming the file) when the background check of a
            large generation finds a file that does not match the manifest; readers
            then refuse to answer from it.

    """

    generation: int
    articles: Mapping[str, Article]
    chunks: Mapping[int, Chunk]
    vectors: VectorIndex | SegmentedVectors
    by_hash: Mapping[str, str] = field(default_factory=dict)
    rows: Rows | None = None
    bm25_dirs: tuple[Path | None, ...] = ()
    damage: str | None = None
    _lexical: lexical.Lexical | None = None
    _bm25_lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_segments(
        cls,
        generation: int,
        rows: Rows,
        vectors: list[VectorIndex],
        bm25_dirs: list[Path | None],
    ) -> IndexState:
        """A generation of segments (one store, vector file and BM25 folder each)."""
        searched: VectorIndex | SegmentedVectors = (
            vectors[0] if len(vectors) == 1 else SegmentedVectors(vectors)
        )
        return cls(
            generation, rows.articles, rows.chunks, searched, rows.by_hash, rows, tuple(bm25_dirs)
        )

    @property
    def segments(self) -> int:
        """How many segments the generation has (0 for an in-memory state)."""
        return len(self.rows.stores) if self.rows is not None else 0

    def lexical(self) -> lexical.Lexical:
        """BM25 over every segment, scored as one collection.

        Each segment's is loaded (memory-mapped) from its files when it has them and
        built from its chunks otherwise (the empty index, format version 1).
        """
        with self._bm25_lock:
            if self._lexical is None:
                if self.rows is None:
                    parts = [lexical.build(self.passages())]
                else:
                    parts = [
                        lexical.load(folder)
                        if folder is not None
                        else lexical.build(store.iter_passages())
                        for store, folder in zip(self.rows.stores, self.bm25_dirs, strict=True)
                    ]
                self._lexical = lexical.Lexical(parts)
        return self._lexical

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
            return self.rows.dates()
        dated = sorted(a.date for a in self.articles.values() if a.date)
        return (
            dated[0] if dated else None,
            dated[-1] if dated else None,
            len(self.articles) - len(dated),
        )
