"""A generation's articles and chunks over all its segments, as ``Mapping`` views.

A generation is one or more segments (docs/index-format.md), each with its own store;
an article lives in exactly one of them. :class:`Rows` answers for all of them
together, and :class:`ArticleRows`, :class:`ChunkRows` and :class:`HashRows` are the
dict-like views readers use (``state.articles[id]``, ``id in state.chunks``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, ItemsView, Iterable, Iterator, Mapping, ValuesView

import numpy as np

from qa.index.rows import StoreRows
from qa.types import Article, Chunk, Filters


class Rows:
    """The rows of several segment stores, read as one (newest segment first).

    Args:
        stores: One :class:`StoreRows` per segment.

    """

    def __init__(self, stores: list[StoreRows]) -> None:
        self.stores = list(stores)
        self.articles = ArticleRows(self)
        self.chunks = ChunkRows(self)
        self.by_hash = HashRows(self)

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]:
        """The stored articles among ``ids``, by id."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Article] = {}
        for store in self.stores:
            missing = [a for a in wanted if a not in found]
            if not missing:
                break
            found.update(store.articles_by_id(missing))
        return found

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, Chunk]:
        """The stored chunks among ``ids``, by id."""
        wanted = [int(i) for i in dict.fromkeys(ids)]
        found: dict[int, Chunk] = {}
        for store in self.stores:
            missing = [i for i in wanted if i not in found]
            if not missing:
                break
            found.update(store.chunks_by_id(missing))
        return found

    def iter_articles(self) -> Iterator[Article]:
        """Every article, segment by segment."""
        return itertools.chain.from_iterable(s.iter_articles() for s in self.stores)

    def iter_passages(self) -> Iterator[tuple[Article, Chunk]]:
        """Every chunk with its article, segment by segment."""
        return itertools.chain.from_iterable(s.iter_passages() for s in self.stores)

    def chunk_ids(self, filters: Filters | None = None) -> np.ndarray:
        """Ids of the chunks whose articles pass ``filters``, sorted."""
        parts = [s.chunk_ids(filters) for s in self.stores]
        return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def count(self, table: str) -> int:
        """Rows in ``table`` over all segments."""
        return sum(s.count(table) for s in self.stores)

    def dates(self) -> tuple[str | None, str | None, int]:
        """``(oldest, newest, undated)`` of the articles' dates."""
        found = [s.dates() for s in self.stores]
        oldest = [d[0] for d in found if d[0] is not None]
        newest = [d[1] for d in found if d[1] is not None]
        return (
            min(oldest) if oldest else None,
            max(newest) if newest else None,
            sum(d[2] for d in found),
        )


class _StreamedValues(ValuesView):  # type: ignore[type-arg]
    """``values()`` of a view, read in one pass instead of one query per key."""

    def __init__(self, mapping: Mapping, stream: Callable[[], Iterator]) -> None:  # type: ignore[type-arg]
        super().__init__(mapping)
        self._stream = stream

    def __iter__(self) -> Iterator:  # type: ignore[type-arg]
        return self._stream()


class _StreamedItems(ItemsView):  # type: ignore[type-arg]
    """``items()`` of a view, read in one pass instead of one query per key."""

    def __init__(self, mapping: Mapping, stream: Callable[[], Iterator]) -> None:  # type: ignore[type-arg]
        super().__init__(mapping)
        self._stream = stream

    def __iter__(self) -> Iterator:  # type: ignore[type-arg]
        return self._stream()


class ArticleRows(Mapping[str, Article]):
    """The generation's articles by id, read on demand."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self._len: int | None = None

    def __getitem__(self, article_id: str) -> Article:
        found = self._rows.articles_by_id([article_id]) if isinstance(article_id, str) else {}
        if article_id not in found:
            raise KeyError(article_id)
        return found[article_id]

    def __contains__(self, article_id: object) -> bool:
        return isinstance(article_id, str) and any(
            s.has_article(article_id) for s in self._rows.stores
        )

    def __iter__(self) -> Iterator[str]:
        return (a.article_id for a in self._rows.iter_articles())

    def __len__(self) -> int:
        if self._len is None:
            self._len = self._rows.count("articles")
        return self._len

    def values(self) -> ValuesView[Article]:
        """Every article, read in pages."""
        return _StreamedValues(self, self._rows.iter_articles)

    def items(self) -> ItemsView[str, Article]:
        """Every ``(id, article)``, read in pages."""
        return _StreamedItems(self, lambda: ((a.article_id, a) for a in self._rows.iter_articles()))


class ChunkRows(Mapping[int, Chunk]):
    """The generation's chunks by id, read on demand."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows
        self._len: int | None = None

    def __getitem__(self, chunk_id: int) -> Chunk:
        found = self._rows.chunks_by_id([chunk_id]).get(int(chunk_id))
        if found is None:
            raise KeyError(chunk_id)
        return found

    def __contains__(self, chunk_id: object) -> bool:
        return isinstance(chunk_id, int | np.integer) and any(
            s.has_chunk(int(chunk_id)) for s in self._rows.stores
        )

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.chunk_ids().tolist())

    def __len__(self) -> int:
        if self._len is None:
            self._len = self._rows.count("chunks")
        return self._len

    def values(self) -> ValuesView[Chunk]:
        """Every chunk, read article by article."""
        return _StreamedValues(self, lambda: (c for _, c in self._rows.iter_passages()))

    def items(self) -> ItemsView[int, Chunk]:
        """Every ``(id, chunk)``, read article by article."""
        return _StreamedItems(
            self, lambda: ((c.chunk_id, c) for _, c in self._rows.iter_passages())
        )


class HashRows(Mapping[str, str]):
    """Article ids by content hash (to find an identical text under another id)."""

    def __init__(self, rows: Rows) -> None:
        self._rows = rows

    def __getitem__(self, content_hash: str) -> str:
        for store in self._rows.stores:
            found = store.article_by_hash(content_hash)
            if found is not None:
                return found
        raise KeyError(content_hash)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(h for s in self._rows.stores for h in s.hashes()))

    def __len__(self) -> int:
        return sum(1 for _ in self)
