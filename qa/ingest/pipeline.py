"""The ingest pipeline: parsed articles -> what changed -> chunks -> vectors -> commit.

It compares each article with what is stored (content-derived ids: an unchanged
article is skipped, a changed one replaces its old chunks, an identical text under
another id is a duplicate), chunks and embeds only what is new, and commits one new
generation. The slow part (chunking and embedding) runs without the index's writer
lock, planned against the current generation; only the re-plan against the state the
writer lock yields and the commit are exclusive (see :meth:`IngestPipeline.add_articles`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from embeddings.encoder import Encoder
from embeddings.gate import COMPUTE
from qa.index import Index, IndexState
from qa.ingest import parsing
from qa.ingest.chunking import chunk_article, count_tokens, embedding_text
from qa.settings import Settings
from qa.types import Article, Chunk, IngestReport, Rejection

Progress = Callable[[int], None]


class Reader(Protocol):
    """Reads files and folders into articles and rejections (:func:`read_paths` locally)."""

    def __call__(
        self, paths: Iterable[str | Path], settings: Settings
    ) -> tuple[list[Article], list[Rejection]]:
        """The articles of ``paths`` and the rejections of bad input, in input order."""
        ...


class Preparer(Protocol):
    """Chunks and embeds articles ahead of the commit (:func:`prepare` locally)."""

    def __call__(
        self,
        articles: Iterable[Article],
        settings: Settings,
        encoder: Encoder,
        progress: Progress | None = None,
        into: Prepared | None = None,
    ) -> Prepared:
        """``articles`` chunked and embedded (see :func:`prepare`)."""
        ...


@dataclass
class Plan:
    """What an ingest will do, decided against the current generation."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    fresh: dict[str, Article] = field(default_factory=dict)

    def report(self, rejected: Iterable[Rejection]) -> IngestReport:
        """The :class:`IngestReport` of this plan (ids once each, in order)."""
        return IngestReport(
            tuple(dict.fromkeys(self.added)),
            tuple(dict.fromkeys(self.updated)),
            tuple(dict.fromkeys(self.unchanged)),
            tuple(rejected),
        )


def plan(state: IndexState, articles: Iterable[Article]) -> Plan:
    """Sort ``articles`` into added, updated and unchanged against ``state``."""
    result = Plan()
    for article in articles:
        current = state.articles.get(article.article_id)
        pending = result.fresh.get(article.article_id)
        if pending is not None and pending.content_hash == article.content_hash:
            continue
        if (current is not None and current.content_hash == article.content_hash) or (
            current is None and article.content_hash in state.by_hash
        ):
            result.unchanged.append(article.article_id)
            continue
        (result.updated if current is not None else result.added).append(article.article_id)
        result.fresh[article.article_id] = article
    return result


def chunk_and_embed(
    articles: Iterable[Article],
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
) -> tuple[list[Chunk], np.ndarray]:
    """Chunks of ``articles`` and their unit vectors (one row per chunk)."""
    by_id = {a.article_id: a for a in articles}
    chunking = settings.chunking
    chunks = [
        c
        for a in by_id.values()
        for c in chunk_article(a, chunking.max_tokens, chunking.overlap_tokens)
    ]
    return chunks, embed_chunks(chunks, by_id, settings, encoder, progress)


def embedding_order(texts: Sequence[str]) -> list[int]:
    """The order an ingest embeds ``texts`` in: longest first, ties in input order.

    Length is :func:`count_tokens`, the chunker's word-piece estimate. A batch is
    padded to its longest text, and the batches of an ingest then hold texts of about
    one length: on 200 BBC articles the model sees 10% fewer tokens than in batches
    in chunk order, and ingest ran 8% faster (docs/benchmarks.md, "Ingest throughput").
    The batch size, and so how long a question may wait on the compute gate, is as before.
    """
    return sorted(range(len(texts)), key=lambda i: -count_tokens(texts[i]))


def embed_chunks(
    chunks: Sequence[Chunk],
    by_id: Mapping[str, Article],
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
) -> np.ndarray:
    """Unit vectors of ``chunks`` (their articles in ``by_id``), in batches, one row per chunk.

    The batches take the chunks in :func:`embedding_order`; row ``i`` is chunk ``i``.
    """
    texts = [embedding_text(by_id[c.article_id], c) for c in chunks]
    order = embedding_order(texts)
    batch = settings.ingest.encode_batch_size
    vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for lo in range(0, len(texts), batch):
        rows = order[lo : lo + batch]
        with COMPUTE.background():  # one batch at a time; questions go first
            vectors[rows] = encoder.encode([texts[i] for i in rows], batch)
        if progress is not None:
            progress(len(rows))
    return vectors


@dataclass
class Prepared:
    """Articles chunked and embedded ahead of the commit, keyed by article id.

    ``chunks[id]`` and ``vectors[id]`` belong to the version of the article whose
    content hash is ``hashes[id]``; ``too_big`` maps the ids of articles over the
    chunk limit (by content hash) to their rejection.
    """

    chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    hashes: dict[str, str] = field(default_factory=dict)
    too_big: dict[tuple[str, str], Rejection] = field(default_factory=dict)

    def has(self, article: Article) -> bool:
        """Whether this version of ``article`` is already chunked (and embedded or refused)."""
        key = (article.article_id, article.content_hash)
        return self.hashes.get(article.article_id) == article.content_hash or key in self.too_big

    def refusal(self, article: Article) -> Rejection | None:
        """The chunk-limit rejection of this version of ``article``, if any."""
        return self.too_big.get((article.article_id, article.content_hash))


def prepare(
    articles: Iterable[Article],
    settings: Settings,
    encoder: Encoder,
    progress: Progress | None = None,
    into: Prepared | None = None,
) -> Prepared:
    """Chunk and embed ``articles`` (no lock needed); refuse those over the chunk limit.

    An article that would make more than ``settings.limits.max_chunks_per_article``
    chunks is not embedded; it is recorded as a :class:`Rejection` naming the
    article (its origin, else its id) and the limit.
    """
    done = into if into is not None else Prepared()
    limit = settings.limits.max_chunks_per_article
    chunking = settings.chunking
    by_id: dict[str, Article] = {}
    todo: list[Chunk] = []
    for article in articles:
        chunks = chunk_article(article, chunking.max_tokens, chunking.overlap_tokens)
        if len(chunks) > limit:
            done.too_big[(article.article_id, article.content_hash)] = Rejection(
                article.origin or article.article_id,
                f"article {article.title[:80]!r} would make {len(chunks)} passages; "
                f"the limit is {limit} per article",
            )
            continue
        by_id[article.article_id] = article
        done.chunks[article.article_id] = chunks
        done.hashes[article.article_id] = article.content_hash
        todo.extend(chunks)
    vectors = embed_chunks(todo, by_id, settings, encoder, progress)
    row = 0
    for article_id in by_id:
        n = len(done.chunks[article_id])
        done.vectors[article_id] = vectors[row : row + n]
        row += n
    return done


def read_paths(
    paths: Iterable[str | Path], settings: Settings
) -> tuple[list[Article], list[Rejection]]:
    """Parse files and folders (recursively) in this process; bad files become rejections."""
    articles: list[Article] = []
    rejected: list[Rejection] = []
    for item in parsing.iter_files(paths):
        if isinstance(item, Rejection):
            rejected.append(item)
            continue
        for result in parsing.read_path(item, settings.ingest.max_file_bytes, settings.limits):
            if isinstance(result, Rejection):
                rejected.append(result)
            else:
                articles.append(result)
    return articles, rejected


class IngestPipeline:
    """Reads inputs and writes what changed into an :class:`~qa.index.Index`.

    ``reader`` and ``preparer`` are where the work runs: in this process by default
    (:func:`read_paths`, :func:`prepare`); :mod:`qa.ingest.distributed` supplies
    Ray versions that give the same articles, chunks and vectors. Planning and the
    commit always run here, under the index's writer lock.
    """

    def __init__(
        self,
        index: Index,
        encoder: Encoder,
        settings: Settings,
        *,
        reader: Reader = read_paths,
        preparer: Preparer = prepare,
    ) -> None:
        self.index = index
        self.encoder = encoder
        self.settings = settings
        self.reader = reader
        self.preparer = preparer

    def add_paths(
        self, paths: str | Path | Iterable[str | Path], progress: Progress | None = None
    ) -> IngestReport:
        """Ingest files and folders (recursively); bad files become rejections."""
        if isinstance(paths, str | Path):
            paths = [paths]
        articles, rejected = self.reader(paths, self.settings)
        return self.add_articles(articles, rejected, progress)

    def add_records(
        self,
        records: Iterable[Mapping[str, Any]],
        origin: str = "api",
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest in-memory records (``id``, ``title``, ``text``, ``date``, ``source``, ``url``)."""
        articles: list[Article] = []
        rejected: list[Rejection] = []
        for n, record in enumerate(records):
            where = f"{origin}[{n}]"
            try:
                articles.append(parsing.article_from_record(record, where))
            except parsing.InputError as exc:
                rejected.append(Rejection(where, str(exc)))
        return self.add_articles(articles, rejected, progress)

    def add_articles(
        self,
        articles: Iterable[Article],
        rejected: Iterable[Rejection] = (),
        progress: Progress | None = None,
    ) -> IngestReport:
        """Add or update parsed articles and commit one new generation (if anything changed).

        The slow part runs without the writer lock: plan against the current
        generation, chunk and embed what it adds. Then, under :meth:`Index.writer`,
        plan again against the state it yields (another writer may have committed
        meanwhile), chunk and embed only what that adds beyond what was already
        done (normally nothing), and commit. Readers never wait: they keep reading
        the old :class:`IndexState` until the commit swaps in the new one.
        Articles over ``settings.limits.max_chunks_per_article`` chunks are
        reported as rejected; nothing already stored is lost.
        """
        articles = list(articles)
        rejected = list(rejected)
        early = plan(self.index.state, articles)
        done = self.preparer(early.fresh.values(), self.settings, self.encoder, progress)
        with self.index.writer() as state:
            todo = plan(state, articles)
            missing = [a for a in todo.fresh.values() if not done.has(a)]
            if missing:
                self.preparer(missing, self.settings, self.encoder, progress, into=done)
            refused = {aid for aid, a in todo.fresh.items() if done.refusal(a) is not None}
            rejected.extend(r for a in todo.fresh.values() if (r := done.refusal(a)) is not None)
            todo.added = [aid for aid in todo.added if aid not in refused]
            todo.updated = [aid for aid in todo.updated if aid not in refused]
            fresh = [a for aid, a in todo.fresh.items() if aid not in refused]
            if fresh:
                chunks = [c for a in fresh for c in done.chunks[a.article_id]]
                vectors = np.concatenate([done.vectors[a.article_id] for a in fresh])
                self.index.commit(fresh=fresh, chunks=chunks, vectors=vectors, deleted=[])
            return todo.report(rejected)

    def delete(self, article_ids: Iterable[str]) -> list[str]:
        """Delete articles by id; returns those that existed."""
        return self.index.delete(list(article_ids))
