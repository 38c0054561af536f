"""The public object: :class:`Assistant`, and the one-call :func:`ask`."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from embeddings.encoder import Encoder, SentenceEncoder
from embeddings.gate import COMPUTE
from qa.answer.calibration import Calibrator
from qa.answer.compose import compose
from qa.common.question import clean_question
from qa.common.when import question_scope
from qa.extract.base import Extractor
from qa.extract.registry import make_extractor
from qa.index import Index, IndexInfo, package_version
from qa.ingest.chunking import chunking_signature
from qa.ingest.pipeline import IngestPipeline
from qa.retrieve import HybridRetriever, Retriever
from qa.settings import Settings
from qa.types import Answer, Article, Filters, Hit, IngestReport, TimeScope

SAMPLE_DIR = Path(__file__).parent / "sample"


def cache_dir() -> Path:
    """Where derived data (the sample index) is kept: ``$QA_CACHE_DIR`` or ``~/.cache/newsqa``."""
    env = os.environ.get("QA_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "newsqa"


def sample_files() -> list[Path]:
    """The bundled sample articles."""
    return sorted(
        p
        for p in SAMPLE_DIR.iterdir()
        if p.suffix in (".txt", ".json", ".jsonl", ".md")
        and not p.name.startswith(("README", "CREDITS"))
    )


class Assistant:
    """Answers questions over an on-disk index of news articles.

    Construction is cheap: opening reads the index files, and the encoder and
    extractor models load once, on first use.

    Example:
        >>> assistant = Assistant.open()          # the bundled sample corpus
        >>> assistant.ask("Who is Japan's counterpart in the dialogue?").text
        'Takehiro Funakoshi'

    """

    def __init__(
        self,
        index: Index,
        settings: Settings,
        encoder: Encoder,
        extractor: Extractor | None = None,
        retriever: Retriever | None = None,
    ) -> None:
        self._index = index
        self.settings = settings
        self.encoder = encoder
        self._extractor = extractor
        self._calibrator: Calibrator | None = None
        self._calibrator_loaded = False
        self.retriever: Retriever = (
            retriever
            if retriever is not None
            else HybridRetriever(index, encoder, settings.retrieval)
        )
        self._pipeline = IngestPipeline(index, encoder, settings)
        self._lock = threading.RLock()  # writes (ingest, delete), one at a time
        self._load_lock = threading.Lock()  # lazy model loads; never held during a write

    @classmethod
    def open(
        cls,
        path: str | Path | None = None,
        *,
        settings: Settings | None = None,
        encoder: Encoder | None = None,
        extractor: Extractor | None = None,
        create: bool = True,
        retriever: Retriever | None = None,
    ) -> Assistant:
        """Open (or create) the index at ``path``; no path gives the sample corpus.

        Args:
            path: Index directory. ``None`` opens the bundled sample corpus,
                built into the cache directory on first use.
            settings: Behaviour settings (defaults when ``None``).
            encoder: Sentence encoder (all-MiniLM-L6-v2 when ``None``).
            extractor: Answer extractor (chosen by ``settings.extractor`` when ``None``).
            create: Create an empty index when ``path`` holds none.
            retriever: Searches instead of hybrid retrieval over ``path`` (e.g. a
                :class:`~qa.retrieve.sharded.ShardedRetriever`, ``path`` one of its shards).

        Raises:
            IndexFormatError: If the directory is not a compatible, intact index.

        """
        settings = settings if settings is not None else Settings()
        encoder = encoder if encoder is not None else SentenceEncoder()
        if path is None:
            return cls._open_sample(settings, encoder, extractor)
        signature = chunking_signature(settings.chunking)
        index = Index.open(Path(path), encoder, signature, create=create, layout=settings.index)
        return cls(index, settings, encoder, extractor, retriever)

    @classmethod
    def _open_sample(
        cls, settings: Settings, encoder: Encoder, extractor: Extractor | None
    ) -> Assistant:
        files = sample_files()
        digest = hashlib.blake2b(digest_size=8)
        signature = chunking_signature(settings.chunking)
        for part in (package_version(), encoder.name, repr(signature)):
            digest.update(part.encode())
        for file in files:
            digest.update(file.read_bytes())
        path = cache_dir() / f"sample-{digest.hexdigest()}"
        index = Index.open(path, encoder, signature, layout=settings.index)
        assistant = cls(index, settings, encoder, extractor)
        if assistant.info().articles == 0:
            report = assistant.add(files)
            if report.rejected:
                raise RuntimeError(f"bundled sample corpus rejected: {report.rejected}")
        return assistant

    # ------------------------------------------------------------ properties
    @property
    def path(self) -> Path:
        """The index directory."""
        return self._index.path

    @property
    def manifest(self) -> dict[str, Any]:
        """The index manifest (format, model, chunking, counts, files)."""
        return dict(self._index.manifest)

    @property
    def extractor(self) -> Extractor:
        """The answer extractor (chosen once, lazily)."""
        if self._extractor is None:
            with self._load_lock:
                if self._extractor is None:
                    self._extractor = make_extractor(
                        self.settings.reading.extractor, self.encoder, self.settings.reading
                    )
        return self._extractor

    def info(self) -> IndexInfo:
        """Counts and date range of what is loaded."""
        return self._index.info()

    def articles(self) -> list[Article]:
        """All stored articles."""
        return list(self._index.state.articles.values())

    # ---------------------------------------------------------------- ingest
    def add(
        self,
        paths: str | Path | Iterable[str | Path],
        progress: Callable[[int, int], None] | None = None,
        *,
        ray: str | None = None,
    ) -> IngestReport:
        """Ingest files and folders (recursively).

        Args:
            paths: Files or folders of .txt, .md, .json, .jsonl or .html articles.
            progress: Called as ``progress(done_chunks, total_chunks)``-style
                increments: ``progress(n, 0)`` after each embedded batch.
            ray: Parse, chunk and embed on a Ray cluster (docs/cluster.md):
                ``"local"`` starts one on this machine; ``"auto"``, ``HOST:PORT``
                or ``ray://HOST:10001`` connects to a running one. The result is
                that of a local ingest; planning and the commit run here.

        Returns:
            What was added, updated, unchanged and rejected (with reasons).

        Raises:
            RuntimeError: If ``ray`` is given and Ray is not installed.

        """
        step = (lambda n: progress(n, 0)) if progress is not None else None
        with self._lock:
            if ray is None:
                return self._pipeline.add_paths(paths, step)
            from qa.ingest.distributed import ray_pipeline

            with ray_pipeline(self._index, self.encoder, self.settings, ray) as pipeline:
                return pipeline.add_paths(paths, step)

    def add_records(
        self,
        records: Iterable[Mapping[str, Any]],
        origin: str = "api",
        progress: Callable[[int, int], None] | None = None,
    ) -> IngestReport:
        """Ingest in-memory records (``id``, ``title``, ``text``, ``date``, ``source``, ``url``)."""
        step = (lambda n: progress(n, 0)) if progress is not None else None
        with self._lock:
            return self._pipeline.add_records(records, origin, step)

    def delete(self, article_id: str) -> bool:
        """Delete an article and its chunks; False if it was not there."""
        with self._lock:
            return bool(self._pipeline.delete([article_id]))

    # ------------------------------------------------------------------- ask
    def retrieve(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Filters | None = None,
        mode: str | None = None,
    ) -> list[Hit]:
        """The passages most likely to hold the answer, best first.

        Args:
            question: The question.
            k: How many passages (default ``settings.retrieval.top_k``).
            filters: Date, source or article filters.
            mode: ``None`` for the assistant's retriever, or ``hybrid``/``dense``/
                ``bm25`` for that hybrid-retrieval variant (comparisons).
        """
        k = k if k is not None else self.settings.retrieval.top_k
        retriever = self.retriever
        if mode is not None:
            retriever = HybridRetriever(self._index, self.encoder, self.settings.retrieval, mode)
        return retriever.retrieve(clean_question(question), k, filters)

    @property
    def calibrator(self) -> Calibrator | None:
        """The answer calibrator of the extractor (``None``: scores are uncalibrated).

        Raises:
            CalibratorError: If the shipped calibrator was fitted for other weights.
        """
        if not self._calibrator_loaded:
            extractor = self.extractor
            with self._load_lock:
                if not self._calibrator_loaded:
                    use = self.settings.answering.use_calibrator
                    found = extractor.calibrator_file() if use else None
                    if found is not None:
                        path, sha = found
                        self._calibrator = Calibrator.load(path, reader_sha256=sha)
                    self._calibrator_loaded = True
        return self._calibrator

    def answer_from_hits(
        self, question: str, hits: Sequence[Hit], scope: TimeScope | None = None
    ) -> Answer:
        """Extract and compose an answer from given passages (no retrieval)."""
        extractor = self.extractor
        spans = extractor.extract(question, hits)
        return compose(
            question,
            spans,
            hits,
            extractor.name,
            self.settings.answering,
            self.calibrator,
            scope,
        )

    def ask(
        self,
        question: str,
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        as_of: str | dt.date | None = None,
    ) -> Answer:
        """Answer ``question`` from the loaded articles.

        Args:
            question: The question.
            top_k: Passages to read (default ``settings.retrieval.top_k``).
            filters: Date, source or article filters.
            as_of: Answer as a reader on that day would: articles dated after it are
                ignored (undated ones are kept), and "last month" or "who is now"
                are read relative to it. Default: today.

        Returns:
            An :class:`Answer` whose ``text`` is the exact span (or ``None`` when
            the articles do not hold an answer) with citations.

        Raises:
            ValueError: If the question is empty or ``as_of`` is not a date.

        """
        return self.ask_batch([question], top_k=top_k, filters=filters, as_of=as_of)[0]

    def ask_batch(
        self,
        questions: Sequence[str],
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        as_of: str | dt.date | None = None,
    ) -> list[Answer]:
        """Answer several questions (retrieved together: one batch of question vectors).

        The models run under the process's compute gate: one computation at a time,
        questions before an ingest's next batch (see :mod:`embeddings.gate`).
        """
        with COMPUTE.foreground():
            return [
                self.answer_from_hits(question, hits, scope)
                for question, hits, scope in self.passages_for(
                    questions, top_k=top_k, filters=filters, as_of=as_of
                )
            ]

    def passages_for(
        self,
        questions: Sequence[str],
        *,
        top_k: int | None = None,
        filters: Filters | None = None,
        as_of: str | dt.date | None = None,
    ) -> list[tuple[str, list[Hit], TimeScope | None]]:
        """What :meth:`ask_batch` reads for each question: ``(question, hits, time scope)``.

        The question is cleaned; the hits honour ``as_of`` and the question's time.
        """
        cleaned = [clean_question(q) for q in questions]
        if not cleaned:
            return []
        self._index.refresh()  # another process may have committed since the last question
        k = top_k if top_k is not None else self.settings.retrieval.top_k
        day = _as_date(as_of) if as_of is not None else dt.date.today()
        if as_of is not None:
            cutoff = Filters(date_to=day.isoformat(), keep_undated=True)
            filters = cutoff.narrowed(filters)
        aware = self.settings.answering.time_aware
        scopes = [question_scope(q, day) if aware else None for q in cleaned]
        batches = self.retriever.retrieve_batch(cleaned, k, filters)
        out: list[tuple[str, list[Hit], TimeScope | None]] = []
        for question, hits, scope in zip(cleaned, batches, scopes, strict=True):
            if scope is not None and (scope.date_from or scope.date_to):
                # a period in the question: also read the best passages of that period
                period = Filters(date_from=scope.date_from, date_to=scope.date_to)
                seen = {h.chunk.chunk_id for h in hits}
                extra = self.retriever.retrieve(question, k, period.narrowed(filters))
                hits = [*hits, *(h for h in extra if h.chunk.chunk_id not in seen)]
            out.append((question, hits, scope))
        return out


def _as_date(value: str | dt.date) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ValueError(f"as_of must be a date as YYYY-MM-DD, got {value!r}") from exc


_default: Assistant | None = None
_default_lock = threading.Lock()


def default_assistant() -> Assistant:
    """The process-wide assistant: ``$QA_INDEX`` if set, else the sample corpus."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                env = os.environ.get("QA_INDEX")
                _default = Assistant.open(env if env else None)
    return _default


def ask(
    question: str,
    *,
    top_k: int | None = None,
    filters: Filters | None = None,
    as_of: str | dt.date | None = None,
) -> Answer:
    """Answer ``question`` with the default assistant (see :func:`default_assistant`)."""
    return default_assistant().ask(question, top_k=top_k, filters=filters, as_of=as_of)
