"""Articles and chunks read from a generation's SQLite store on demand.

An index of a million chunks cannot hold every article in Python objects (that was
about 10 GB). A loaded generation keeps one read-only connection to its store and
reads the rows a question needs, with a small cache of recent articles. The views
are ``Mapping`` objects, so readers use them as they used dicts.

A committed generation's files never change (a write makes a new generation), so
the connection is opened ``immutable``: no locks, no journal. It is opened when the
generation is loaded and kept, so the rows stay readable even after a later commit
removes the generation's folder (the open file outlives its name).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from qa.types import Article, Chunk, Filters

ARTICLE_CACHE = 2048
"""How many recently read articles a generation keeps (their texts back every chunk)."""

_ARTICLE_COLUMNS = "article_id, title, text, date, source, url, origin, content_hash"
_CHUNK_COLUMNS = 'chunk_id, article_id, ordinal, start, "end"'
_BATCH = 500  # ids per IN (...) query, under SQLite's variable limit


class StoreRows:
    """One read-only connection to a generation's store, shared by its views.

    Args:
        path: The generation's ``store.sqlite``.

    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(
            f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False
        )
        self._lock = threading.Lock()
        self._articles: OrderedDict[str, Article] = OrderedDict()

    def query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        """All rows of ``sql`` (serialised: one connection, many reader threads)."""
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def count(self, table: str) -> int:
        """Rows in ``table`` (``articles`` or ``chunks``)."""
        return int(self.query(f"SELECT count(*) FROM {table}")[0][0])

    def articles_by_id(self, ids: Iterable[str]) -> dict[str, Article]:
        """The stored articles among ``ids``, by id (recent ones come from the cache)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, Article] = {}
        with self._lock:
            for aid in wanted:
                hit = self._articles.get(aid)
                if hit is not None:
                    self._articles.move_to_end(aid)
                    found[aid] = hit
        missing = [aid for aid in wanted if aid not in found]
        for lo in range(0, len(missing), _BATCH):
            part = missing[lo : lo + _BATCH]
            marks = ",".join("?" * len(part))
            for row in self.query(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE article_id IN ({marks})", part
            ):
                found[row[0]] = Article(*row)
        with self._lock:
            for aid in missing:
                if aid in found:
                    self._articles[aid] = found[aid]
            while len(self._articles) > ARTICLE_CACHE:
                self._articles.popitem(last=False)
        return found

    def chunks_by_id(self, ids: Iterable[int]) -> dict[int, Chunk]:
        """The stored chunks among ``ids``, by id, text sliced from their articles."""
        wanted = [int(i) for i in dict.fromkeys(ids)]
        rows: list[tuple] = []
        for lo in range(0, len(wanted), _BATCH):
            part = wanted[lo : lo + _BATCH]
            marks = ",".join("?" * len(part))
            rows.extend(
                self.query(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE chunk_id IN ({marks})", part)
            )
        articles = self.articles_by_id(r[1] for r in rows)
        return {
            cid: Chunk(cid, aid, ordinal, start, end, articles[aid].text[start:end])
            for cid, aid, ordinal, start, end in rows
        }

    def iter_articles(self) -> Iterator[Article]:
        """Every article, in id order, read in pages (not cached)."""
        for page in self._article_pages():
            yield from page

    def _article_pages(self) -> Iterator[list[Article]]:
        last = ""
        while True:
            rows = self.query(
                f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE article_id > ? "
                f"ORDER BY article_id LIMIT {_BATCH}",
                (last,),
            )
            if not rows:
                return
            yield [Article(*row) for row in rows]
            last = rows[-1][0]

    def iter_passages(self) -> Iterator[tuple[Article, Chunk]]:
        """Every chunk with its article, article by article (in id order), read in pages."""
        for page in self._article_pages():
            by_id = {a.article_id: a for a in page}
            marks = ",".join("?" * len(page))
            for cid, aid, ordinal, start, end in self.query(
                f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE article_id IN ({marks}) "
                "ORDER BY article_id, ordinal",
                list(by_id),
            ):
                article = by_id[aid]
                yield article, Chunk(cid, aid, ordinal, start, end, article.text[start:end])

    def chunk_ids(self, filters: Filters | None = None) -> np.ndarray:
        """Ids of the chunks whose articles pass ``filters`` (all when ``None``), sorted.

        Dates, sources and article ids are selected in SQL (``articles_date`` and
        ``chunks_article`` indexes) with the semantics of :meth:`Filters.admits`.
        """
        where: list[str] = []
        params: list[object] = []
        if filters is not None and not filters.empty:
            if filters.date_from or filters.date_to:
                bounds = []
                if filters.date_from:
                    bounds.append("a.date >= ?")
                    params.append(filters.date_from)
                if filters.date_to:
                    bounds.append("a.date <= ?")
                    params.append(filters.date_to)
                dated = " AND ".join(bounds)
                where.append(
                    f"((a.date IS NOT NULL AND {dated}) OR a.date IS NULL)"
                    if filters.keep_undated
                    else f"(a.date IS NOT NULL AND {dated})"
                )
            if filters.sources:
                wanted = {s.lower() for s in filters.sources}
                names = [
                    r[0]
                    for r in self.query("SELECT DISTINCT source FROM articles")
                    if r[0] is not None and r[0].lower() in wanted
                ]
                where.append(f"a.source IN ({','.join('?' * len(names))})" if names else "0")
                params.extend(names)
            if filters.article_ids:
                ids = list(dict.fromkeys(filters.article_ids))
                where.append(f"a.article_id IN ({','.join('?' * len(ids))})")
                params.extend(ids)
        sql = "SELECT c.chunk_id FROM chunks c"
        if where:
            sql += " JOIN articles a ON a.article_id = c.article_id WHERE " + " AND ".join(where)
        with self._lock:  # streamed: a million ids without a million row tuples
            cursor = self._conn.execute(sql + " ORDER BY c.chunk_id", tuple(params))
            return np.fromiter((r[0] for r in cursor), dtype=np.int64)

    def has_article(self, article_id: str) -> bool:
        """Whether the store holds ``article_id``."""
        return bool(self.query("SELECT 1 FROM articles WHERE article_id = ?", (article_id,)))

    def has_chunk(self, chunk_id: int) -> bool:
        """Whether the store holds ``chunk_id``."""
        return bool(self.query("SELECT 1 FROM chunks WHERE chunk_id = ?", (int(chunk_id),)))

    def article_by_hash(self, content_hash: str) -> str | None:
        """The id of an article with this content hash, if any."""
        rows = self.query(
            "SELECT article_id FROM articles WHERE content_hash = ? LIMIT 1", (content_hash,)
        )
        return str(rows[0][0]) if rows else None

    def hashes(self) -> list[str]:
        """Every content hash (once each)."""
        return [r[0] for r in self.query("SELECT DISTINCT content_hash FROM articles")]

    def dates(self) -> tuple[str | None, str | None, int]:
        """``(oldest, newest, undated)`` of the articles' dates."""
        oldest, newest, undated = self.query(
            "SELECT min(date), max(date), coalesce(sum(date IS NULL), 0) FROM articles"
        )[0]
        return oldest, newest, int(undated)

    def close(self) -> None:
        """Close the connection (the views stop working)."""
        with self._lock:
            self._conn.close()
