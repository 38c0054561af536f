"""The one settings object of the assistant, made of frozen sub-settings per stage.

``Settings`` is passed whole; each stage reads its own part (``settings.retrieval``,
``settings.reading`` ...). Change one value with :meth:`Settings.replace`::

    Settings().replace(min_score=0.5, extractor="heuristic")
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ChunkingSettings:
    """How articles are cut into passages (recorded in the index manifest).

    Attributes:
        max_tokens: Target chunk size in word-piece-like tokens (the encoder's window
            is 256; the title and date are prepended).
        overlap_tokens: Tokens of overlap between consecutive chunks (whole
            sentences, at most this many).
    """

    max_tokens: int = 170
    overlap_tokens: int = 40


@dataclass(frozen=True)
class IngestSettings:
    """Limits and batching of ingest.

    Attributes:
        max_file_bytes: Files larger than this are rejected at ingest.
        encode_batch_size: Batch size for embedding chunks (also how many chunks an
            ingest embeds before it lets a waiting question run: see embeddings.gate).
    """

    max_file_bytes: int = 20_000_000
    encode_batch_size: int = 16


@dataclass(frozen=True)
class IndexSettings:
    """How the index stores vectors and checks itself as it grows (docs/scale.md).

    Attributes:
        flat_max_chunks: Up to this many chunks the vectors are searched exactly
            (flat float32); beyond it an IVF index of 8-bit codes is built, memory-mapped.
        ivf_nprobe: Cells of the IVF index searched per question (more: better
            recall, slower).
        verify_max_bytes: A generation up to this size is fully checked (every
            file's sha256, the store's integrity, every id) when it is opened; a
            larger one gets a quick check at open and the full one in the background.
        single_segment_max_chunks: Up to this many chunks the index is one segment
            that every write rewrites; beyond it a write adds a segment of what is new
            (and rewrites only the segments whose articles it updates or deletes).
        max_segments: More segments than this are merged in the background (all but
            the largest into one).
    """

    flat_max_chunks: int = 100_000
    ivf_nprobe: int = 64
    verify_max_bytes: int = 256 * 2**20
    single_segment_max_chunks: int = 100_000
    max_segments: int = 8


@dataclass(frozen=True)
class RetrievalSettings:
    """Hybrid retrieval.

    Attributes:
        top_k: How many retrieved chunks the extractor reads.
        dense_k: How many chunks the dense (FAISS) retriever returns.
        bm25_k: How many chunks BM25 returns.
        rrf_k: Reciprocal-rank-fusion constant.
    """

    top_k: int = 5
    dense_k: int = 40
    bm25_k: int = 40
    rrf_k: int = 60


@dataclass(frozen=True)
class ReadingSettings:
    """Span extraction.

    Attributes:
        extractor: A name from :data:`qa.extract.registry.CHOICES`: ``"auto"``
            (the neural reader when installed, else the heuristic), ``"neural"``
            or ``"heuristic"``.
        max_answer_chars: Longest answer span, in characters.
        reader_artifact: The neural reader's artifact folder; ``None`` takes the
            newest under ``qa/reader_artifacts/``.
    """

    extractor: str = "auto"
    max_answer_chars: int = 120
    reader_artifact: str | None = None


@dataclass(frozen=True)
class AnsweringSettings:
    """Composing and serving an answer.

    Attributes:
        min_score: Answers whose confidence (the calibrated probability that they
            are right) is below this are reported as not found. 0.5, "more likely right
            than wrong": on held-out training questions mixed into news, 24% of the
            answers served at 0.5 were wrong (docs/evaluation.md).
        uncalibrated_min_score: The same threshold for an extractor without a
            calibrator (the heuristic), on its composed score.
        likely_score: Answers at or above this are shown as likely right, those
            between ``min_score`` and this as unsure.
        retrieval_weight: How much the retrieval score counts in an answer's score:
            each span's extractor score is multiplied by ``hit.score **
            retrieval_weight`` (``hit.score`` is the fused retrieval score in
            [0, 1]; 0 ignores retrieval). 1.0 was tuned on held-out training passages,
            never on the evaluation sets (docs/evaluation.md).
        use_calibrator: Score answers with the calibrator shipped with the reader
            (a probability that the answer is right); off, or with no calibrator,
            the composed score is shown.
        time_aware: Read time: resolve answers' dates, honour the question's time
            ("in 2024", "who is ... now"), let the newest article's answer lead and
            show the others as a timeline. Off: the most confident answer, no timeline.
        rival_ratio: A candidate from another article counts as a rival (timeline
            entry, or the newer lead) when its confidence is at least this share of
            the best one's and at least ``min_score``.
    """

    min_score: float = 0.5
    uncalibrated_min_score: float = 0.35
    likely_score: float = 0.7
    retrieval_weight: float = 1.0
    use_calibrator: bool = True
    time_aware: bool = True
    rival_ratio: float = 0.5


@dataclass(frozen=True)
class LimitSettings:
    """Limits that protect a running service from oversized or degenerate input.

    Attributes:
        max_upload_bytes: Most bytes in one chat upload (all its files together).
        max_upload_files: Most files in one chat upload.
        max_articles_per_file: Most articles read from one file (JSON/JSONL).
        max_chunks_per_article: Articles that would make more chunks are refused.
        max_question_chars: Longest question accepted.
        max_repeat_share: Text in which one word makes up more than this share of
            its words (at least ``repeat_min_words`` of them) is refused as degenerate.
        repeat_min_words: Texts shorter than this are never called degenerate.
        upload_queue: Uploads that may wait behind the running one; more are refused.
    """

    max_upload_bytes: int = 20_000_000
    max_upload_files: int = 50
    max_articles_per_file: int = 10_000
    max_chunks_per_article: int = 400
    max_question_chars: int = 500
    max_repeat_share: float = 0.5
    repeat_min_words: int = 200
    upload_queue: int = 4


_SECTIONS = ("chunking", "ingest", "index", "retrieval", "reading", "answering", "limits")


@dataclass(frozen=True)
class Settings:
    """Tunable behaviour of every stage, one frozen sub-settings object per stage."""

    chunking: ChunkingSettings = field(default_factory=ChunkingSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)
    index: IndexSettings = field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    reading: ReadingSettings = field(default_factory=ReadingSettings)
    answering: AnsweringSettings = field(default_factory=AnsweringSettings)
    limits: LimitSettings = field(default_factory=LimitSettings)

    def replace(self, **changes: Any) -> Settings:
        """A copy with fields of the sub-settings changed, by their (unique) names.

        Raises:
            TypeError: If a name is not a field of any sub-settings.
        """
        parts: dict[str, dict[str, Any]] = {}
        for name, value in changes.items():
            owner = next(
                (
                    s
                    for s in _SECTIONS
                    if name in {f.name for f in dataclasses.fields(getattr(self, s))}
                ),
                None,
            )
            if owner is None:
                raise TypeError(f"no setting named {name!r}")
            parts.setdefault(owner, {})[name] = value
        return dataclasses.replace(
            self,
            **{s: dataclasses.replace(getattr(self, s), **kw) for s, kw in parts.items()},
        )
