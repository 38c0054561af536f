"""Segments: new articles go to a new segment, only touched segments are rewritten,
too many are merged in the background, and search reads them as one collection."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEncoder
from fakes import add_articles as add

from embeddings.vector_index import brute_force_search
from qa.index import MANIFEST, Index, IndexState, lexical
from qa.index.format import segments_of
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.retrieve.hybrid import HybridRetriever
from qa.settings import IndexSettings, Settings

CHUNKING = chunking_signature(Settings().chunking)
LAYOUT = IndexSettings(single_segment_max_chunks=10, max_segments=3)


def articles(n: int, prefix: str) -> list:
    return [
        article_from_record(
            {
                "id": f"{prefix}{i}",
                "title": f"Bulletin {prefix}{i}",
                "text": f"Bulletin {i}\n\nThe ferry {prefix}{i} to island{i} sailed late "
                f"because of storm warnings, captain Name{i} said.",
                "date": f"2024-03-{(i % 27) + 1:02d}",
            },
            "test",
        )
        for i in range(n)
    ]


def open_index(path: Path) -> Index:
    return Index.open(path, HashingEncoder(), CHUNKING, layout=LAYOUT)


def names(index: Index) -> list[str]:
    return [seg["name"] for seg in segments_of(index.manifest)]


def wait_for_merge() -> None:
    deadline = time.monotonic() + 30
    while any(t.name == "newsqa-merge" for t in threading.enumerate()):
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_new_articles_go_to_a_new_segment_and_read_as_one(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    first, second = articles(12, "a"), articles(4, "b")
    add(index, first)
    assert names(index) == ["seg-000001"]
    add(index, second)
    assert names(index) == ["seg-000001", "seg-000002"]  # the first one was not rewritten
    state = index.state
    assert state.segments == 2 and state.vectors.kind == "segmented"
    assert set(state.articles) == {a.article_id for a in first + second}
    for chunk in state.chunks.values():
        assert state.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    ids, vectors = state.vectors.all_vectors()
    assert sorted(ids.tolist()) == sorted(state.chunks)
    queries = HashingEncoder().encode(["ferry island3 storm", "captain Name2 late"])
    want_scores, want = brute_force_search(ids, vectors, queries, 5)
    got_scores, got = state.vectors.search(queries, 5)
    assert np.allclose(got_scores, want_scores, atol=1e-6)
    reopened = open_index(tmp_path / "ix")
    assert reopened.state.segments == 2 and len(reopened.state.chunks) == len(state.chunks)
    hits = HybridRetriever(reopened, HashingEncoder()).retrieve("ferry to island2", 5)
    assert {h.article.article_id for h in hits} >= {second[2].article_id}


def test_an_update_rewrites_only_the_segment_that_holds_the_article(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    first, second = articles(12, "a"), articles(4, "b")
    add(index, first)
    add(index, second)
    changed = article_from_record(
        {"id": "b1", "title": "Bulletin b1", "text": "Bulletin 1\n\nThe ferry was cancelled."},
        "test",
    )
    add(index, [changed])
    assert names(index)[0] == "seg-000001"  # untouched
    assert "seg-000002" not in names(index)
    assert index.state.articles[changed.article_id].text == changed.text
    assert len(index.state.articles) == 16
    index.delete([first[0].article_id])
    assert "seg-000001" not in names(index) and len(index.state.articles) == 15
    assert sorted(index.state.vectors.ids().tolist()) == sorted(index.state.chunks)


def test_too_many_segments_are_merged_in_the_background(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, articles(12, "a"))
    for batch in "bcd":
        add(index, articles(2, batch))
    wait_for_merge()
    reopened = open_index(tmp_path / "ix")
    assert reopened.state.segments == 2  # the largest and the rest merged
    assert len(reopened.state.articles) == 18
    assert sorted(reopened.state.vectors.ids().tolist()) == sorted(reopened.state.chunks)
    assert sorted(p.name for p in (tmp_path / "ix").iterdir() if p.name.startswith("seg-")) == [
        seg["name"] for seg in reopened.manifest["segments"]
    ]


def test_a_crash_during_a_merge_leaves_the_index_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = open_index(tmp_path / "ix")
    add(index, articles(12, "a"))
    for batch in "bc":
        add(index, articles(2, batch))
    before = dict(open_index(tmp_path / "ix").state.chunks)
    manifest_before = (tmp_path / "ix" / MANIFEST).read_text()
    real_replace = os.replace

    def crash_on_manifest(src, dst):  # noqa: ANN001, ANN202
        if str(dst).endswith(MANIFEST):
            raise KeyboardInterrupt
        return real_replace(src, dst)

    merging = Index.open(
        tmp_path / "ix",
        HashingEncoder(),
        CHUNKING,
        layout=IndexSettings(single_segment_max_chunks=10, max_segments=1),
    )
    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        merging.merge()
    monkeypatch.undo()
    assert (tmp_path / "ix" / MANIFEST).read_text() == manifest_before
    assert not [p for p in (tmp_path / "ix").iterdir() if ".tmp-" in p.name]
    assert dict(open_index(tmp_path / "ix").state.chunks) == before
    assert merging.merge() is True
    assert dict(open_index(tmp_path / "ix").state.chunks) == before


def test_bm25_over_segments_scores_as_one_collection() -> None:
    # every document the same length, so only the IDF differs between segments
    vocab = [f"term{i}" for i in range(30)]
    rng = np.random.default_rng(0)
    docs = [" ".join(rng.choice(vocab, 8, replace=False)) for _ in range(60)]
    arts = [
        article_from_record({"id": f"d{i}", "title": "t", "text": d}, "x")
        for i, d in enumerate(docs)
    ]
    from qa.types import Chunk

    passages = [(a, Chunk(i, a.article_id, 0, 0, len(a.text), a.text)) for i, a in enumerate(arts)]
    whole = lexical.Lexical([lexical.build(passages)])
    split = lexical.Lexical([lexical.build(passages[:45]), lexical.build(passages[45:])])
    for query in (["term1", "term7"], ["term3"], ["term2", "term2", "term29"], ["absent"]):
        a = dict(whole.search(query, 60, None))
        b = dict(split.search(query, 60, None))
        assert a.keys() == b.keys()
        assert all(abs(a[k] - b[k]) < 1e-4 for k in a)


def test_in_memory_state_has_no_segments() -> None:
    state = IndexState(
        0, {}, {}, Index(Path("/nonexistent"), HashingEncoder(), CHUNKING).state.vectors
    )
    assert state.segments == 0


def test_bm25_column_sums_are_bm25s_scores_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    vocab = [f"w{i}" for i in range(200)]
    docs = [" ".join(rng.choice(vocab, int(rng.integers(3, 40)))) for _ in range(300)]
    arts = [
        article_from_record({"id": f"d{i}", "title": "t", "text": d}, "x")
        for i, d in enumerate(docs)
    ]
    from qa.types import Chunk

    passages = [(a, Chunk(i, a.article_id, 0, 0, len(a.text), a.text)) for i, a in enumerate(arts)]
    model, ids = lexical.build(passages)
    mine = lexical.Lexical([(model, ids)])
    for _ in range(30):
        query = [str(w) for w in rng.choice([*vocab, "unknown"], int(rng.integers(1, 8)))]
        ((_, got),) = mine.scores(query)
        assert np.array_equal(got, np.asarray(model.get_scores(query), dtype=np.float32))


def test_merge_with_one_segment_allowed_merges_everything_once(tmp_path: Path) -> None:
    one = IndexSettings(single_segment_max_chunks=10, max_segments=1)
    index = Index.open(tmp_path / "ix", HashingEncoder(), CHUNKING, layout=one)
    add(index, articles(12, "a"))
    add(index, articles(2, "b"))  # a second segment: starts a background merge
    wait_for_merge()
    assert Index.open(tmp_path / "ix", HashingEncoder(), CHUNKING, layout=one).state.segments == 1
    assert index.merge() is False  # nothing left to merge, and no merge loop
    assert not any(t.name == "newsqa-merge" for t in threading.enumerate())
