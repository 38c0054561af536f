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


def _idf(df: np.ndarray | float, n: int) -> np.ndarray | float:
    """bm25s's default ("lucene") inverse document frequency."""
    return np.log(1.0 + (n - df + 0.5) / (df + 0.5))


class Lexical:
    """BM25 over one or more segments, scored as one collection.

    With one segment this is exactly ``bm25s``'s score. With several, each term's
    contribution in a segment is rescaled from the segment's IDF to the IDF of all
    segments together (document frequencies and counts summed), so scores compare
    across segments; only the length normalisation stays per segment (each segment's
    average chunk length).

    Args:
        parts: ``(model, doc -> chunk ids)`` per segment.

    """

    def __init__(self, parts: list[tuple[Any, np.ndarray]]) -> None:
        self.parts = [(m, ids) for m, ids in parts if len(ids)]
        self._matrices: list[Any] = [None] * len(self.parts)

    def _column_sums(self, part: int, tids: list[int], weights: list[float]) -> np.ndarray:
        """``sum_j weights[j] * column(tids[j])`` of a part's BM25 matrix (documents x terms).

        The columns are summed by SciPy's compiled sparse product, in the order bm25s's
        own ``get_scores`` adds them (term by term, each term's postings in order), in
        float32: with unit weights the result is bit-identical to it, about twice as fast.
        """
        model, ids = self.parts[part]
        if not tids:
            return np.zeros(len(ids), dtype=np.float32)
        if self._matrices[part] is None:
            import scipy.sparse

            scores = model.scores
            self._matrices[part] = scipy.sparse.csc_matrix(
                (scores["data"], scores["indices"], scores["indptr"]),
                shape=(int(scores["num_docs"]), len(scores["indptr"]) - 1),
                copy=False,
            )
        columns = self._matrices[part][:, tids]
        return np.asarray(columns @ np.asarray(weights, dtype=np.float32), dtype=np.float32)

    def term_stats(self, tokens: list[str]) -> tuple[int, list[float]]:
        """``(documents, document frequency of each token)`` over every segment.

        What a caller that searches several indexes (shards) sums to score them as one
        collection: pass the sums back as ``stats`` to :meth:`scores` / :meth:`search`.
        """
        df = [0.0] * len(tokens)
        for model, _ in self.parts:
            indptr = model.scores["indptr"]
            for j, token in enumerate(tokens):
                tid = model.vocab_dict.get(token)
                if tid is not None:
                    df[j] += float(indptr[tid + 1] - indptr[tid])
        return sum(len(ids) for _, ids in self.parts), df

    def scores(
        self, tokens: list[str], stats: tuple[int, list[float]] | None = None
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """``(chunk ids, scores)`` per segment for the query ``tokens``.

        Args:
            tokens: The query's terms.
            stats: ``(documents, document frequencies)`` of the whole collection when it
                is larger than this index (shards: :meth:`term_stats` summed); default:
                this index's own.

        """
        if len(self.parts) == 1 and stats is None:
            model, ids = self.parts[0]
            tids = [model.vocab_dict[t] for t in tokens if t in model.vocab_dict]
            return [(ids, self._column_sums(0, tids, [1.0] * len(tids)))]
        n_total, df_total = stats if stats is not None else self.term_stats(tokens)
        out = []
        for part, (model, ids) in enumerate(self.parts):
            indptr = model.scores["indptr"]
            tids, weights = [], []
            for j, token in enumerate(tokens):
                tid = model.vocab_dict.get(token)
                if tid is None or not df_total[j]:
                    continue
                df = float(indptr[tid + 1] - indptr[tid])
                if not df:
                    continue
                tids.append(tid)
                weights.append(float(_idf(df_total[j], n_total) / _idf(df, len(ids))))
            out.append((ids, self._column_sums(part, tids, weights)))
        return out

    def search(
        self,
        tokens: list[str],
        k: int,
        allowed: np.ndarray | None,
        stats: tuple[int, list[float]] | None = None,
    ) -> list[tuple[int, float]]:
        """Top-``k`` chunks by BM25 (positive scores only), best first; ``stats``: see scores."""
        ids_parts, score_parts = [], []
        for ids, scores in self.scores(tokens, stats):
            if allowed is not None:
                scores = np.where(np.isin(ids, allowed, assume_unique=True), scores, 0.0)
            ids_parts.append(ids)
            score_parts.append(scores)
        if not ids_parts:
            return []
        ids = np.concatenate(ids_parts) if len(ids_parts) > 1 else ids_parts[0]
        scores = np.concatenate(score_parts) if len(score_parts) > 1 else score_parts[0]
        k = min(k, len(scores))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(int(ids[i]), float(scores[i])) for i in top if scores[i] > 0]
