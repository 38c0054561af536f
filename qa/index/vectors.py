"""Which vector index a generation gets, by its size (docs/scale.md).

Up to ``IndexSettings.flat_max_chunks`` chunks: flat float32, exact. Beyond: an IVF
index of 8-bit codes with about ``2 * sqrt(n)`` cells, trained on a bounded sample
(64 vectors a cell), memory-mapped when opened. An IVF index is re-trained when the
collection has grown so that it would want more than twice its cells, and becomes
flat again only below half the threshold (so a size near it does not flip the kind
on every write).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from embeddings.vector_index import VectorIndex
from qa.settings import IndexSettings

TRAIN_PER_LIST = 64


def ivf_lists(n: int) -> int:
    """Cells for an IVF index of ``n`` vectors."""
    return int(min(65_536, max(64, round(2 * math.sqrt(n)))))


def fit(index: VectorIndex, settings: IndexSettings) -> VectorIndex:
    """``index``, or a rebuilt one of the kind its size calls for."""
    n = len(index)
    if index.kind == "flat":
        if n <= settings.flat_max_chunks:
            return index
        return _ivf_from(index, settings)
    if n <= settings.flat_max_chunks // 2:
        ids, vectors = index.all_vectors()
        flat = VectorIndex(index.dimension, nprobe=settings.ivf_nprobe)
        flat.add(ids, vectors)
        return flat
    if ivf_lists(n) > 2 * index.lists:
        return _ivf_from(index, settings)
    return index


def _ivf_from(index: VectorIndex, settings: IndexSettings) -> VectorIndex:
    ids, vectors = index.all_vectors()
    lists = ivf_lists(len(ids))
    rng = np.random.default_rng(0)
    take = min(len(ids), lists * TRAIN_PER_LIST)
    sample = vectors[np.sort(rng.choice(len(ids), take, replace=False))]
    ivf = VectorIndex.ivf(index.dimension, sample, lists, settings.ivf_nprobe)
    ivf.add(ids, vectors)
    return ivf


def describe(index: VectorIndex) -> dict[str, Any]:
    """The manifest's ``vectors`` entry."""
    if index.kind == "flat":
        return {"kind": "flat", "dtype": "float32"}
    return {"kind": "ivf", "codes": "sq8", "lists": index.lists}


class SegmentedVectors:
    """The vectors of several segments searched as one (top ``k`` merged by score).

    Has the read side of :class:`~embeddings.vector_index.VectorIndex`.
    """

    def __init__(self, parts: list[VectorIndex]) -> None:
        self.parts = parts
        self.dimension = parts[0].dimension

    @property
    def kind(self) -> str:
        """``segmented``."""
        return "segmented"

    def __len__(self) -> int:
        return sum(len(p) for p in self.parts)

    def ids(self) -> np.ndarray:
        """All ids stored (int64)."""
        return np.concatenate([p.ids() for p in self.parts])

    def all_vectors(self) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, vectors)`` of every segment."""
        got = [p.all_vectors() for p in self.parts]
        return np.concatenate([g[0] for g in got]), np.vstack([g[1] for g in got])

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors for ``ids`` (n, d), each from its segment."""
        out = np.zeros((len(ids), self.dimension), dtype=np.float32)
        wanted = np.asarray(ids, dtype=np.int64)
        for part in self.parts:
            mine = np.isin(wanted, part.ids())
            if mine.any():
                out[mine] = part.reconstruct(wanted[mine])
        return out

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` over all segments: each segment's top ``k``, merged by score."""
        found = [p.search(queries, k, allowed) for p in self.parts]
        scores = np.concatenate([f[0] for f in found], axis=1)
        ids = np.concatenate([f[1] for f in found], axis=1)
        scores = np.where(ids >= 0, scores, -np.inf)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        top_scores = np.take_along_axis(scores, order, axis=1)
        top_ids = np.take_along_axis(ids, order, axis=1)
        top_ids = np.where(np.isfinite(top_scores), top_ids, -1)
        return np.where(np.isfinite(top_scores), top_scores, 0.0).astype(np.float32), top_ids
