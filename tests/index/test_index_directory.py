from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEncoder
from fakes import add_articles as add

from embeddings.vector_index import brute_force_search
from qa.index import MANIFEST, Index, IndexFormatError
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.settings import Settings

CHUNKING = chunking_signature(Settings().chunking)


def make_articles(n: int, prefix: str = "a") -> list:
    return [
        article_from_record(
            {
                "id": f"{prefix}{i}",
                "title": f"Story {i}",
                "text": f"Story {i}\n\nThe council of town {prefix}{i} met on Monday. "
                f"Mayor Person{i} said the budget of {i * 7} million was approved. "
                "Residents welcomed the decision.",
                "date": f"2024-01-{(i % 28) + 1:02d}",
                "source": "Wire" if i % 2 else "Herald",
            },
            "test",
        )
        for i in range(n)
    ]


def open_index(path: Path, encoder=None) -> Index:
    return Index.open(path, encoder or HashingEncoder(), CHUNKING)


def test_add_persist_and_reopen_identical(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    report = add(index, make_articles(12))
    assert len(report.added) == 12 and not report.updated and not report.unchanged
    reopened = open_index(tmp_path / "ix")
    assert reopened.state.articles == index.state.articles
    assert reopened.state.chunks == index.state.chunks
    q = HashingEncoder().encode(["budget approved by the mayor"])
    s1, i1 = index.state.vectors.search(q, 10)
    s2, i2 = reopened.state.vectors.search(q, 10)
    assert np.array_equal(i1, i2) and np.allclose(s1, s2)
    for chunk in reopened.state.chunks.values():
        article = reopened.state.articles[chunk.article_id]
        assert article.text[chunk.start : chunk.end] == chunk.text


def test_faiss_matches_brute_force_on_stored_vectors(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(30))
    ids = index.state.vectors.ids()
    vectors = index.state.vectors.reconstruct(ids)
    queries = HashingEncoder().encode(["mayor budget", "residents welcomed", "council town 7"])
    for k in (1, 5, 17):
        f_scores, f_ids = index.state.vectors.search(queries, k)
        b_scores, b_ids = brute_force_search(ids, vectors, queries, k)
        assert np.allclose(f_scores, b_scores, atol=1e-5)
        full = queries @ vectors.T
        # ids agree wherever a score is not tied with any other stored vector
        for row in range(len(queries)):
            for col in range(k):
                if np.sum(np.isclose(full[row], b_scores[row, col], atol=1e-5)) == 1:
                    assert f_ids[row, col] == b_ids[row, col]


def test_reingest_unchanged_is_noop(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(5))
    generation = index.state.generation
    report = add(index, make_articles(5))
    assert len(report.unchanged) == 5 and not report.added and not report.updated
    assert index.state.generation == generation


def test_updated_article_replaces_old_chunks(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(3))
    old_ids = {
        c.chunk_id
        for c in index.state.chunks.values()
        if c.article_id == make_articles(3)[1].article_id
    }
    changed = article_from_record(
        {
            "id": "a1",
            "title": "Story 1",
            "text": "Story 1\n\nA completely new text about a flood in the valley.",
        },
        "test",
    )
    report = add(index, [changed])
    assert report.updated == (changed.article_id,)
    chunks = [c for c in index.state.chunks.values() if c.article_id == changed.article_id]
    assert chunks and all("flood" in c.text or "Story" in c.text for c in chunks)
    assert not old_ids & set(index.state.chunks)
    assert not old_ids & set(index.state.vectors.ids().tolist())
    reopened = open_index(tmp_path / "ix")
    assert reopened.state.articles[changed.article_id].text == changed.text
    assert len(reopened.state.vectors) == len(reopened.state.chunks)


def test_delete(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    articles = make_articles(4)
    add(index, articles)
    assert index.delete([articles[0].article_id, "nope"]) == [articles[0].article_id]
    reopened = open_index(tmp_path / "ix")
    assert articles[0].article_id not in reopened.state.articles
    assert all(c.article_id != articles[0].article_id for c in reopened.state.chunks.values())
    assert len(reopened.state.vectors) == len(reopened.state.chunks)


def test_manifest_describes_index(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(2))
    manifest = json.loads((tmp_path / "ix" / MANIFEST).read_text())
    assert manifest["format_version"] == 2
    assert manifest["segments"][0]["vectors"] == {"kind": "flat", "dtype": "float32"}
    (segment,) = manifest["segments"]
    assert {"store", "vectors", "bm25/chunk_ids.npy"} <= set(segment["files"])
    for entry in segment["files"].values():
        assert (tmp_path / "ix" / entry["path"]).stat().st_size == entry["bytes"]
        assert len(entry["sha256"]) == len(entry["sample_sha256"]) == 64
    assert manifest["model"] == "test/hashing-encoder"
    assert manifest["dimension"] == 64
    assert manifest["chunking"] == CHUNKING
    assert manifest["counts"] == {"articles": 2, "chunks": len(index.state.chunks)}
    assert manifest["package_version"]
    assert not list((tmp_path / "ix").glob("**/*.pkl"))


def test_info_counts_undated_articles(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    dated = make_articles(1)
    undated = [
        article_from_record(
            {"id": f"u{i}", "text": f"SEOUL, Nov. 7 (Yonhap) -- Story {i} has no year anywhere."},
            "test",
        )
        for i in range(2)
    ]
    assert all(a.date is None for a in undated)
    add(index, dated + undated)
    info = open_index(tmp_path / "ix").info()
    assert (info.articles, info.undated) == (3, 2)
    assert info.oldest_date == info.newest_date == dated[0].date


def test_mismatched_model_dimension_chunking_and_format(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(2))
    with pytest.raises(IndexFormatError, match="model"):
        Index.open(tmp_path / "ix", HashingEncoder(name="other/model"), CHUNKING)
    with pytest.raises(IndexFormatError, match="dimension"):
        Index.open(tmp_path / "ix", HashingEncoder(dimension=32), CHUNKING)
    with pytest.raises(IndexFormatError, match="chunk"):
        Index.open(tmp_path / "ix", HashingEncoder(), {**CHUNKING, "chunk_max_tokens": 99})
    manifest_path = tmp_path / "ix" / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 99
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="format version"):
        open_index(tmp_path / "ix")


@pytest.mark.parametrize("target", ["vectors", "store", "manifest"])
def test_damaged_index_is_a_clear_error(tmp_path: Path, target: str) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(3))
    root = tmp_path / "ix"
    if target == "manifest":
        (root / MANIFEST).write_text("{not json")
    else:
        path = root / index.manifest["segments"][0]["files"][target]["path"]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    with pytest.raises(IndexFormatError):
        open_index(root)


def test_not_an_index_and_missing(tmp_path: Path) -> None:
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "file.txt").write_text("hello")
    with pytest.raises(IndexFormatError, match="not an index"):
        open_index(tmp_path / "junk")
    with pytest.raises(IndexFormatError, match="no index"):
        Index.open(tmp_path / "absent", HashingEncoder(), CHUNKING, create=False)


def test_failed_write_leaves_previous_generation(tmp_path: Path) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(3))

    class Boom(HashingEncoder):
        def encode(self, texts, batch_size=64):
            raise RuntimeError("encoder crashed")

    broken = Index.open(tmp_path / "ix", Boom(), CHUNKING)
    with pytest.raises(RuntimeError):
        add(broken, make_articles(6, prefix="b"))
    reopened = open_index(tmp_path / "ix")
    assert len(reopened.state.articles) == 3


KILL_SCRIPT = r"""
import sys, time
sys.path.insert(0, {tests!r})
from fakes import HashingEncoder
from fakes import add_articles as add
from qa.index import Index
from qa.ingest.chunking import chunking_signature
from qa.ingest.pipeline import IngestPipeline
from qa.settings import Settings
from qa.ingest.parsing import article_from_record

class Slow(HashingEncoder):
    def encode(self, texts, batch_size=64):
        print("encoding", flush=True)
        time.sleep(0.05)
        return super().encode(texts, batch_size)

index = Index.open({path!r}, Slow(), chunking_signature(Settings().chunking))
body = "Body of kill test article number %d. "
arts = [article_from_record({{"id": f"k{{i}}", "text": body % i * 40}}, "t")
        for i in range(400)]
IngestPipeline(index, index.encoder, Settings().replace(encode_batch_size=4)).add_articles(arts)
print("finished", flush=True)
"""


@pytest.mark.parametrize("delay", [0.5, 1.5])
def test_killed_ingest_leaves_previous_index_usable(tmp_path: Path, delay: float) -> None:
    root = tmp_path / "ix"
    index = open_index(root)
    add(index, make_articles(5))
    before = dict(index.state.articles)
    script = KILL_SCRIPT.format(tests=str(Path(__file__).parents[1]), path=str(root))
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[2],
        env={**os.environ},
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # it has started encoding
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reopened = open_index(root)
    assert reopened.state.articles == before
    assert len(reopened.state.vectors) == len(reopened.state.chunks)
    # and the next write cleans up and works
    add(reopened, make_articles(2, prefix="z"))
    assert len(open_index(root).state.articles) == 7
    assert len([p for p in root.iterdir() if p.name.startswith("seg-")]) == 1


def test_killed_during_commit_at_any_point(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulate a crash right before the manifest swap: old state must survive."""
    root = tmp_path / "ix"
    index = open_index(root)
    add(index, make_articles(3))
    real_replace = os.replace

    def crash_on_manifest(src, dst):
        if str(dst).endswith(MANIFEST):
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", crash_on_manifest)
    with pytest.raises(KeyboardInterrupt):
        add(index, make_articles(4, prefix="c"))
    monkeypatch.setattr(os, "replace", real_replace)
    reopened = open_index(root)
    assert len(reopened.state.articles) == 3


def test_two_handles_see_each_others_writes(tmp_path: Path) -> None:
    first = open_index(tmp_path / "ix")
    second = open_index(tmp_path / "ix")
    add(first, make_articles(2, prefix="p"))
    add(second, make_articles(2, prefix="q"))  # reloads p's generation before writing
    assert len(open_index(tmp_path / "ix").state.articles) == 4


def test_refresh_picks_up_another_writers_generation(tmp_path: Path) -> None:
    reader = open_index(tmp_path / "ix")
    assert reader.refresh() is False  # no index on disk yet: nothing to switch to
    writer = open_index(tmp_path / "ix")  # another process, as far as files go
    add(writer, make_articles(3))
    assert reader.state.generation == 0
    held = reader.state
    assert reader.refresh() is True
    assert reader.state.generation == writer.state.generation
    assert set(reader.state.articles) == set(writer.state.articles)
    assert held.generation == 0 and not held.articles  # a question holding the old one keeps it
    assert reader.refresh() is False  # nothing new: one stat, no reload
    add(writer, make_articles(2, prefix="b"))
    assert reader.refresh() is True
    assert set(reader.state.articles) == set(writer.state.articles)
    assert len(reader.state.articles) == 5
    assert reader.state._lexical is not None  # built before the switch, not by the next question


def test_refresh_after_own_commit_does_not_reload(tmp_path: Path, monkeypatch) -> None:
    index = open_index(tmp_path / "ix")
    add(index, make_articles(2))
    loads = []
    original = Index._load
    monkeypatch.setattr(Index, "_load", lambda self, p: loads.append(p) or original(self, p))
    assert index.refresh() is False
    assert loads == []


def test_refresh_of_a_damaged_new_generation_is_a_clear_error(tmp_path: Path) -> None:
    reader = open_index(tmp_path / "ix")
    add(open_index(tmp_path / "ix"), make_articles(2))
    manifest = tmp_path / "ix" / MANIFEST
    data = json.loads(manifest.read_text())
    data["generation"] = 99
    data["segments"][0]["files"]["vectors"]["sha256"] = "0" * 64
    tmp = manifest.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, manifest)
    with pytest.raises(IndexFormatError):
        reader.refresh()
    assert reader.state.generation == 0  # still the one it had
