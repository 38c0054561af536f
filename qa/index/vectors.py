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
