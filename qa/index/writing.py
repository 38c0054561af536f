"""Writing one generation's files: the store, the vectors and BM25 (for ``Index.commit``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.vector_index import VectorIndex
from qa.common.files import fsync_dir, fsync_file
from qa.index import lexical, store
from qa.index import vectors as vector_layout
from qa.index.rows import StoreRows
from qa.settings import IndexSettings
from qa.types import Article, Chunk


@dataclass(frozen=True)
class Base:
    """The committed generation a write builds on.

    Attributes:
        root: The index directory.
        manifest: Its manifest (empty for a new index).
        vectors: Its loaded vectors.
        dimension: The vectors' width.
        layout: Which vector index to build, by size.
    """

    root: Path
    manifest: dict[str, Any]
    vectors: VectorIndex
    dimension: int
    layout: IndexSettings


def write_generation(
    base: Base,
    tmp_dir: Path,
    *,
    fresh: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray | None,
    deleted: list[str],
) -> tuple[tuple[int, int], dict[str, Any]]:
    """Write the generation after ``base`` into ``tmp_dir``, fsynced.

    The store is a copy of the current one with ``deleted`` articles removed and
    ``fresh`` ones put (replacing their old chunks by ``chunks``); the vectors are the
    current ones edited the same way (:func:`next_vectors`); BM25 is built from the
    new store.

    Returns:
        The ``(articles, chunks)`` counts and the manifest's ``vectors`` entry.

    """
    if tmp_dir.exists():
        shutil.rmtree(tmp_dir)
    tmp_dir.mkdir(parents=True)
    old_store = base.root / base.manifest["files"]["store"]["path"] if base.manifest else None
    new_store = tmp_dir / "store.sqlite"
    if old_store is not None:
        shutil.copyfile(old_store, new_store)
    conn = store.connect(new_store)
    removed_ids: list[int] = []
    try:
        with conn:
            for article_id in deleted:
                removed_ids.extend(store.delete_article(conn, article_id))
            by_article: dict[str, list[Chunk]] = {}
            for chunk in chunks:
                by_article.setdefault(chunk.article_id, []).append(chunk)
            for article in fresh:
                removed_ids.extend(store.chunk_ids_of(conn, article.article_id))
                store.put_article(conn, article, by_article.get(article.article_id, []))
        conn.execute("VACUUM")
    finally:
        conn.close()
    index = next_vectors(base, removed_ids, chunks, vectors)
    index.save(tmp_dir / "vectors.faiss")
    rows = StoreRows(new_store)
    try:
        counts = (len(rows.articles), len(rows.chunks))
        model, bm25_ids = lexical.build(rows.iter_passages())
    finally:
        rows.close()
    written = lexical.save(model, bm25_ids, tmp_dir / "bm25")
    for path in (tmp_dir / "vectors.faiss", new_store, *written):
        fsync_file(path)
    fsync_dir(tmp_dir / "bm25")
    fsync_dir(tmp_dir)
    return counts, vector_layout.describe(index)


def next_vectors(
    base: Base, removed_ids: list[int], chunks: list[Chunk], vectors: np.ndarray | None
) -> VectorIndex:
    """The current vectors with ``removed_ids`` out and ``chunks`` in, of the right kind."""
    current = base.vectors
    if current.kind == "ivf":  # memory-mapped, read-only: read a writable copy
        index = VectorIndex.load(
            base.root / base.manifest["files"]["vectors"]["path"],
            base.dimension,
            nprobe=base.layout.ivf_nprobe,
        )
    else:
        index = current.clone()
    index.remove(removed_ids)
    if vectors is not None and len(chunks):
        index.add(np.array([c.chunk_id for c in chunks], dtype=np.int64), vectors)
    return vector_layout.fit(index, base.layout)
