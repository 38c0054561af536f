from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fakes import HashingEncoder

from qa.index import Index
from qa.ingest.chunking import chunking_signature, count_tokens, embedding_text
from qa.ingest.parsing import article_from_record
from qa.ingest.pipeline import IngestPipeline, Plan, chunk_and_embed, plan
from qa.settings import Settings
from qa.types import Rejection


def long_text(tag: str, sentences: int = 60) -> str:
    return " ".join(
        f"In {tag} report number {i} the regional council of district {i} said that "
        f"the new bridge across the river would cost about {i * 3} million won."
        for i in range(sentences)
    )


def make_article(aid: str, text: str, title: str = "T"):
    return article_from_record({"id": aid, "title": title, "text": text}, "test")


ARTICLES = [
    make_article("a1", "Some text. More text."),
    make_article("a2", "The mayor of Seoul opened a new library on Monday. Readers queued."),
    make_article("a3", long_text("alpha")),
]


def open_index(tmp_path: Path, settings: Settings | None = None) -> Index:
    settings = settings or Settings()
    return Index.open(tmp_path / "ix", HashingEncoder(), chunking_signature(settings.chunking))


@pytest.fixture
def pipeline(tmp_path: Path) -> IngestPipeline:
    index = open_index(tmp_path)
    return IngestPipeline(index, index.encoder, Settings())


def assert_consistent(index: Index) -> None:
    state = index.state
    for chunk in state.chunks.values():
        article = state.articles[chunk.article_id]
        assert article.text[chunk.start : chunk.end] == chunk.text
    assert sorted(int(i) for i in state.vectors.ids()) == sorted(state.chunks)


# ---------------------------------------------------------------------- plan


def test_plan_on_empty_state_adds_everything(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    result = plan(index.state, ARTICLES)
    assert isinstance(result, Plan)
    assert result.added == [a.article_id for a in ARTICLES]
    assert result.updated == [] and result.unchanged == []
    assert list(result.fresh) == [a.article_id for a in ARTICLES]
    assert result.fresh[ARTICLES[0].article_id] is ARTICLES[0]


def test_plan_collapses_repeats_within_one_batch(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    result = plan(index.state, [ARTICLES[0], ARTICLES[0]])
    assert result.added == [ARTICLES[0].article_id]
    report = result.report([])
    assert report.added == (ARTICLES[0].article_id,)
    assert report.rejected == ()


def test_plan_against_populated_state(pipeline: IngestPipeline) -> None:
    pipeline.add_articles(ARTICLES[:2])
    changed = make_article("a2", "The mayor of Busan closed the old library on Friday.")
    new = ARTICLES[2]
    result = plan(pipeline.index.state, [ARTICLES[0], changed, new])
    assert result.unchanged == [ARTICLES[0].article_id]
    assert result.updated == [changed.article_id]
    assert result.added == [new.article_id]
    assert set(result.fresh) == {changed.article_id, new.article_id}


# ------------------------------------------------------------------- ingest


def test_add_articles_reports_added_and_indexes_chunks(pipeline: IngestPipeline) -> None:
    report = pipeline.add_articles(ARTICLES)
    assert report.added == tuple(a.article_id for a in ARTICLES)
    assert report.updated == () and report.unchanged == () and report.rejected == ()
    state = pipeline.index.state
    assert state.generation == 1
    assert set(state.articles) == {a.article_id for a in ARTICLES}
    per_article = {a.article_id: 0 for a in ARTICLES}
    for chunk in state.chunks.values():
        per_article[chunk.article_id] += 1
    assert all(n >= 1 for n in per_article.values())
    assert per_article[ARTICLES[2].article_id] > 1
    assert_consistent(pipeline.index)


def test_reingest_same_articles_is_unchanged_and_commits_nothing(
    pipeline: IngestPipeline,
) -> None:
    pipeline.add_articles(ARTICLES)
    generation = pipeline.index.state.generation
    chunks = dict(pipeline.index.state.chunks)
    calls = pipeline.encoder.calls
    report = pipeline.add_articles(list(ARTICLES))
    assert report.unchanged == tuple(a.article_id for a in ARTICLES)
    assert report.added == () and report.updated == ()
    assert pipeline.index.state.generation == generation
    assert pipeline.index.state.chunks == chunks
    assert pipeline.encoder.calls == calls  # nothing was embedded


def test_reingest_survives_reopen(tmp_path: Path) -> None:
    index = open_index(tmp_path)
    IngestPipeline(index, index.encoder, Settings()).add_articles(ARTICLES)
    reopened = open_index(tmp_path)
    report = IngestPipeline(reopened, reopened.encoder, Settings()).add_articles(ARTICLES)
    assert len(report.unchanged) == len(ARTICLES) and not report.added
    assert reopened.state.generation == index.state.generation


def test_updated_article_replaces_its_old_chunks(pipeline: IngestPipeline) -> None:
    pipeline.add_articles(ARTICLES)
    target = ARTICLES[2]
    old_ids = {
        cid for cid, c in pipeline.index.state.chunks.items() if c.article_id == target.article_id
    }
    updated = make_article("a3", long_text("omega", sentences=20))
    assert updated.article_id == target.article_id
    generation = pipeline.index.state.generation
    report = pipeline.add_articles([updated])
    assert report.updated == (updated.article_id,)
    assert report.added == () and report.unchanged == ()
    state = pipeline.index.state
    assert state.generation == generation + 1
    assert state.articles[updated.article_id].text == updated.text
    mine = [c for c in state.chunks.values() if c.article_id == updated.article_id]
    assert mine
    for chunk in mine:
        assert chunk.text in updated.text
        assert "alpha" not in chunk.text
    assert not old_ids & set(state.chunks)
    assert not old_ids & {int(i) for i in state.vectors.ids()}
    # the other articles are untouched
    assert {a.article_id for a in ARTICLES} == set(state.articles)
    assert_consistent(pipeline.index)


def test_same_text_under_new_id_is_a_duplicate(pipeline: IngestPipeline) -> None:
    pipeline.add_articles(ARTICLES)
    generation = pipeline.index.state.generation
    copy = make_article("a1-copy", ARTICLES[0].text)
    assert copy.article_id != ARTICLES[0].article_id
    report = pipeline.add_articles([copy])
    assert report.unchanged == (copy.article_id,)
    assert report.added == () and report.updated == ()
    assert copy.article_id not in pipeline.index.state.articles
    assert pipeline.index.state.generation == generation


# ------------------------------------------------------------ chunk_and_embed


def test_chunk_and_embed_rows_match_chunks() -> None:
    encoder = HashingEncoder()
    chunks, vectors = chunk_and_embed(ARTICLES, Settings(), encoder)
    assert vectors.shape == (len(chunks), encoder.dimension)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    by_id = {a.article_id: a for a in ARTICLES}
    assert {c.article_id for c in chunks} == set(by_id)
    for chunk in chunks:
        assert by_id[chunk.article_id].text[chunk.start : chunk.end] == chunk.text
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_chunk_and_embed_rows_are_in_chunk_order() -> None:
    settings = Settings().replace(encode_batch_size=3)
    chunks, vectors = chunk_and_embed(ARTICLES, settings, HashingEncoder())
    by_id = {a.article_id: a for a in ARTICLES}
    expected = HashingEncoder().encode([embedding_text(by_id[c.article_id], c) for c in chunks])
    assert np.allclose(vectors, expected)


class RecordingEncoder(HashingEncoder):
    """Remembers the texts of each ``encode`` call."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[list[str]] = []

    def encode(self, texts, batch_size: int = 64) -> np.ndarray:  # noqa: ANN001
        self.batches.append(list(texts))
        return super().encode(texts, batch_size)


def test_batches_take_chunks_longest_first() -> None:
    """Batches hold chunks of about one length (less padding); rows stay in chunk order."""
    articles = [*ARTICLES, make_article("a4", long_text("beta", 7)), make_article("a5", "Short.")]
    encoder = RecordingEncoder()
    chunks, vectors = chunk_and_embed(articles, Settings().replace(encode_batch_size=3), encoder)
    by_id = {a.article_id: a for a in articles}
    texts = [embedding_text(by_id[c.article_id], c) for c in chunks]
    seen = [t for b in encoder.batches for t in b]
    assert sorted(seen) == sorted(texts)  # every chunk once
    assert [count_tokens(t) for t in seen] == sorted((count_tokens(t) for t in texts), reverse=True)
    assert seen != texts  # the order did change here
    assert all(1 <= len(b) <= 3 for b in encoder.batches)
    assert np.array_equal(vectors, HashingEncoder().encode(texts))


def test_chunk_and_embed_empty() -> None:
    chunks, vectors = chunk_and_embed([], Settings(), HashingEncoder())
    assert chunks == []
    assert vectors.shape == (0, HashingEncoder().dimension)


def test_progress_counts_sum_to_chunk_count() -> None:
    seen: list[int] = []
    encoder = HashingEncoder()
    chunks, _ = chunk_and_embed(
        ARTICLES, Settings().replace(encode_batch_size=2), encoder, progress=seen.append
    )
    assert len(chunks) > 2
    assert sum(seen) == len(chunks)
    assert all(1 <= n <= 2 for n in seen)
    assert len(seen) == (len(chunks) + 1) // 2
    assert encoder.calls == len(seen)


def test_pipeline_progress_reports_all_chunks(tmp_path: Path) -> None:
    settings = Settings().replace(encode_batch_size=2)
    index = open_index(tmp_path, settings)
    seen: list[int] = []
    IngestPipeline(index, index.encoder, settings).add_articles(ARTICLES, progress=seen.append)
    assert sum(seen) == len(index.state.chunks)


# ------------------------------------------------------------------ records


def test_add_records_rejects_empty_text_and_adds_the_rest(pipeline: IngestPipeline) -> None:
    records = [
        {"id": "r0", "title": "Good", "text": "The port reopened on Tuesday after repairs."},
        {"id": "r1", "title": "Empty", "text": "   "},
        {"id": "r2", "title": "Also good", "text": "Farmers expect a record harvest this year."},
    ]
    report = pipeline.add_records(records)
    assert len(report.added) == 2
    assert len(report.rejected) == 1
    (rejection,) = report.rejected
    assert isinstance(rejection, Rejection)
    assert rejection.origin == "api[1]"
    assert "text" in rejection.reason
    titles = {a.title for a in pipeline.index.state.articles.values()}
    assert titles == {"Good", "Also good"}


def test_add_records_uses_given_origin(pipeline: IngestPipeline) -> None:
    report = pipeline.add_records([{"title": "no text"}, "not a mapping"], origin="upload")
    assert [r.origin for r in report.rejected] == ["upload[0]", "upload[1]"]
    assert report.added == ()
    assert pipeline.index.state.generation == 0


def test_add_paths_adds_text_file_and_rejects_empty(
    pipeline: IngestPipeline, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    good = folder / "story.txt"
    good.write_text(
        "Harbour reopens\n\nThe harbour reopened on Tuesday after a week of repairs.",
        encoding="utf-8",
    )
    empty = folder / "empty.txt"
    empty.write_text("", encoding="utf-8")
    report = pipeline.add_paths(folder)
    assert len(report.added) == 1
    assert len(report.rejected) == 1
    assert report.rejected[0].origin == str(empty)
    (article,) = pipeline.index.state.articles.values()
    assert article.title == "Harbour reopens"
    assert article.origin == str(good)
    assert_consistent(pipeline.index)


def test_add_paths_missing_path_is_rejected(pipeline: IngestPipeline, tmp_path: Path) -> None:
    report = pipeline.add_paths([tmp_path / "missing.txt"])
    assert report.added == ()
    assert [r.origin for r in report.rejected] == [str(tmp_path / "missing.txt")]


# ------------------------------------------------------------------- delete


def test_delete_removes_article_and_returns_existing_ids(pipeline: IngestPipeline) -> None:
    pipeline.add_articles(ARTICLES)
    victim = ARTICLES[2].article_id
    generation = pipeline.index.state.generation
    removed = pipeline.delete([victim, "no-such-id"])
    assert removed == [victim]
    state = pipeline.index.state
    assert victim not in state.articles
    assert all(c.article_id != victim for c in state.chunks.values())
    assert state.generation == generation + 1
    assert_consistent(pipeline.index)
    # deleting again (or only unknown ids) removes nothing and commits nothing
    assert pipeline.delete([victim]) == []
    assert pipeline.delete(iter(["nothing"])) == []
    assert pipeline.index.state.generation == generation + 1


def test_deleted_article_can_be_added_again(pipeline: IngestPipeline) -> None:
    pipeline.add_articles(ARTICLES[:1])
    pipeline.delete([ARTICLES[0].article_id])
    report = pipeline.add_articles(ARTICLES[:1])
    assert report.added == (ARTICLES[0].article_id,)
    assert_consistent(pipeline.index)
