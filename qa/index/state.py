"""One loaded index generation, replaced whole on every write."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from embeddings.vector_index import VectorIndex
from qa.types import Article, Chunk


@dataclass
class IndexState:
    """One generation, loaded in memory. Replaced whole on every write."""

    generation: int
    articles: dict[str, Article]
    chunks: dict[int, Chunk]
    vectors: VectorIndex
    by_hash: dict[str, str] = field(default_factory=dict)
    _bm25: Any = None
    _bm25_ids: np.ndarray | None = None
    _bm25_lock: threading.Lock = field(default_factory=threading.Lock)

    def bm25(self) -> tuple[Any, np.ndarray]:
        """The BM25 model over chunk texts (built on first use) and its doc->chunk ids."""
        with self._bm25_lock:
            if self._bm25 is None:
                import bm25s

                ids = np.array(sorted(self.chunks), dtype=np.int64)
                texts = [
                    f"{self.articles[self.chunks[i].article_id].title}\n{self.chunks[i].text}"
                    for i in ids
                ]
                model = bm25s.BM25()
                if texts:
                    model.index(
                        bm25s.tokenize(texts, stopwords="en", show_progress=False),
                        show_progress=False,
                    )
                self._bm25, self._bm25_ids = model, ids
        assert self._bm25_ids is not None
        return self._bm25, self._bm25_ids
