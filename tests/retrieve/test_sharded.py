"""ShardedRetriever: shards searched by Ray actors answer as one index holding everything.

Two corpora, each split by article into three shard indexes and also ingested whole
into one: the varied corpus of test_retrieve_hybrid.py, and a corpus whose chunks all
have the same BM25 length (where BM25's per-shard length normalisation is the
collection's, so BM25 and hybrid agree exactly). One local Ray cluster (127.0.0.1,
2 CPUs) serves the module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fakes import HashingEncoder, add_articles, local_ray_cluster

from qa import Assistant
from qa.index import Index
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.retrieve import HybridRetriever
from qa.retrieve.hybrid import bm25_tokens
from qa.settings import Settings
from qa.types import Article, Filters, Hit

pytest.importorskip("ray")

from test_retrieve_hybrid import FILLERS, RECORDS  # noqa: E402
from test_retriever_contract import assert_ranked_and_valid  # noqa: E402

from qa.retrieve.sharded import ShardedRetriever  # noqa: E402

S = Settings().replace(extractor="heuristic")
SHARDS = 3
WORDS = [
    "inflation",
    "bank",
    "rates",
    "football",
    "striker",
    "novelist",
    "prize",
    "river",
    "flood",
    "bridge",
    "council",
    "mayor",
    "election",
    "senator",
    "vaccine",
    "hospital",
    "doctor",
    "tariff",
    "exports",
    "harvest",
    "wheat",
    "drought",
    "satellite",
    "rocket",
    "launch",
    "museum",
    "painting",
    "auction",
    "airline",
    "pilot",
]
QUESTIONS = [
    "Who raised interest rates?",
    "What did the novelist win?",
    "How many fans watched the cup final?",
    "What did the European Central Bank say about inflation?",
    "interest rates mortgage costs",
]
EQUAL_QUESTIONS = [
    "inflation bank rates",
    "striker football prize",
    "river flood bridge mayor",
    "rocket satellite launch museum",
    "wheat harvest drought exports tariff",
]


def equal_records() -> list[dict[str, Any]]:
    """Articles of one short chunk each, every one 12 BM25 tokens (title 2, text 10)."""
    out = []
    for n in range(30):
        words = [WORDS[(n * 7 + j * (1 + n % 4)) % len(WORDS)] for j in range(10)]
        text = f"{' '.join(words[:5]).capitalize()}. {' '.join(words[5:]).capitalize()}."
        out.append(
            {
                "id": f"eq-{n}",
                "title": "Desk report",
                "text": text,
                "date": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}",
                "source": ["Reuters", "AP", "AFP"][n % 3],
            }
        )
    return out


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A local Ray cluster on the loopback address; test modules are importable in workers."""
    yield from local_ray_cluster()


def _open(path: Path) -> Index:
    return Index.open(path, HashingEncoder(), chunking_signature(S.chunking), layout=S.index)


def _build(root: Path, articles: list[Article]) -> tuple[Index, list[Path]]:
    """One index of all ``articles`` and SHARDS shard indexes of them (round robin)."""
    whole = _open(root / "whole")
    add_articles(whole, articles, S)
    paths = []
    for i in range(SHARDS):
        path = root / f"shard-{i}"
        add_articles(_open(path), articles[i::SHARDS], S)
        paths.append(path)
    return whole, paths


class Corpus:
    """A single index, its shards and a sharded retriever over them."""

    def __init__(self, root: Path, records: list[dict[str, Any]]) -> None:
        self.articles = [article_from_record(r, "test") for r in records]
        self.whole, self.paths = _build(root, self.articles)
        self.sharded = ShardedRetriever(self.paths, HashingEncoder(), S, num_cpus=0.1)

    def single(self, mode: str) -> HybridRetriever:
        return HybridRetriever(self.whole, HashingEncoder(), S.retrieval, mode)


@pytest.fixture(scope="module")
def varied(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    corpus = Corpus(tmp_path_factory.mktemp("varied"), RECORDS + FILLERS)
    yield corpus
    corpus.sharded.close()


@pytest.fixture(scope="module")
def equal(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    corpus = Corpus(tmp_path_factory.mktemp("equal"), equal_records())
    yield corpus
    corpus.sharded.close()


def ids(hits: list[Hit]) -> list[int]:
    return [h.chunk.chunk_id for h in hits]


def same_up_to_ties(
    got: list[Hit], want: list[Hit], truth: list[Hit], mode: str, tol: float = 0.0
) -> None:
    """``got`` is ``want`` but for the order (and, at the cut, the choice) of equal scores.

    ``truth``: the single index's hits for a large ``k`` (every chunk's true score). Equal
    scores are frequent here (the fake encoder, equal-length chunks); one index breaks
    them by FAISS insertion order and BM25 position, which a sharded index cannot share.
    """

    def key(h: Hit) -> float:
        return (h.dense_score if mode == "dense" else h.bm25_score) or 0.0

    assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-9)
    assert [key(h) for h in got] == pytest.approx([key(h) for h in want], abs=tol)
    true = {h.chunk.chunk_id: key(h) for h in truth}
    assert [key(h) for h in got] == pytest.approx([true[i] for i in ids(got)], abs=tol)
    if want:
        cut = key(want[-1]) + tol
        assert {h.chunk.chunk_id for h in got if key(h) > cut} == {
            h.chunk.chunk_id for h in want if key(h) > cut
        }


def test_equal_corpus_chunks_have_one_bm25_length(equal: Corpus) -> None:
    lengths = {len(bm25_tokens(f"{a.title}\n{a.text}")) for a in equal.articles}
    assert lengths == {12}
    assert all(len(list(p.iterdir())) > 0 for p in equal.paths)
    assert sum(_open(p).info().chunks for p in equal.paths) == equal.whole.info().chunks == 30


@pytest.mark.parametrize("name", ["varied", "equal"])
@pytest.mark.parametrize("k", [1, 5, 12])
def test_dense_equals_one_index(name: str, k: int, request: pytest.FixtureRequest) -> None:
    corpus: Corpus = request.getfixturevalue(name)
    sharded = corpus.sharded.in_mode("dense")
    for question in QUESTIONS + EQUAL_QUESTIONS:
        single = corpus.single("dense")
        got, want = sharded.retrieve(question, k), single.retrieve(question, k)
        same_up_to_ties(got, want, single.retrieve(question, 100), "dense")


@pytest.mark.parametrize("mode", ["bm25", "hybrid"])
def test_equal_length_bm25_and_hybrid_equal_one_index(equal: Corpus, mode: str) -> None:
    sharded = equal.sharded.in_mode(mode)
    for question in EQUAL_QUESTIONS:
        single = equal.single(mode)
        got, want = sharded.retrieve(question, 8), single.retrieve(question, 8)
        assert got
        if mode == "bm25":
            same_up_to_ties(got, want, single.retrieve(question, 100), "bm25", 1e-4)
        else:  # fused ranks: only the order of equal dense or BM25 scores may differ
            assert len(set(ids(got)) & set(ids(want))) >= 6


def test_varied_lengths_bm25_close_to_one_index(varied: Corpus) -> None:
    """Length normalisation stays per shard: the same best passage, nearly the same list."""
    sharded = varied.sharded.in_mode("bm25")
    for question in QUESTIONS:
        got, want = sharded.retrieve(question, 10), varied.single("bm25").retrieve(question, 10)
        assert ids(got)[:1] == ids(want)[:1]
        assert len(set(ids(got)) & set(ids(want))) >= 0.8 * len(want)
    for question in QUESTIONS:  # the last one ties many fillers in dense search
        got = varied.sharded.retrieve(question, 5)
        want = varied.single("hybrid").retrieve(question, 5)
        assert len(set(ids(got)) & set(ids(want))) >= 3
        if question != QUESTIONS[-1]:
            assert ids(got)[:1] == ids(want)[:1]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(sources=("ap",)),
        Filters(date_from="2024-03-01", date_to="2024-08-31"),
        Filters(article_ids=("1", "2", "9")),  # positions in the corpus, made ids below
        Filters(sources=("Nobody",)),
    ],
)
@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_filters_equal_one_index(equal: Corpus, mode: str, filters: Filters) -> None:
    if filters.article_ids:
        filters = Filters(
            article_ids=tuple(equal.articles[int(i)].article_id for i in filters.article_ids)
        )
    sharded = equal.sharded.in_mode(mode)
    for question in EQUAL_QUESTIONS:
        got, want = (
            sharded.retrieve(question, 6, filters),
            equal.single(mode).retrieve(question, 6, filters),
        )
        if mode == "hybrid":
            assert len(set(ids(got)) & set(ids(want))) >= len(want) - 2
        else:
            truth = equal.single(mode).retrieve(question, 100, filters)
            same_up_to_ties(got, want, truth, mode, 1e-4)
        for hit in got:
            a = hit.article
            assert not filters.sources or (a.source or "").lower() in filters.sources
            assert filters.admits(a.date)
            assert not filters.article_ids or a.article_id in filters.article_ids
    if filters.article_ids and mode == "dense":
        assert len(got) == 3  # one chunk per article, all three found


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
@pytest.mark.parametrize("k", [1, 5, 40])
def test_retriever_contract(varied: Corpus, mode: str, k: int) -> None:
    """The checks of test_retriever_contract.py: ranked, valid, filtered, k respected."""
    sharded = varied.sharded.in_mode(mode)
    state = varied.whole.state
    for filters in (None, Filters(sources=("reuters",)), Filters(date_to="2024-03-01")):
        for question in QUESTIONS:
            hits = sharded.retrieve(question, k, filters)
            assert_ranked_and_valid(hits, k, state.chunks)
            for h in hits:
                assert filters is None or filters.admits(h.article.date)
    keep = tuple(a.article_id for a in varied.articles[:4])
    n = sum(1 for c in state.chunks.values() if c.article_id in keep)
    hits = sharded.retrieve("interest rates book prize cup", n, Filters(article_ids=keep))
    assert {h.article.article_id for h in hits} <= set(keep)
    if mode != "bm25":
        assert len(hits) == n  # filtered inside the search: every allowed chunk is ranked


def test_batch_equals_one_by_one(varied: Corpus) -> None:
    batch = varied.sharded.retrieve_batch(QUESTIONS, 4)
    assert [ids(hs) for hs in batch] == [ids(varied.sharded.retrieve(q, 4)) for q in QUESTIONS]
    assert varied.sharded.retrieve_batch([], 4) == []


def test_shards_see_a_later_ingest(equal: Corpus) -> None:
    """Another process ingests into a shard: the next question sees it (runs after the rest)."""
    record = {"id": "eq-new", "title": "Desk report", "text": "Zeppelin landed at the museum."}
    article = article_from_record(record, "later")
    assert article.article_id not in {
        h.article.article_id for h in equal.sharded.retrieve("zeppelin", 3)
    }
    add_articles(_open(equal.paths[1]), [article], S)
    assert equal.sharded.in_mode("bm25").retrieve("zeppelin", 3)[0].article == article


def test_a_missing_shard_is_refused(cluster: Any, tmp_path: Path) -> None:
    with pytest.raises(Exception, match="index"):
        ShardedRetriever([tmp_path / "nothing"], HashingEncoder(), S, num_cpus=0.1)


def test_assistant_answers_as_over_one_index(varied: Corpus) -> None:
    shard = _open(varied.paths[0])
    sharded = Assistant(shard, S, HashingEncoder(), retriever=varied.sharded)
    single = Assistant(varied.whole, S, HashingEncoder())
    for question in QUESTIONS[:4]:
        got, want = sharded.ask(question), single.ask(question)
        assert got.text == want.text
        assert got.score == pytest.approx(want.score)
        cited = [[(c.article_id, c.start, c.end) for c in a.citations] for a in (got, want)]
        assert cited[0] == cited[1]


def test_cli_shard_options_are_checked(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from qa.cli import main

    runner = CliRunner()
    alone = runner.invoke(main, ["ask", "Who?", "--ray", "auto"])
    assert alone.exit_code == 2 and "--ray needs --shard" in alone.output
    both = runner.invoke(main, ["ask", "Who?", "--index", str(tmp_path), "--shard", str(tmp_path)])
    assert both.exit_code == 2 and "not both" in both.output
