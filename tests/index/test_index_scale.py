"""The index as it grows: IVF by size, saved BM25, rows on demand, checks of large indexes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEncoder
from fakes import add_articles as add
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.vector_index import brute_force_search
from qa.index import MANIFEST, Index, IndexFormatError, IndexState, lexical
from qa.index.checks import verify_in_background
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.retrieve.hybrid import HybridRetriever, bm25_search
from qa.settings import IndexSettings, Settings
from qa.types import Filters

CHUNKING = chunking_signature(Settings().chunking)
SMALL = IndexSettings(flat_max_chunks=60, ivf_nprobe=1000)  # IVF from 61 chunks, all probed


def articles(n: int, prefix: str = "s") -> list:
    return [
        article_from_record(
            {
                "id": f"{prefix}{i}",
                "title": f"Report {prefix}{i}",
                "text": f"Report {i}\n\nThe harbour of town{i} reopened after repairs costing "
                f"{i * 3} million. Engineer Name{i} led the work, officials said.",
                "date": None if i % 7 == 0 else f"2024-0{1 + i % 9}-{(i % 27) + 1:02d}",
                "source": ["Wire", "Herald", "Daily"][i % 3],
            },
            "test",
        )
        for i in range(n)
    ]


def open_index(path: Path, layout: IndexSettings | None = None) -> Index:
    return Index.open(path, HashingEncoder(), CHUNKING, layout=layout)


@pytest.fixture(scope="module")
def grown(tmp_path_factory) -> Index:  # noqa: ANN001
    index = open_index(tmp_path_factory.mktemp("grown") / "ix", SMALL)
    add(index, articles(40))
    assert index.manifest["segments"][-1]["vectors"]["kind"] == "flat"
    add(index, articles(90, prefix="t"))
    return index


def test_index_turns_ivf_past_the_threshold_and_reads_back(grown: Index) -> None:
    manifest = grown.manifest
    assert manifest["segments"][0]["vectors"] == {"kind": "ivf", "codes": "sq8", "lists": 64}
    assert grown.state.vectors.kind == "ivf"
    reopened = open_index(grown.path, SMALL)
    assert reopened.state.vectors.kind == "ivf"
    assert sorted(reopened.state.vectors.ids().tolist()) == sorted(reopened.state.chunks)
    for chunk in reopened.state.chunks.values():
        assert reopened.state.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    ids, vectors = reopened.state.vectors.all_vectors()
    retriever = HybridRetriever(reopened, HashingEncoder(), mode="dense")
    for chunk in list(reopened.state.chunks.values())[:10]:  # all cells probed: exact
        query = HashingEncoder().encode([chunk.text])
        want_scores, want = brute_force_search(ids, vectors, query, 5)
        hits = retriever.retrieve(chunk.text, 5)
        assert np.allclose([h.dense_score for h in hits], want_scores[0], atol=1e-4)


def test_ivf_index_updates_and_shrinks_back_to_flat(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix", SMALL)
    first = articles(70)
    add(index, first)
    assert index.manifest["segments"][-1]["vectors"]["kind"] == "ivf"
    late = articles(3, prefix="late")
    add(index, late)  # an incremental add to the IVF index
    assert index.manifest["segments"][-1]["vectors"]["kind"] == "ivf"
    assert len(index.state.vectors) == len(index.state.chunks) == 73
    assert late[1].article_id in index.state.articles
    index.delete([a.article_id for a in first[:50]])
    assert (
        index.manifest["segments"][-1]["vectors"]["kind"] == "flat"
    )  # 23 chunks: below half the threshold
    assert sorted(index.state.vectors.ids().tolist()) == sorted(index.state.chunks)


def test_bm25_is_saved_and_not_rebuilt_on_open(
    grown: Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("BM25 rebuilt on open")

    monkeypatch.setattr(lexical, "build", refuse)
    reopened = open_index(grown.path, SMALL)
    fresh = IndexState(0, dict(grown.state.articles), dict(grown.state.chunks), grown.state.vectors)
    monkeypatch.undo()
    for question in ("harbour repairs town17", "Engineer Name33", "officials 60 million"):
        assert bm25_search(reopened.state, question, 10, None) == bm25_search(
            fresh, question, 10, None
        )


FILTERS = st.builds(
    Filters,
    date_from=st.sampled_from([None, "2024-02-01", "2024-05-10"]),
    date_to=st.sampled_from([None, "2024-03-31", "2024-08-01"]),
    sources=st.sampled_from([(), ("wire",), ("Herald", "DAILY"), ("nobody",)]),
    article_ids=st.sampled_from([(), ("s1", "s2", "s14", "absent")]),
    keep_undated=st.booleans(),
)


@settings(max_examples=60, deadline=None)
@given(filters=FILTERS)
def test_sql_filters_match_the_python_semantics(grown: Index, filters: Filters) -> None:
    stored = grown.state
    plain = IndexState(0, dict(stored.articles), dict(stored.chunks), stored.vectors)
    got, want = stored.chunk_ids(filters), plain.chunk_ids(filters)
    if filters.empty:
        assert got is None and want is None
    else:
        assert got is not None and want is not None
        assert got.tolist() == want.tolist()


def test_rows_are_read_on_demand(grown: Index) -> None:
    state = grown.state
    assert state.rows is not None
    assert not isinstance(state.articles, dict) and not isinstance(state.chunks, dict)
    ids = sorted(state.chunks)[:5]
    many = state.chunks_by_id([*ids, -1])
    assert sorted(many) == ids and all(many[i] == state.chunks[i] for i in ids)
    assert -1 not in state.chunks and "nope" not in state.articles
    with pytest.raises(KeyError):
        state.articles["nope"]
    assert len(state.articles) == 130 and len(list(state.articles.values())) == 130
    plain = IndexState(0, dict(state.articles), dict(state.chunks), state.vectors)
    assert state.dates() == plain.dates() == ("2024-01-01", "2024-09-27", 19)


def test_old_generation_stays_readable_after_a_commit(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, articles(5))
    old = index.state
    add(index, articles(5, prefix="new"))
    assert not (tmp_path / "ix" / f"gen-{old.generation:06d}").exists()
    assert len(list(old.chunks.values())) == len(old.chunks) > 0  # open file outlives its name


def test_large_generation_is_checked_quickly_then_fully_in_the_background(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    add(open_index(root), articles(12))
    quick = open_index(root, IndexSettings(verify_max_bytes=0))
    assert quick.state.damage is None
    manifest = json.loads((root / MANIFEST).read_text())
    manifest["segments"][0]["files"]["store"]["sha256"] = (
        "0" * 64
    )  # as if a byte in the middle had flipped
    verify_in_background(root, manifest, quick.state)
    deadline = time.monotonic() + 10
    while quick.state.damage is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert quick.state.damage is not None and "store" in quick.state.damage
    with pytest.raises(IndexFormatError, match="damaged"):
        HybridRetriever(quick, HashingEncoder()).retrieve("harbour", 3)


def test_sampled_check_at_open_catches_a_damaged_file(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    add(open_index(root), articles(12))
    manifest = json.loads((root / MANIFEST).read_text())
    path = root / manifest["segments"][0]["files"]["bm25/chunk_ids.npy"]["path"]
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError, match="chunk_ids.npy: damaged"):
        open_index(root, IndexSettings(verify_max_bytes=0))


def test_format_version_1_index_still_opens(tmp_path: Path) -> None:
    root = tmp_path / "ix"
    index = open_index(root)
    add(index, articles(6))
    manifest = json.loads((root / MANIFEST).read_text())
    manifest["format_version"] = 1
    (segment,) = manifest.pop("segments")
    manifest["files"] = {k: v for k, v in segment["files"].items() if not k.startswith("bm25/")}
    (root / MANIFEST).write_text(json.dumps(manifest))
    old = open_index(root)
    assert old.state.bm25_dirs == (None,)
    hits = HybridRetriever(old, HashingEncoder()).retrieve("harbour of town3", 3)
    assert hits and np.all(np.diff([h.score for h in hits]) <= 0)
