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

    Attributes:
        text: The span.
        start: Start offset in the article text.
        end: End offset in the article text.
        score: The extractor's score in [0, 1].
        hit: The retrieved passage it was read from.
        logit: For a neural reader, the span's start + end logit (else ``None``).
        null_logit: For a neural reader, the window's no-answer ([CLS]) start + end
            logit (else ``None``).

    """

    text: str
    start: int
    end: int
    score: float
    hit: Hit
    logit: float | None = None
    null_logit: float | None = None


@dataclass(frozen=True)
class Candidate:
    """One possible answer: a normalised text and every span that gives it.

    Attributes:
        key: The normalised answer text (equal answers share it).
        spans: The spans that give it, best first (each cleaned of edge punctuation).
        raw_scores: Each span's composed score (extractor x support x retrieval).
        features: Its calibration features (names in ``qa.answer.features.FEATURES``).

    """

    key: str
    spans: tuple[Span, ...]
    raw_scores: tuple[float, ...]
    features: tuple[float, ...] = ()

    @property
    def text(self) -> str:
        """The best span's text."""
        return self.spans[0].text

    @property
    def raw(self) -> float:
        """The best span's composed score."""
        return self.raw_scores[0]


@dataclass(frozen=True)
class When:
    """A time expression resolved against its article's date.

    Attributes:
        phrase: The expression as written ("on Tuesday", "last week", "in March").
        start: First day it covers (ISO ``YYYY-MM-DD``).
        end: Last day it covers (ISO); equal to ``start`` for a single day.
        anchor: The article date it was resolved against (ISO).
        granularity: ``day``, ``week``, ``month``, ``quarter`` or ``year``.

    """

    phrase: str
    start: str
    end: str
    anchor: str
    granularity: str = "day"

    @property
    def single_day(self) -> bool:
        """Whether it names one day."""
        return self.start == self.end


@dataclass(frozen=True)
class TimeScope:
    """The time a question asks about, as a date filter or a preference.

    Attributes:
        date_from: First article date to keep (ISO), or ``None`` for no lower bound.
        date_to: Last article date to keep (ISO), or ``None`` for no upper bound.
        prefer_latest: The question asks about the present ("who is", "current").
        phrase: The question words the scope came from, or ``None``.

    """

    date_from: str | None
    date_to: str | None
    prefer_latest: bool
    phrase: str | None


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
class OtherAnswer:
    """What another article answers to the same question (a timeline entry).

    Attributes:
        text: Its answer span.
        score: Its confidence.
        citation: Where it is said (article, date, source, passage).
        when: The time its sentence names, resolved against its article's date.
        conflict: Dated the same day as the leading answer, yet different.

    """

    text: str
    score: float
    citation: Citation
    when: When | None = None
    conflict: bool = False


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
        likely: Whether the confidence reaches the "likely right" level
            (``settings.answering.likely_score``); a found answer below it is unsure.
        when: The time the answer (or its sentence) names, resolved against its
            article's date ("Friday" -> 2025-11-07), or ``None``.
        agreeing: How many articles give this answer (each is cited).
        others: What other articles answer instead, newest first (the timeline);
            the answer itself is the newest of the confident ones.
        conflict: Another article of the same date answers differently.
        time_scope: The time the question asked about, as understood.

    """

    question: str
    text: str | None
    score: float
    citations: tuple[Citation, ...] = ()
    related: tuple[Citation, ...] = field(default=())
    extractor: str = ""
    likely: bool = False
    when: When | None = None
    agreeing: int = 0
    others: tuple[OtherAnswer, ...] = ()
    conflict: bool = False
    time_scope: TimeScope | None = None

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
        keep_undated: Let undated articles pass the date bounds (an "as of" reading
            cannot place them, so it keeps them); by default they fail them.

    """

    date_from: str | None = None
    date_to: str | None = None
    sources: tuple[str, ...] = ()
    article_ids: tuple[str, ...] = ()
    keep_undated: bool = False

    @property
    def empty(self) -> bool:
        """True when no filter is set."""
        return not (self.date_from or self.date_to or self.sources or self.article_ids)

    def admits(self, date: str | None) -> bool:
        """Whether an article dated ``date`` (ISO or ``None``) passes the date bounds."""
        if not (self.date_from or self.date_to):
            return True
        if date is None:
            return self.keep_undated
        if self.date_from and date < self.date_from:
            return False
        return not (self.date_to and date > self.date_to)

    def narrowed(self, other: Filters | None) -> Filters:
        """Both filters at once (the later start, the earlier end, both id/source sets)."""
        if other is None:
            return self
        starts = [d for d in (self.date_from, other.date_from) if d]
        ends = [d for d in (self.date_to, other.date_to) if d]
        ids = (
            tuple(i for i in self.article_ids if i in set(other.article_ids))
            if self.article_ids and other.article_ids
            else self.article_ids or other.article_ids
        )
        sources = (
            tuple(x for x in self.sources if x.lower() in {y.lower() for y in other.sources})
            if self.sources and other.sources
            else self.sources or other.sources
        )
        return Filters(
            date_from=max(starts) if starts else None,
            date_to=min(ends) if ends else None,
            sources=sources,
            article_ids=ids,
            keep_undated=self.keep_undated and other.keep_undated,
        )


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
