"""The ingest pipeline: parsed articles -> what changed -> chunks -> vectors -> commit.

Under the index's writer lock it compares each article with what is stored
(content-derived ids: an unchanged article is skipped, a changed one replaces its
old chunks, an identical text under another id is a duplicate), chunks and embeds
only what is new, and commits one new generation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from qa.index import Index, IndexState
from qa.ingest import parsing
from qa.ingest.chunking import chunk_article, embedding_text
from qa.settings import Settings
from qa.types import Article, Chunk, IngestReport, Rejection

Progress = Callable[[int], None]


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
    texts = [embedding_text(by_id[c.article_id], c) for c in chunks]
    batch = settings.ingest.encode_batch_size
    vectors = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
    for lo in range(0, len(texts), batch):
        vectors[lo : lo + batch] = encoder.encode(texts[lo : lo + batch], batch)
        if progress is not None:
            progress(min(batch, len(texts) - lo))
    return chunks, vectors


class IngestPipeline:
    """Reads inputs and writes what changed into an :class:`~qa.index.Index`."""

    def __init__(self, index: Index, encoder: Encoder, settings: Settings) -> None:
        self.index = index
        self.encoder = encoder
        self.settings = settings

    def add_paths(
        self, paths: str | Path | Iterable[str | Path], progress: Progress | None = None
    ) -> IngestReport:
        """Ingest files and folders (recursively); bad files become rejections."""
        if isinstance(paths, str | Path):
            paths = [paths]
        articles: list[Article] = []
        rejected: list[Rejection] = []
        for item in parsing.iter_files(paths):
            if isinstance(item, Rejection):
                rejected.append(item)
                continue
            for result in parsing.read_path(item, self.settings.ingest.max_file_bytes):
                if isinstance(result, Rejection):
                    rejected.append(result)
                else:
                    articles.append(result)
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
        """Add or update parsed articles and commit one new generation (if anything changed)."""
        with self.index.writer() as state:
            todo = plan(state, articles)
            if todo.fresh:
                fresh = list(todo.fresh.values())
                chunks, vectors = chunk_and_embed(fresh, self.settings, self.encoder, progress)
                self.index.commit(fresh=fresh, chunks=chunks, vectors=vectors, deleted=[])
            return todo.report(rejected)

    def delete(self, article_ids: Iterable[str]) -> list[str]:
        """Delete articles by id; returns those that existed."""
        return self.index.delete(list(article_ids))
