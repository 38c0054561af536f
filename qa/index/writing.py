"""Writing one segment's files: the store, the vectors and BM25 (for ``Index.commit``)."""

from __future__ import annotations

import shutil
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


def write_segment(
    root: Path,
    out_dir: Path,
    sources: list[dict[str, Any]],
    *,
    fresh: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray | None,
    drop: set[str],
    dimension: int,
    layout: IndexSettings,
) -> tuple[int, int, dict[str, Any]]:
    """Write one segment into ``out_dir``, fsynced: ``sources`` merged, then edited.

    The segment holds every article of the ``sources`` segments (manifest entries)
    except those in ``drop`` and the ``fresh`` ones, then the ``fresh`` articles with
    their ``chunks`` and ``vectors``. Its vectors start from the largest source's
    (read writable) and take the others' (decoded if IVF), then
    :func:`~qa.index.vectors.fit` picks their kind; BM25 is built from the new store.

    Returns:
        ``(articles, chunks, vectors entry of the manifest)``.

    """
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    ordered = sorted(sources, key=lambda seg: -int(seg["counts"]["chunks"]))
    new_store = out_dir / "store.sqlite"
    if ordered:
        shutil.copyfile(root / ordered[0]["files"]["store"]["path"], new_store)
    conn = store.connect(new_store)
    try:
        with conn:
            for other in ordered[1:]:
                store.absorb(conn, root / other["files"]["store"]["path"])
        gone = drop | {a.article_id for a in fresh}
        with conn:
            removed = [cid for aid in gone for cid in store.delete_article(conn, aid)]
            by_article: dict[str, list[Chunk]] = {}
            for chunk in chunks:
                by_article.setdefault(chunk.article_id, []).append(chunk)
            for article in fresh:
                store.put_article(conn, article, by_article.get(article.article_id, []))
        if removed:
            conn.execute("VACUUM")
    finally:
        conn.close()
    index = _merged_vectors(root, ordered, removed, dimension, layout)
    if vectors is not None and len(chunks):
        index.add(np.array([c.chunk_id for c in chunks], dtype=np.int64), vectors)
    index = vector_layout.fit(index, layout)
    index.save(out_dir / "vectors.faiss")
    rows = StoreRows(new_store)
    try:
        n_articles, n_chunks = rows.count("articles"), rows.count("chunks")
        model, bm25_ids = lexical.build(rows.iter_passages())
    finally:
        rows.close()
    written = lexical.save(model, bm25_ids, out_dir / "bm25")
    for path in (out_dir / "vectors.faiss", new_store, *written):
        fsync_file(path)
    fsync_dir(out_dir / "bm25")
    fsync_dir(out_dir)
    return n_articles, n_chunks, vector_layout.describe(index)


def _merged_vectors(
    root: Path,
    ordered: list[dict[str, Any]],
    removed: list[int],
    dimension: int,
    layout: IndexSettings,
) -> VectorIndex:
    """The sources' vectors in one writable index, without ``removed``."""
    if not ordered:
        return VectorIndex(dimension, nprobe=layout.ivf_nprobe)
    index = VectorIndex.load(
        root / ordered[0]["files"]["vectors"]["path"], dimension, nprobe=layout.ivf_nprobe
    )
    index.remove(removed)
    for other in ordered[1:]:
        part = VectorIndex.load(root / other["files"]["vectors"]["path"], dimension, mmap=True)
        ids, vectors = part.all_vectors()
        keep = ~np.isin(ids, np.asarray(removed, dtype=np.int64))
        index.add(ids[keep], vectors[keep])
    return index
