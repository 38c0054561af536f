"""The ingest pipeline embeds without the writer lock: readers and other writers never wait.

A slow fake encoder (it sleeps, or waits on an event, in ``encode``) stands for the real
model; a reader thread keeps reading ``index.state`` and retrieving while an add runs.
"""

from __future__ import annotations

import fcntl
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEncoder

from embeddings.gate import ComputeGate
from qa.index import Index
from qa.ingest.chunking import chunk_article, chunking_signature
from qa.ingest.parsing import article_from_record
from qa.ingest.pipeline import IngestPipeline
from qa.retrieve import HybridRetriever
from qa.settings import Settings
from qa.types import Article, IngestReport, Rejection

SETTINGS = Settings().replace(encode_batch_size=1)
READ_BOUND_S = 1.0  # a reader iteration never takes longer than this


@pytest.fixture(autouse=True)
def cpu_slot_per_writer(monkeypatch):
    """These tests are about the writer lock, with encoders that block until told: give
    each writer its own CPU slot. (With the process's one-slot gate a second writer's
    batches wait for the first one's, and a batch blocked by a test never ends.)"""
    import qa.ingest.pipeline

    monkeypatch.setattr(qa.ingest.pipeline, "COMPUTE", ComputeGate(slots=4))


def long_text(tag: str, sentences: int = 40) -> str:
    return " ".join(
        f"In {tag} report number {i} the regional council of district {i} said that "
        f"the new bridge across the river would cost about {i * 3} million won."
        for i in range(sentences)
    )


def make_article(aid: str, text: str, title: str = "T") -> Article:
    return article_from_record({"id": aid, "title": title, "text": text}, f"test:{aid}")


BASE = [
    make_article("a1", "The mayor of Seoul opened a new library on Monday. Readers queued."),
    make_article("a2", "Farmers expect a record harvest this year, the ministry said."),
]


class SlowEncoder(HashingEncoder):
    """The hashing encoder, slowed down; records whether the writer lock was held."""

    def __init__(
        self,
        lock_file: Path,
        delay: float = 0.0,
        gate: threading.Event | None = None,
    ) -> None:
        super().__init__()
        self.lock_file = lock_file
        self.delay = delay
        self.gate = gate
        self.started = threading.Event()
        self.lock_held: list[bool] = []
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.lock_held.append(self._writer_lock_held())
        self.started.set()
        self.texts.extend(texts)
        if self.gate is not None:
            assert self.gate.wait(10), "test gate never opened"
        if self.delay:
            time.sleep(self.delay)
        return super().encode(texts, batch_size)

    def _writer_lock_held(self) -> bool:
        if not self.lock_file.exists():
            return False
        with open(self.lock_file, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            fcntl.flock(handle, fcntl.LOCK_UN)
            return False


def open_index(path: Path) -> Index:
    return Index.open(path, HashingEncoder(), chunking_signature(SETTINGS.chunking))


@pytest.fixture
def index(tmp_path: Path) -> Index:
    index = open_index(tmp_path / "ix")
    IngestPipeline(index, index.encoder, SETTINGS).add_articles(BASE)
    return index


def assert_consistent(index: Index) -> None:
    state = index.state
    for chunk in state.chunks.values():
        assert state.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    assert sorted(int(i) for i in state.vectors.ids()) == sorted(state.chunks)


def run(target, *args) -> tuple[threading.Thread, list]:  # noqa: ANN001
    """Start ``target(*args)`` in a thread; its result (or exception) lands in the list."""
    out: list = []

    def body() -> None:
        try:
            out.append(target(*args))
        except BaseException as exc:  # surfaced by the test
            out.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def result(thread: threading.Thread, out: list) -> IngestReport:
    thread.join(20)
    assert not thread.is_alive() and out, "the add did not finish"
    if isinstance(out[0], BaseException):
        raise out[0]
    return out[0]


def test_reader_never_blocks_and_sees_whole_generations(index: Index) -> None:
    new = make_article("gamma", long_text("gamma", 60), title="Gamma bridge")
    slow = SlowEncoder(index.path / ".lock", delay=0.2)
    retriever = HybridRetriever(index, HashingEncoder(), Settings().retrieval)
    retriever.retrieve("bridge across the river", 5)  # warm: BM25 import and build
    finished = threading.Event()
    seen: list[tuple[float, bool]] = []  # (seconds, new article present)
    problems: list[str] = []
    chunks_of_new = len(
        chunk_article(new, SETTINGS.chunking.max_tokens, SETTINGS.chunking.overlap_tokens)
    )
    assert chunks_of_new >= 10

    def reader() -> None:
        after = 0
        while after < 5:
            started = time.perf_counter()
            state = index.state
            mine = [c for c in state.chunks.values() if c.article_id == new.article_id]
            present = new.article_id in state.articles
            if present != bool(mine) or (present and len(mine) != chunks_of_new):
                problems.append(f"generation {state.generation}: {len(mine)} chunks of gamma")
            for chunk in mine:
                if new.text[chunk.start : chunk.end] != chunk.text:
                    problems.append(f"chunk {chunk.chunk_id} is not a slice of its article")
            for hit in retriever.retrieve("bridge across the river cost", 5):
                if hit.article.text[hit.chunk.start : hit.chunk.end] != hit.chunk.text:
                    problems.append(f"hit {hit.chunk.chunk_id} is not a slice of its article")
            seen.append((time.perf_counter() - started, present))
            after += finished.is_set()

    reading = threading.Thread(target=reader, daemon=True)
    reading.start()
    started = time.perf_counter()
    report = IngestPipeline(index, slow, SETTINGS).add_articles([new])
    took = time.perf_counter() - started
    finished.set()
    reading.join(20)
    assert report.added == (new.article_id,)
    assert problems == []
    assert took > 2 * READ_BOUND_S  # the add was slow...
    assert max(s for s, _ in seen) < READ_BOUND_S  # ...and no read waited for it
    assert sum(1 for _, present in seen if not present) >= 5  # read the old generation meanwhile
    assert seen[-1][1]  # and the new one after the commit
    assert not any(slow.lock_held)  # embedding ran without the writer lock
    assert_consistent(index)


def test_another_writer_is_not_blocked_while_one_embeds(index: Index) -> None:
    gate = threading.Event()
    slow = SlowEncoder(index.path / ".lock", gate=gate)
    first = make_article("first", long_text("first", 10))
    second = make_article("second", long_text("second", 10))
    thread, out = run(IngestPipeline(index, slow, SETTINGS).add_articles, [first])
    assert slow.started.wait(10)
    started = time.perf_counter()
    quick = IngestPipeline(index, HashingEncoder(), SETTINGS).add_articles([second])
    assert time.perf_counter() - started < READ_BOUND_S  # did not wait for the slow one
    assert quick.added == (second.article_id,) and thread.is_alive()
    gate.set()
    assert result(thread, out).added == (first.article_id,)
    assert {first.article_id, second.article_id, *(a.article_id for a in BASE)} == set(
        index.state.articles
    )
    assert_consistent(index)


@pytest.mark.parametrize("same_index", [True, False], ids=["one-index", "two-processes"])
def test_two_pipelines_adding_different_articles_both_land(index: Index, same_index: bool) -> None:
    other_index = index if same_index else open_index(index.path)
    slow_a = SlowEncoder(index.path / ".lock", delay=0.02)
    slow_b = SlowEncoder(index.path / ".lock", delay=0.02)
    a = [make_article(f"a-{i}", long_text(f"left{i}", 6)) for i in range(3)]
    b = [make_article(f"b-{i}", long_text(f"right{i}", 6)) for i in range(3)]
    ta, out_a = run(IngestPipeline(index, slow_a, SETTINGS).add_articles, a)
    tb, out_b = run(IngestPipeline(other_index, slow_b, SETTINGS).add_articles, b)
    assert len(result(ta, out_a).added) == 3 and len(result(tb, out_b).added) == 3
    reopened = open_index(index.path)
    want = {x.article_id for x in [*BASE, *a, *b]}
    assert set(reopened.state.articles) == want
    assert_consistent(reopened)
    assert reopened.state.generation == 3  # the base, then one commit each


def test_replan_skips_what_another_writer_committed(index: Index) -> None:
    gate = threading.Event()
    slow = SlowEncoder(index.path / ".lock", gate=gate)
    x = make_article("x", long_text("ex", 8))
    y = make_article("y", long_text("why", 8))
    thread, out = run(IngestPipeline(index, slow, SETTINGS).add_articles, [x, y])
    assert slow.started.wait(10)
    IngestPipeline(index, HashingEncoder(), SETTINGS).add_articles([x])
    generation = index.state.generation
    gate.set()
    report = result(thread, out)
    assert report.unchanged == (x.article_id,) and report.added == (y.article_id,)
    assert index.state.generation == generation + 1
    assert_consistent(index)


def test_replan_embeds_what_another_writer_removed(index: Index) -> None:
    gate = threading.Event()
    slow = SlowEncoder(index.path / ".lock", gate=gate)
    stored = BASE[0]
    y = make_article("y", long_text("why", 8))
    thread, out = run(IngestPipeline(index, slow, SETTINGS).add_articles, [stored, y])
    assert slow.started.wait(10)
    index.delete([stored.article_id])  # the writer lock is free while the add embeds
    gate.set()
    report = result(thread, out)
    assert report.added == (stored.article_id, y.article_id)
    assert any(stored.text in t for t in slow.texts)  # embedded under the lock, after the delete
    assert slow.lock_held[-1] and not any(slow.lock_held[:-1])
    assert {stored.article_id, y.article_id} <= set(index.state.articles)
    assert_consistent(index)


def test_article_over_the_chunk_limit_is_rejected(index: Index) -> None:
    settings = SETTINGS.replace(max_chunks_per_article=3)
    pipeline = IngestPipeline(index, HashingEncoder(), settings)
    small = make_article("small", "The port reopened on Tuesday after repairs.")
    huge = make_article("huge", long_text("huge", 40), title="A very long report")
    report = pipeline.add_articles([small, huge], [Rejection("x.json", "bad JSON")])
    assert report.added == (small.article_id,)
    assert report.rejected[0] == Rejection("x.json", "bad JSON")
    (rejection,) = report.rejected[1:]
    assert rejection.origin == huge.origin == "test:huge"
    assert "A very long report" in rejection.reason and "the limit is 3" in rejection.reason
    assert huge.article_id not in index.state.articles
    assert_consistent(index)


def test_update_over_the_chunk_limit_keeps_the_stored_version(index: Index) -> None:
    settings = SETTINGS.replace(max_chunks_per_article=3)
    pipeline = IngestPipeline(index, HashingEncoder(), settings)
    original = BASE[1]
    grown = make_article("a2", long_text("grown", 40))
    assert grown.article_id == original.article_id
    generation = index.state.generation
    report = pipeline.add_articles([grown])
    assert report.updated == () and report.added == ()
    assert [r.origin for r in report.rejected] == [grown.origin]
    assert index.state.articles[original.article_id].text == original.text
    assert index.state.generation == generation  # nothing committed, nothing lost
    assert_consistent(index)


def test_article_without_origin_is_named_by_its_id(index: Index) -> None:
    from dataclasses import replace

    huge = replace(make_article("huge", long_text("huge", 40)), origin=None)
    settings = SETTINGS.replace(max_chunks_per_article=2)
    report = IngestPipeline(index, HashingEncoder(), settings).add_articles([huge])
    assert [r.origin for r in report.rejected] == [huge.article_id]
