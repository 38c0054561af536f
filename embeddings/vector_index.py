"""A FAISS inner-product index over unit vectors, keyed by 64-bit ids.

Two kinds, chosen by the caller by size: ``flat`` (exact, every vector in float32) and
``ivf`` (an inverted file of ``lists`` k-means cells whose vectors are stored as 8-bit
scalar-quantised codes, 4x smaller, searched in the ``nprobe`` nearest cells). An
``ivf`` file can be opened memory-mapped, so opening is fast and only the cells a
question probes are read into memory.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import faiss
import numpy as np


class VectorIndexError(RuntimeError):
    """The vector file is missing, unreadable or does not match expectations."""


_DIRECT_MAP: Any = faiss.DirectMap  # type: ignore[attr-defined]
DEFAULT_NPROBE = 64
"""Cells an ``ivf`` index searches per question (see docs/scale.md for recall and speed)."""


class VectorIndex:
    """Cosine search (inner product over normalised vectors) with ids.

    ``flat`` wraps ``faiss.IndexIDMap2(faiss.IndexFlatIP(d))`` (exact); ``ivf`` is a
    ``faiss.IndexIVFScalarQuantizer`` (approximate, 8-bit codes). Both add and remove
    vectors by id and search optionally restricted to a subset of ids.

    Args:
        dimension: Vector width.
        index: A FAISS index of either kind (default: an empty flat one).
        nprobe: Cells an ``ivf`` index searches per question.
    """

    def __init__(
        self, dimension: int, index: faiss.Index | None = None, nprobe: int | None = None
    ) -> None:
        self.dimension = dimension
        self._index: Any = (
            index if index is not None else faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
        )
        self.nprobe = nprobe if nprobe is not None else DEFAULT_NPROBE
        self._direct_map = False

    @classmethod
    def ivf(
        cls,
        dimension: int,
        train: np.ndarray,
        lists: int,
        nprobe: int | None = None,
        seed: int = 0,
    ) -> VectorIndex:
        """An empty ``ivf`` index whose cells are k-means centroids of ``train``.

        Args:
            dimension: Vector width.
            train: Unit vectors (n, d) to learn the cells and the quantiser from;
                at least ``lists`` of them (FAISS samples 256 per cell at most).
            lists: Number of cells.
            nprobe: Cells searched per question.
            seed: k-means seed (the same vectors give the same index).

        """
        train = np.ascontiguousarray(train, dtype=np.float32)
        if len(train) < lists:
            raise ValueError(f"{len(train)} training vectors for {lists} cells")
        quantizer: Any = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, lists, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        index.by_residual = False  # codes are the vectors themselves: decodable alone
        index.cp.seed = seed
        index.cp.max_points_per_centroid = 64  # a bounded k-means sample (see docs/scale.md)
        index.train(train)
        index.own_fields = True
        quantizer.this.disown()
        return cls(dimension, index, nprobe)

    @property
    def kind(self) -> str:
        """``flat`` (exact) or ``ivf`` (cells of 8-bit codes)."""
        return "ivf" if isinstance(self._ivf, faiss.IndexIVF) else "flat"

    @property
    def lists(self) -> int:
        """Number of cells of an ``ivf`` index (0 for ``flat``)."""
        return int(self._ivf.nlist) if self.kind == "ivf" else 0

    @property
    def _ivf(self) -> Any:
        return faiss.try_extract_index_ivf(self._index)

    def clone(self) -> VectorIndex:
        """An independent, writable copy (writes build on a copy, readers keep the original)."""
        return VectorIndex(self.dimension, faiss.clone_index(self._index), self.nprobe)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def ids(self) -> np.ndarray:
        """All ids currently stored (int64)."""
        if self.kind == "flat":
            return faiss.vector_to_array(self._index.id_map).astype(np.int64)
        lists = self._ivf.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(lists.nlist)
            if lists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, vectors)`` of everything stored (an ``ivf`` index gives decoded codes)."""
        if self.kind == "flat":
            n = len(self)
            flat: Any = faiss.downcast_index(self._index.index)
            xb = faiss.rev_swig_ptr(flat.get_xb(), n * self.dimension)
            return self.ids(), np.array(xb, dtype=np.float32).reshape(n, self.dimension)
        ivf = self._ivf
        if ivf.by_residual:
            raise VectorIndexError("cannot decode a residual-coded IVF index")
        lists = ivf.invlists
        ids, vectors = [], []
        for i in range(lists.nlist):
            size = lists.list_size(i)
            if not size:
                continue
            ids.append(faiss.rev_swig_ptr(lists.get_ids(i), size).copy())
            codes = faiss.rev_swig_ptr(lists.get_codes(i), size * lists.code_size)
            vectors.append(self._index.sq.decode(np.array(codes).reshape(size, lists.code_size)))
        if not ids:
            return np.zeros(0, np.int64), np.zeros((0, self.dimension), np.float32)
        return np.concatenate(ids).astype(np.int64), np.vstack(vectors).astype(np.float32)

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
        if self._direct_map:  # a hashtable direct map would have to be kept in step
            self._ivf.set_direct_map_type(_DIRECT_MAP.NoMap)
            self._direct_map = False
        return int(self._index.remove_ids(faiss.IDSelectorBatch(arr)))

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for ``ids`` (n, d); an ``ivf`` index gives its decoded codes."""
        if self.kind == "ivf" and not self._direct_map:
            self._ivf.set_direct_map_type(_DIRECT_MAP.Hashtable)
            self._direct_map = True
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
        if allowed is not None and len(allowed) == 0:
            q = len(queries)
            return np.zeros((q, 0), dtype=np.float32), np.zeros((q, 0), dtype=np.int64)
        selector = (
            None
            if allowed is None
            else faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        )
        if self.kind == "ivf":
            nprobe = self.nprobe
            if allowed is not None:  # few allowed ids: probe more cells to still find k
                share = max(len(allowed) / max(len(self), 1), 1e-9)
                nprobe = int(np.ceil(nprobe / min(share, 1.0)))
            params: Any = faiss.SearchParametersIVF(nprobe=min(nprobe, self.lists), sel=selector)  # type: ignore[call-arg]
        elif selector is not None:
            params = faiss.SearchParameters(sel=selector)  # type: ignore[call-arg]
        else:
            params = None
        scores, ids = self._index.search(queries, k, params=params)
        return scores, ids.astype(np.int64)

    def save(self, path: Path) -> None:
        """Write the index to ``path``.

        Not atomic by itself: the caller writes into a new generation folder that
        it switches to atomically (see ``qa.index``).
        """
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(
        cls, path: Path, dimension: int, mmap: bool = False, nprobe: int | None = None
    ) -> VectorIndex:
        """Read an index written by :meth:`save`.

        Args:
            path: The FAISS file.
            dimension: The width it must have.
            mmap: Map an ``ivf`` file's cells instead of reading them (read-only:
                :meth:`clone` and the writes need ``mmap=False``). A ``flat`` file
                is always read whole.
            nprobe: Cells an ``ivf`` index searches per question.

        Raises:
            VectorIndexError: If the file is missing, unreadable, of another width,
                or neither kind.

        """
        if not path.is_file():
            raise VectorIndexError(f"{path}: vector file is missing")
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        try:
            index = faiss.read_index(str(path), flags)
        except RuntimeError as exc:
            raise VectorIndexError(f"{path}: cannot read FAISS index ({exc})") from exc
        if index.d != dimension:
            raise VectorIndexError(f"{path}: dimension {index.d}, expected {dimension}")
        if isinstance(index, faiss.IndexIVFScalarQuantizer):
            if index.metric_type != faiss.METRIC_INNER_PRODUCT:
                raise VectorIndexError(f"{path}: not an inner-product index")
        elif not isinstance(index, faiss.IndexIDMap2):
            index = faiss.downcast_index(index)
        if not isinstance(index, faiss.IndexIVFScalarQuantizer | faiss.IndexIDMap2):
            raise VectorIndexError(f"{path}: not an id-mapped flat or IVF index")
        return cls(dimension, index, nprobe)


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
