"""The IVF kind of VectorIndex against an exact numpy search."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings.vector_index import VectorIndex, brute_force_search

D = 32


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.standard_normal((20, D))
    x = centers[rng.integers(0, 20, n)] + 0.5 * rng.standard_normal((n, D))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, VectorIndex]:
    x = clustered(3000)
    ids = np.arange(10_000, 13_000, dtype=np.int64)
    index = VectorIndex.ivf(D, x, lists=64, nprobe=16)
    index.add(ids, x)
    return ids, x, index


def test_ivf_recall_against_brute_force(data) -> None:  # noqa: ANN001
    ids, x, index = data
    queries = clustered(100, seed=1)
    _, exact = brute_force_search(ids, x, queries, 10)
    _, got = index.search(queries, 10)
    recall = np.mean([len(set(g) & set(e)) / 10 for g, e in zip(got, exact, strict=True)])
    assert index.kind == "ivf" and index.lists == 64
    assert recall >= 0.9


def test_ivf_all_probed_is_exact_up_to_quantisation(data) -> None:  # noqa: ANN001
    ids, x, index = data
    full = VectorIndex(D, index._index, nprobe=64)
    queries = x[:20]  # each vector finds itself first
    scores, got = full.search(queries, 1)
    assert np.array_equal(got[:, 0], ids[:20])
    assert np.allclose(scores[:, 0], 1.0, atol=0.02)


def test_ivf_ids_decode_remove(data) -> None:  # noqa: ANN001
    ids, x, index = data
    copy = index.clone()
    got_ids, vectors = copy.all_vectors()
    order = np.argsort(got_ids)
    assert np.array_equal(got_ids[order], ids)
    assert np.abs(vectors[order] - x).max() < 0.02  # 8-bit codes
    assert copy.remove(ids[:100]) == 100
    assert len(copy) == len(ids) - 100 and len(index) == len(ids)
    assert not set(ids[:100]) & set(copy.ids().tolist())
    assert np.allclose(copy.reconstruct(ids[100:103]), x[100:103], atol=0.02)


def test_ivf_filter_is_pushed_into_the_search(data) -> None:  # noqa: ANN001
    ids, x, index = data
    allowed = ids[::97]  # 31 ids scattered over many cells
    _, got = index.search(x[:5], 10, allowed=allowed)
    for row in got:
        assert set(row.tolist()) <= set(allowed.tolist())
        assert len(row[row >= 0]) == 10  # more cells probed when few ids are allowed
    _, exact = brute_force_search(allowed, x[ids[::97] - 10_000], x[:5], 10)
    assert np.array_equal(np.sort(got, axis=1), np.sort(exact, axis=1))


def test_ivf_save_and_mmap_load_round_trip(data, tmp_path: Path) -> None:  # noqa: ANN001
    ids, x, index = data
    path = tmp_path / "v.faiss"
    index.save(path)
    mapped = VectorIndex.load(path, D, mmap=True, nprobe=16)
    assert mapped.kind == "ivf" and len(mapped) == len(index)
    s1, i1 = index.search(x[:10], 5)
    s2, i2 = mapped.search(x[:10], 5)
    assert np.array_equal(i1, i2) and np.allclose(s1, s2)


def test_too_few_training_vectors_is_an_error() -> None:
    with pytest.raises(ValueError, match="training vectors"):
        VectorIndex.ivf(D, clustered(10), lists=64)
