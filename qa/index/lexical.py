"""BM25 over a generation's chunks: built at commit, saved beside the store, memory-mapped.

Each chunk is one BM25 document, its article's title and its text. The model is
``bm25s``'s (sparse matrices in ``.npy`` files and a JSON vocabulary: no pickles),
with ``chunk_ids.npy`` mapping document positions to chunk ids (sorted ids, so the
order, and ties, are the same however the index was built). Opening maps the
matrices instead of reading them: a question reads only its terms' columns.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from qa.types import Article, Chunk

IDS = "chunk_ids.npy"


def document(article: Article, chunk: Chunk) -> str:
    """The text BM25 indexes for ``chunk``: its article's title, then the chunk."""
    return f"{article.title}\n{chunk.text}"


def build(passages: Iterable[tuple[Article, Chunk]]) -> tuple[Any, np.ndarray]:
    """A BM25 model over ``passages`` and its document -> chunk id array (sorted ids)."""
    import bm25s

    docs = sorted((chunk.chunk_id, document(article, chunk)) for article, chunk in passages)
    ids = np.array([cid for cid, _ in docs], dtype=np.int64)
    model = bm25s.BM25()
    if docs:
        texts = [text for _, text in docs]
        del docs
        model.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
    return model, ids


def save(model: Any, ids: np.ndarray, folder: Path) -> list[Path]:
    """Write ``model`` and ``ids`` into ``folder``; returns the files written."""
    folder.mkdir(parents=True, exist_ok=True)
    if len(ids):
        model.save(str(folder), show_progress=False, allow_pickle=False)
    np.save(folder / IDS, np.ascontiguousarray(ids, dtype=np.int64), allow_pickle=False)
    return sorted(p for p in folder.iterdir() if p.is_file())


def load(folder: Path) -> tuple[Any, np.ndarray]:
    """Open a model written by :func:`save`, its matrices memory-mapped.

    Raises:
        ValueError: If the files are missing or unreadable.

    """
    import bm25s

    try:
        ids = np.load(folder / IDS, mmap_mode="r", allow_pickle=False)
        if not len(ids):
            return bm25s.BM25(), np.zeros(0, dtype=np.int64)
        model = bm25s.BM25.load(str(folder), mmap=True, show_progress=False, verbosity=0)
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"{folder}: cannot read the BM25 files ({exc})") from exc
    return model, ids
