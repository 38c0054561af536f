"""The domain types of the assistant: one frozen dataclass per concept.

Every ``start``/``end`` pair is a character offset into the owning article's
original ``text``: ``article.text[start:end]`` is the chunk text, the quote or
the answer. Nothing here is mutable and nothing carries an untyped meta dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Article:
    """A news article as stored in the index.

    Attributes:
        article_id: Content-derived id (hex), stable across re-ingests.
        title: Headline, or the lead sentence when the input had none.
        text: The original article text; every offset points into it.
        date: ISO date (``YYYY-MM-DD``) or ``None`` when unknown.
        source: Publisher or wire service (e.g. ``Yonhap``), or ``None``.
        url: Canonical URL, or ``None``.
        origin: Where it was read from (file path, ``path:line`` for JSONL).
        content_hash: Hash of title, text, date, source and url; a change
            means the article was updated.

    """

    article_id: str
    title: str
    text: str
    date: str | None = None
    source: str | None = None
    url: str | None = None
    origin: str | None = None
    content_hash: str = ""


@dataclass(frozen=True)
class Chunk:
    """A contiguous passage of an article: ``article.text[start:end] == text``."""

    chunk_id: int
    article_id: str
    ordinal: int
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its retrieval scores.

    Attributes:
        chunk: The passage.
        article: The article it belongs to.
        score: Fused retrieval score in [0, 1] (1 = ranked first by every retriever).
        rank: 0-based position in the fused ranking.
        dense_score: Cosine similarity with the question, or ``None`` if the
            dense retriever did not return this chunk.
        bm25_score: Raw BM25 score, or ``None`` if BM25 did not return it.

    """

    chunk: Chunk
    article: Article
    score: float
    rank: int
    dense_score: float | None = None
    bm25_score: float | None = None


@dataclass(frozen=True)
class Span:
    """An answer candidate found by an extractor inside one chunk.

    ``start``/``end`` are offsets into the *article* text (the extractor adds
    the chunk start), so ``hit.article.text[start:end] == text``.
    """

    text: str
    start: int
    end: int
    score: float
    hit: Hit


@dataclass(frozen=True)
class Citation:
    """Where an answer comes from, with enough to highlight it.

    Attributes:
        article_id: Id of the cited article.
        title: Article title.
        date: Article date (ISO) or ``None``.
        source: Article source or ``None``.
        url: Article URL or ``None``.
        start: Start of the answer (or quoted passage) in the article text.
        end: End of the answer in the article text.
        quote: ``article.text[start:end]``.
        passage: The chunk text that holds the quote.
        passage_start: Start of the passage in the article text.
        passage_end: End of the passage in the article text.
        score: Confidence of this citation in [0, 1].

    """

    article_id: str
    title: str
    date: str | None
    source: str | None
    url: str | None
    start: int
    end: int
    quote: str
    passage: str
    passage_start: int
    passage_end: int
    score: float

    @property
    def highlight(self) -> tuple[int, int]:
        """The quote's offsets relative to the passage, for highlighting."""
        return self.start - self.passage_start, self.end - self.passage_start


@dataclass(frozen=True)
class Answer:
    """The assistant's reply to one question.

    Attributes:
        question: The question as asked.
        text: The exact answer span, or ``None`` when the articles do not
            hold an answer above the confidence threshold.
        score: Confidence in [0, 1].
        citations: Where the answer was found (best first). For a ``None``
            answer this is empty.
        related: For a ``None`` answer, the closest passages (as citations of
            whole passages), so a UI can offer them; empty otherwise.
        extractor: Name of the extractor that produced the answer.

    """

    question: str
    text: str | None
    score: float
    citations: tuple[Citation, ...] = ()
    related: tuple[Citation, ...] = field(default=())
    extractor: str = ""

    @property
    def found(self) -> bool:
        """Whether an answer was found."""
        return self.text is not None


@dataclass(frozen=True)
class Filters:
    """Optional retrieval filters.

    Attributes:
        date_from: Keep articles dated on or after this ISO date.
        date_to: Keep articles dated on or before this ISO date.
        sources: Keep articles whose source is one of these (case-insensitive).
        article_ids: Keep only these articles (e.g. follow-up questions).

    """

    date_from: str | None = None
    date_to: str | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no filter is set."""
        return not (self.date_from or self.date_to or self.sources or self.article_ids)


@dataclass(frozen=True)
class Rejection:
    """An input that could not be ingested, with the reason."""

    origin: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did.

    Attributes:
        added: Ids of new articles.
        updated: Ids of articles whose text changed (old chunks replaced).
        unchanged: Ids of articles already present with the same content.
        rejected: Inputs that were refused, with reasons.

    """

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    rejected: tuple[Rejection, ...] = ()

    def summary(self) -> str:
        """One line: counts of added, updated, unchanged and rejected."""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, rejected {len(self.rejected)}"
        )
