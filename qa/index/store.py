"""The SQLite store of articles and chunks (one file per index generation).

Chunk text is not stored: it is always the slice ``article.text[start:end]``,
so a chunk can never disagree with its article.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from qa.types import Article, Chunk

SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id   TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    text         TEXT NOT NULL,
    date         TEXT,
    source       TEXT,
    url          TEXT,
    origin       TEXT,
    content_hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_hash ON articles(content_hash);
CREATE INDEX IF NOT EXISTS articles_date ON articles(date);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id   INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(article_id) ON DELETE CASCADE,
    ordinal    INTEGER NOT NULL,
    start      INTEGER NOT NULL,
    "end"      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
"""


class StoreError(RuntimeError):
    """The SQLite store is missing or damaged."""


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) a store database."""
    conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    return conn


def check(path: Path) -> None:
    """Raise :class:`StoreError` unless ``path`` is a readable, intact store."""
    if not path.is_file():
        raise StoreError(f"{path}: store database is missing")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()
            conn.execute("SELECT count(*) FROM articles").fetchone()
            conn.execute("SELECT count(*) FROM chunks").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: store database is damaged ({exc})") from exc
    if not result or result[0] != "ok":
        raise StoreError(f"{path}: store database failed its integrity check ({result})")


def check_header(path: Path) -> None:
    """Raise :class:`StoreError` unless ``path`` starts as an SQLite file with both tables.

    The quick check for a large store at open (reads a few pages); :func:`check`
    reads all of it.
    """
    try:
        with open(path, "rb") as handle:
            magic = handle.read(16)
        if magic != b"SQLite format 3\x00":
            raise StoreError(f"{path}: not an SQLite database")
        conn = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except (OSError, sqlite3.DatabaseError) as exc:
        raise StoreError(f"{path}: store database is damaged ({exc})") from exc
    if not {"articles", "chunks"} <= tables:
        raise StoreError(f"{path}: store database lacks its tables")


def load_articles(conn: sqlite3.Connection) -> dict[str, Article]:
    """All articles by id."""
    rows = conn.execute(
        "SELECT article_id, title, text, date, source, url, origin, content_hash FROM articles"
    )
    return {row[0]: Article(*row) for row in rows}


def load_chunks(conn: sqlite3.Connection, articles: dict[str, Article]) -> dict[int, Chunk]:
    """All chunks by id, with text sliced from their articles."""
    chunks: dict[int, Chunk] = {}
    for chunk_id, article_id, ordinal, start, end in conn.execute(
        'SELECT chunk_id, article_id, ordinal, start, "end" FROM chunks '
        "ORDER BY article_id, ordinal"
    ):
        text = articles[article_id].text[start:end]
        chunks[chunk_id] = Chunk(chunk_id, article_id, ordinal, start, end, text)
    return chunks


def put_article(conn: sqlite3.Connection, article: Article, chunks: Iterable[Chunk]) -> None:
    """Insert or replace an article and its chunks (old chunks are removed)."""
    conn.execute("DELETE FROM chunks WHERE article_id = ?", (article.article_id,))
    conn.execute(
        "INSERT OR REPLACE INTO articles VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            article.article_id,
            article.title,
            article.text,
            article.date,
            article.source,
            article.url,
            article.origin,
            article.content_hash,
        ),
    )
    conn.executemany(
        'INSERT INTO chunks (chunk_id, article_id, ordinal, start, "end") VALUES (?, ?, ?, ?, ?)',
        [(c.chunk_id, c.article_id, c.ordinal, c.start, c.end) for c in chunks],
    )


def absorb(conn: sqlite3.Connection, other: Path) -> None:
    """Copy every article and chunk of the store at ``other`` into ``conn``'s store."""
    conn.execute("ATTACH DATABASE ? AS other", (f"file:{other}?mode=ro",))
    try:
        conn.execute("INSERT INTO articles SELECT * FROM other.articles")
        conn.execute("INSERT INTO chunks SELECT * FROM other.chunks")
    finally:
        conn.commit()
        conn.execute("DETACH DATABASE other")


def chunk_ids_of(conn: sqlite3.Connection, article_id: str) -> list[int]:
    """Ids of the chunks an article has now."""
    return [
        r[0]
        for r in conn.execute("SELECT chunk_id FROM chunks WHERE article_id = ?", (article_id,))
    ]


def delete_article(conn: sqlite3.Connection, article_id: str) -> list[int]:
    """Delete an article; returns the ids of the chunks it had."""
    ids = chunk_ids_of(conn, article_id)
    conn.execute("DELETE FROM chunks WHERE article_id = ?", (article_id,))
    conn.execute("DELETE FROM articles WHERE article_id = ?", (article_id,))
    return ids
