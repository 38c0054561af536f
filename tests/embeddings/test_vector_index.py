"""Unit tests for embeddings.vector_index: FAISS search against a numpy reference."""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np
import pytest

from embeddings.vector_index import VectorIndex, VectorIndexError, brute_force_search

DIM = 32


def _unit(rng: np.random.Generator, n: int, d: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1234)
    # 63-bit ids like chunk ids, in no particular order
    ids = rng.choice(2**62, size=300, replace=False).astype(np.int64) + 2**62
    return ids, _unit(rng, 300), _unit(rng, 7)


@pytest.fixture
def index(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> VectorIndex:
    ids, vectors, _ = data
    vi = VectorIndex(DIM)
    vi.add(ids[:150], vectors[:150])
    vi.add(ids[150:], vectors[150:])  # adding in batches is the same as at once
    return vi


def _assert_same(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray]) -> None:
    scores, ids = got
    ref_scores, ref_ids = want
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_allclose(scores, ref_scores, rtol=0, atol=1e-5)


@pytest.mark.parametrize("k", [1, 5, 37, 300, 1000])
def test_search_matches_brute_force(index: VectorIndex, data, k: int) -> None:  # noqa: ANN001
    ids, vectors, queries = data
    assert len(index) == 300
    assert sorted(index.ids().tolist()) == sorted(ids.tolist())
    got = index.search(queries, k)
    assert got[1].shape == (len(queries), min(k, 300))
    _assert_same(got, brute_force_search(ids, vectors, queries, k))
    # scores are sorted descending and are cosines
    assert np.all(np.diff(got[0], axis=1) <= 1e-6)
    assert np.all(np.abs(got[0]) <= 1.0 + 1e-5)


def test_single_query_vector_is_accepted(index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, vectors, queries = data
    _assert_same(index.search(queries[0], 4), brute_force_search(ids, vectors, queries[:1], 4))


def test_vector_finds_itself_first(index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, vectors, _ = data
    scores, found = index.search(vectors[[3, 200]], 1)
    assert found[:, 0].tolist() == [ids[3], ids[200]]
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)


@pytest.mark.parametrize(("subset", "k"), [(1, 1), (10, 3), (10, 10), (50, 20), (299, 299)])
def test_search_with_allowed_matches_brute_force_on_subset(
    index: VectorIndex, data, subset: int, k: int
) -> None:  # noqa: ANN001
    ids, vectors, queries = data
    rng = np.random.default_rng(subset)
    pick = rng.choice(len(ids), size=subset, replace=False)
    got = index.search(queries, k, allowed=ids[pick])
    _assert_same(got, brute_force_search(ids[pick], vectors[pick], queries, k))
    assert set(got[1].ravel().tolist()) <= set(ids[pick].tolist())


def test_allowed_smaller_than_k_pads_with_minus_one(index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, vectors, queries = data
    allowed = ids[[5, 9, 11]]
    scores, found = index.search(queries, 10, allowed=allowed)
    assert found.shape == (len(queries), 10)
    real = found[:, :3]
    ref_scores, ref_ids = brute_force_search(allowed, vectors[[5, 9, 11]], queries, 3)
    np.testing.assert_array_equal(real, ref_ids)
    np.testing.assert_allclose(scores[:, :3], ref_scores, atol=1e-5)
    assert np.all(found[:, 3:] == -1)


def test_allowed_ids_not_in_index_and_empty_allowed(index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, _, queries = data
    scores, found = index.search(queries, 5, allowed=np.array([1, 2, 3], dtype=np.int64))
    assert np.all(found == -1)
    scores, found = index.search(queries, 5, allowed=np.array([], dtype=np.int64))
    assert found.shape == (len(queries), 0) and scores.shape == (len(queries), 0)


def test_empty_index_and_nonpositive_k(index: VectorIndex, data) -> None:  # noqa: ANN001
    _, _, queries = data
    scores, found = VectorIndex(DIM).search(queries, 5)
    assert found.shape == (len(queries), 0) and scores.shape == (len(queries), 0)
    assert index.search(queries, 0)[1].shape == (len(queries), 0)
    assert len(VectorIndex(DIM)) == 0 and VectorIndex(DIM).ids().size == 0


def test_remove_then_search(index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, vectors, queries = data
    # remove the current top hits, so the result must change
    top = set(index.search(queries, 3)[1].ravel().tolist())
    gone = np.array(sorted(top) + ids[:20].tolist(), dtype=np.int64)
    gone = np.unique(gone)
    assert index.remove(gone.tolist()) == len(gone)
    assert index.remove([]) == 0
    assert index.remove([int(gone[0])]) == 0  # already gone
    keep = ~np.isin(ids, gone)
    assert len(index) == int(keep.sum())
    assert set(index.ids().tolist()) == set(ids[keep].tolist())
    for k in (1, 10, 500):
        _assert_same(
            index.search(queries, k), brute_force_search(ids[keep], vectors[keep], queries, k)
        )
    assert not (set(index.search(queries, 50)[1].ravel().tolist()) & set(gone.tolist()))
    # allowed may still name removed ids: they are simply not found
    sub = np.concatenate([gone[:5], ids[keep][:5]])
    _assert_same(
        index.search(queries, 5, allowed=sub),
        brute_force_search(ids[keep][:5], vectors[keep][:5], queries, 5),
    )


def test_reconstruct_returns_stored_vectors(index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, vectors, _ = data
    np.testing.assert_allclose(
        index.reconstruct(ids[[0, 42, 299]]), vectors[[0, 42, 299]], atol=1e-7
    )
    assert index.reconstruct(np.array([], dtype=np.int64)).shape == (0, DIM)


def test_add_rejects_bad_shapes() -> None:
    vi = VectorIndex(DIM)
    with pytest.raises(ValueError, match="shape"):
        vi.add(np.arange(2), np.zeros((2, DIM + 1), dtype=np.float32))
    with pytest.raises(ValueError, match="length"):
        vi.add(np.arange(3), np.zeros((2, DIM), dtype=np.float32))
    vi.add(np.arange(0), np.zeros((0, DIM), dtype=np.float32))
    assert len(vi) == 0


def test_save_load_round_trip(tmp_path: Path, index: VectorIndex, data) -> None:  # noqa: ANN001
    ids, _, queries = data
    path = tmp_path / "vectors.faiss"
    index.save(path)
    assert path.is_file() and not (tmp_path / "vectors.faiss.tmp").exists()
    loaded = VectorIndex.load(path, DIM)
    assert len(loaded) == len(index)
    np.testing.assert_array_equal(np.sort(loaded.ids()), np.sort(ids))
    for k in (1, 10, 300):
        want = index.search(queries, k)
        got = loaded.search(queries, k)
        np.testing.assert_array_equal(got[1], want[1])
        np.testing.assert_array_equal(got[0], want[0])
    allowed = ids[::7]
    np.testing.assert_array_equal(
        loaded.search(queries, 8, allowed)[1], index.search(queries, 8, allowed)[1]
    )
    # the loaded index is still editable
    assert loaded.remove([int(ids[0])]) == 1 and len(loaded) == 299
    # saving over an existing file replaces it
    loaded.save(path)
    assert len(VectorIndex.load(path, DIM)) == 299


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(VectorIndexError, match="missing"):
        VectorIndex.load(tmp_path / "nope.faiss", DIM)


@pytest.mark.parametrize("payload", [b"this is not a faiss index at all\n" * 10, b"\x00" * 64, b""])
def test_load_garbage_file(tmp_path: Path, payload: bytes) -> None:
    path = tmp_path / "garbage.faiss"
    path.write_bytes(payload)
    with pytest.raises(VectorIndexError, match="cannot read FAISS index"):
        VectorIndex.load(path, DIM)


def test_load_truncated_file(tmp_path: Path, index: VectorIndex) -> None:
    path = tmp_path / "v.faiss"
    index.save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(VectorIndexError):
        VectorIndex.load(path, DIM)


def test_load_wrong_dimension(tmp_path: Path, index: VectorIndex) -> None:
    path = tmp_path / "v.faiss"
    index.save(path)
    with pytest.raises(VectorIndexError, match=f"dimension {DIM}, expected 16"):
        VectorIndex.load(path, 16)


def test_load_index_without_ids(tmp_path: Path) -> None:
    path = tmp_path / "flat.faiss"
    flat = faiss.IndexFlatIP(DIM)
    flat.add(_unit(np.random.default_rng(0), 3))
    faiss.write_index(flat, str(path))
    with pytest.raises(VectorIndexError, match="not an id-mapped"):
        VectorIndex.load(path, DIM)


def test_brute_force_search_ties_by_ascending_id() -> None:
    vectors = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    ids = np.array([9, 4, 7], dtype=np.int64)
    scores, found = brute_force_search(ids, vectors, np.array([1, 0], dtype=np.float32), 3)
    assert found.tolist() == [[4, 9, 7]]
    np.testing.assert_allclose(scores, [[1, 1, 0]])
