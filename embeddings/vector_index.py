"""A FAISS inner-product index over unit vectors, keyed by 64-bit ids."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import faiss
import numpy as np


class VectorIndexError(RuntimeError):
    """The vector file is missing, unreadable or does not match expectations."""


class VectorIndex:
    """Exact cosine search (inner product over normalised vectors) with ids.

    Wraps ``faiss.IndexIDMap2(faiss.IndexFlatIP(d))`` so vectors can be
    added and removed by id, and searched optionally restricted to a subset.
    """

    def __init__(self, dimension: int, index: faiss.Index | None = None) -> None:
        self.dimension = dimension
        self._index: Any = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )

    def clone(self) -> VectorIndex:
        """An independent copy (writes build on a copy, readers keep the original)."""
        return VectorIndex(self.dimension, faiss.clone_index(self._index))

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """All ids currently stored (int64)."""
        return faiss.vector_to_array(self._index.id_map).astype(np.int64)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` (n, d) under ``ids`` (n,)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(
                f"expected vectors of shape (n, {self.dimension}), got {vectors.shape}"
            )
        if len(ids) != len(vectors):
            raise ValueError("ids and vectors differ in length")
        if len(ids):
            self._index.add_with_ids(vectors, ids)

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ``ids``; returns how many were removed."""
        arr = np.fromiter(ids, dtype=np.int64)
        if not len(arr):
            return 0
        return int(self._index.remove_ids(faiss.IDSelectorBatch(arr)))

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for ``ids`` (n, d)."""
        return (
            np.vstack([self._index.reconstruct(int(i)) for i in ids])
            if len(ids)
            else (np.zeros((0, self.dimension), dtype=np.float32))
        )

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` by inner product.

        Args:
            queries: (q, d) unit vectors.
            k: How many results per query.
            allowed: Optional int64 ids to restrict the search to.

        Returns:
            ``(scores, ids)`` each of shape (q, k'); missing slots have id -1.

        """
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if len(self) == 0 or k <= 0:
            q = len(queries)
            return np.zeros((q, 0), dtype=np.float32), np.zeros((q, 0), dtype=np.int64)
        k = min(k, len(self))
        if allowed is None:
            scores, ids = self._index.search(queries, k)
        else:
            if len(allowed) == 0:
                q = len(queries)
                return np.zeros((q, 0), dtype=np.float32), np.zeros((q, 0), dtype=np.int64)
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
            scores, ids = self._index.search(queries, k, params=params)
        return scores, ids.astype(np.int64)

    def save(self, path: Path) -> None:
        """Write the index to ``path``.

        Not atomic by itself: the caller writes into a new generation folder that
        it switches to atomically (see ``qa.index``).
        """
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dimension: int) -> VectorIndex:
        """Read an index written by :meth:`save`.

        Raises:
            VectorIndexError: If the file is missing, unreadable or of another width.

        """
        if not path.is_file():
            raise VectorIndexError(f"{path}: vector file is missing")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise VectorIndexError(f"{path}: cannot read FAISS index ({exc})") from exc
        if index.d != dimension:
            raise VectorIndexError(f"{path}: dimension {index.d}, expected {dimension}")
        if not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
            if not isinstance(index, faiss.IndexIDMap2):
                raise VectorIndexError(f"{path}: not an id-mapped flat index")
        return cls(dimension, index)


def brute_force_search(
    ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reference exact search in numpy (for tests and checks).

    Returns:
        ``(scores, ids)`` sorted by descending score, ties by ascending id.

    """
    sims = np.atleast_2d(queries).astype(np.float32) @ vectors.astype(np.float32).T
    k = min(k, vectors.shape[0])
    order = np.lexsort((np.broadcast_to(ids, sims.shape), -sims), axis=1)[:, :k]
    return np.take_along_axis(sims, order, axis=1), ids[order]
