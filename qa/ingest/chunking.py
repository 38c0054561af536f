"""Sentence-aware chunking with character offsets into the original text.

Chunks are runs of whole sentences sized for the encoder's 256-token window
(token counts are word-piece estimates), with whole-sentence overlap between
neighbours. A sentence longer than the budget is cut at word boundaries.
Every chunk satisfies ``text[start:end] == chunk_text``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

from qa.ingest.parsing import body_start
from qa.settings import ChunkingSettings
from qa.types import Article, Chunk

# Bump when the chunking algorithm changes: indexes built by another version are refused.
CHUNKER_VERSION = 1


def chunking_signature(settings: ChunkingSettings) -> dict[str, int]:
    """What decides chunk boundaries, as recorded in (and checked against) the manifest."""
    return {
        "chunker_version": CHUNKER_VERSION,
        "chunk_max_tokens": settings.max_tokens,
        "chunk_overlap_tokens": settings.overlap_tokens,
    }


_TOKEN = re.compile(r"\w+|[^\w\s]")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sr",
        "jr",
        "st",
        "mt",
        "gen",
        "col",
        "lt",
        "sgt",
        "capt",
        "gov",
        "sen",
        "rep",
        "rev",
        "fr",
        "inc",
        "ltd",
        "co",
        "corp",
        "vs",
        "etc",
        "no",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "u.s",
        "u.k",
        "e.g",
        "i.e",
        "a.m",
        "p.m",
    ]
)
# A sentence ends at . ! ? (plus closing quotes/brackets) followed by space and
# an upper-case letter, digit or opening quote; or at a blank line. The lookbehind makes
# a match start only at the first mark of a run (same matches, linear time on "!!!...").
_BOUNDARY = re.compile(r"(?<![.!?…])([.!?…]+[\"'”’)\]]*)(\s+)(?=[\"“‘(\[]?[A-Z0-9])|\n\s*\n")


def count_tokens(text: str) -> int:
    """Estimate word-piece tokens: words and punctuation, long words count more."""
    total = 0
    for token in _TOKEN.findall(text):
        total += 1 + len(token) // 8
    return total


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` into sentence offsets (whitespace trimmed)."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for match in _BOUNDARY.finditer(text, start, end):
        if match.group(1):
            cut = match.end(1)
            word = re.search(r"([\w.]+)[.!?…]+[\"'”’)\]]*$", text[max(start, cut - 12) : cut])
            if word and (
                word.group(1).lower().rstrip(".") in _ABBREVIATIONS
                or re.fullmatch(r"[A-Z]", word.group(1))
            ):
                continue
        else:
            cut = match.start()
        _append_trimmed(text, cursor, cut, spans)
        cursor = match.end()
    _append_trimmed(text, cursor, end, spans)
    return spans


def _append_trimmed(text: str, a: int, b: int, out: list[tuple[int, int]]) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append((a, b))


def _split_long(text: str, a: int, b: int, budget: int) -> list[tuple[int, int]]:
    """Cut one over-long sentence into word-aligned pieces within ``budget``."""
    pieces: list[tuple[int, int]] = []
    piece_start = a
    used = 0
    last_end = a
    for match in re.finditer(r"\S+", text[a:b]):
        cost = count_tokens(match.group())
        w_start, w_end = a + match.start(), a + match.end()
        if used + cost > budget and used > 0:
            pieces.append((piece_start, last_end))
            piece_start, used = w_start, 0
        used += cost
        last_end = w_end
    if last_end > piece_start:
        pieces.append((piece_start, last_end))
    return pieces


def chunk_spans(
    text: str, max_tokens: int, overlap_tokens: int, start: int = 0
) -> list[tuple[int, int]]:
    """Group sentences of ``text[start:]`` into overlapping chunk offsets."""
    units: list[tuple[int, int, int]] = []
    for a, b in sentence_spans(text, start):
        cost = count_tokens(text[a:b])
        if cost > max_tokens:
            units.extend(
                (x, y, count_tokens(text[x:y])) for x, y in _split_long(text, a, b, max_tokens)
            )
        else:
            units.append((a, b, cost))
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        used = 0
        j = i
        while j < len(units) and (used + units[j][2] <= max_tokens or j == i):
            used += units[j][2]
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j >= len(units):
            break
        # step back over whole sentences that fit in the overlap budget, as long
        # as the next sentence still fits beside them (so every chunk adds text)
        back = j
        carried = 0
        while (
            back - 1 > i
            and carried + units[back - 1][2] <= overlap_tokens
            and carried + units[back - 1][2] + units[j][2] <= max_tokens
        ):
            back -= 1
            carried += units[back][2]
        i = back
    return chunks


def chunk_id(article_id: str, start: int, end: int, text: str) -> int:
    """Content-derived 63-bit chunk id (usable as a FAISS id)."""
    digest = hashlib.blake2b(f"{article_id}|{start}|{end}|{text}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF


def chunk_article(article: Article, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Split an article's body into :class:`Chunk` objects with exact offsets."""
    spans = chunk_spans(article.text, max_tokens, overlap_tokens, start=body_start(article.text))
    return [
        Chunk(
            chunk_id=chunk_id(article.article_id, a, b, article.text[a:b]),
            article_id=article.article_id,
            ordinal=n,
            start=a,
            end=b,
            text=article.text[a:b],
        )
        for n, (a, b) in enumerate(spans)
    ]


def iter_chunks(articles: list[Article], max_tokens: int, overlap_tokens: int) -> Iterator[Chunk]:
    """Chunks of several articles, in order."""
    for article in articles:
        yield from chunk_article(article, max_tokens, overlap_tokens)


def embedding_text(article: Article, chunk: Chunk) -> str:
    """What the encoder sees: title and date prepended (offsets are unaffected)."""
    head = article.title
    if article.date:
        head = f"{head} ({article.date})"
    if chunk.text.startswith(article.title):
        return chunk.text
    return f"{head}. {chunk.text}"
