"""The chat's backend: conversations per browser session, uploads, the index summary.

Everything the page does except the layout, with no Gradio import, so it is tested
without a server. :mod:`qa.chat.app` lays the page out around a :class:`ChatBackend`.

Questions never wait for uploads: an upload is a background :class:`UploadJob`, run by
one worker thread, one job at a time, and a question takes no lock that an upload
holds. The index swaps in each new generation whole, so a question reads either the
old or the new one (see docs/reliability.md).
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qa.answer.conversation import Conversation
from qa.answer.serialize import turn_json
from qa.chat.jobs import JobQueue, QueueFull, Step, UploadJob
from qa.chat.render import FileResult, esc, render_info, render_question, render_turn, shorten
from qa.ingest.parsing import SUPPORTED
from qa.settings import LimitSettings, Settings
from qa.types import Answer, Filters, IngestReport

log = logging.getLogger(__name__)

UPLOAD_EXTENSIONS: tuple[str, ...] = tuple(SUPPORTED)  # what the ingest reads
MAX_FILE_BYTES = 5_000_000  # one uploaded file (limits.max_upload_bytes caps the whole upload)

# Questions the bundled sample article (Yonhap, 2025-11-07) answers; the
# second is a follow-up on the first.
SAMPLE_EXAMPLES = (
    "Who is Japan's counterpart in the dialogue?",
    "What did he hope to build on?",
    "Who called on Japan to work together?",
    "Where was the Asia-Pacific Economic Cooperation meeting held?",
)


class ChatAssistant(Protocol):
    """What the chat needs from ``qa.Assistant`` (``settings`` is read when present)."""

    def ask(
        self, question: str, *, top_k: int | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer one question."""
        ...

    def add(self, paths: Any, progress: Callable[[int, int], None] | None = None) -> IngestReport:
        """Ingest files, reporting embedded passages as ``progress(n, 0)``."""
        ...

    def info(self) -> Any:
        """Summarise the index (``IndexInfo``)."""
        ...


class UploadRefused(ValueError):
    """A whole upload refused at once (too many files or bytes, or the queue is full)."""


@dataclass
class ChatSession:
    """One browser session: its conversation and the chat messages shown."""

    conversation: Conversation
    messages: list[dict[str, str]] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ChatBackend:
    """Everything the page does, minus the page.

    Questions run at once, each against the index generation current when it
    starts; uploads are queued jobs run one at a time by a worker thread. Limits
    come from the assistant's ``settings.limits`` (the defaults when it has none).
    """

    def __init__(
        self,
        assistant: ChatAssistant,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        filters: Filters | None = None,
        top_k: int | None = None,
        max_sessions: int = 1000,
    ) -> None:
        """Wrap ``assistant``; files larger than ``max_file_bytes`` are refused.

        Up to ``max_sessions`` conversations are kept (least recently used
        dropped first); a closed browser tab drops its own.
        """
        self.assistant = assistant
        settings = getattr(assistant, "settings", None)
        self.limits: LimitSettings = (
            settings.limits if isinstance(settings, Settings) else Settings().limits
        )
        self.max_file_bytes = max_file_bytes
        self.filters = filters
        self.top_k = top_k
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, ChatSession] = OrderedDict()
        self._sessions_lock = threading.Lock()
        self.uploads = JobQueue(self._run, self.limits.upload_queue)
        self._preloaded = False

    # ------------------------------------------------------------- questions
    def new_session(self) -> ChatSession:
        """Start a session with an empty conversation."""
        return ChatSession(Conversation(self.assistant, filters=self.filters, top_k=self.top_k))

    def session(self, key: str | None) -> ChatSession:
        """Return the session for a browser session id (created on first use)."""
        if key is None:
            return self.new_session()
        with self._sessions_lock:
            session = self._sessions.get(key)
            if session is None:
                session = self._sessions[key] = self.new_session()
            self._sessions.move_to_end(key)
            while len(self._sessions) > self.max_sessions:
                self._sessions.popitem(last=False)
            return session

    def forget(self, key: str | None) -> None:
        """Drop a browser session's conversation (the tab closed or it was cleared)."""
        with self._sessions_lock:
            self._sessions.pop(key if key is not None else "", None)

    def ask(self, question: str, key: str | None) -> tuple[list[dict[str, str]], dict[str, Any]]:
        """Ask within the browser session ``key``; return (messages, last answer JSON).

        Requests of one session run one after the other (its own lock), so two
        quick submits from one tab both land in its history, in order.
        """
        session = self.session(key)
        with session.lock:
            self.respond(question, session)
            return list(session.messages), dict(session.last)

    def respond(self, question: str, session: ChatSession | None = None) -> ChatSession:
        """Ask ``question`` in ``session`` (a new one if ``None``); append both messages.

        A question over ``limits.max_question_chars`` is not asked: the reply says
        how long it is and what the limit is.
        """
        session = session if session is not None else self.new_session()
        question = (question if question is not None else "").strip()
        if not question:
            return session
        limit = self.limits.max_question_chars
        if len(question) > limit:
            message = (
                f"Your question is {len(question):,} characters long; the limit is "
                f"{limit:,}. Please ask a shorter question."
            )
            return self._reply_error(session, shorten(question, 200), message)
        session.messages.append({"role": "user", "content": render_question(question)})
        try:
            turn = session.conversation.ask(question)
        except Exception as exc:  # shown in the chat; the server keeps running
            log.exception("question failed: %r", question)
            return self._reply_error(session, None, f"Error: {_one_line(exc)}", question)
        session.messages.append({"role": "assistant", "content": render_turn(turn)})
        session.last = turn_json(turn)
        return session

    def _reply_error(
        self, session: ChatSession, shown: str | None, message: str, question: str | None = None
    ) -> ChatSession:
        if shown is not None:
            session.messages.append({"role": "user", "content": render_question(shown)})
        session.messages.append({"role": "assistant", "content": f"<p>{esc(message)}</p>"})
        error = message.removeprefix("Error: ")
        session.last = {"question": question if question is not None else shown, "error": error}
        return session

    def info(self) -> Any:
        """Return the assistant's ``IndexInfo`` (``None`` when it cannot say)."""
        try:
            return self.assistant.info()
        except Exception:
            log.exception("info failed")
            return None

    def info_html(self) -> str:
        """Render the side panel summary."""
        return render_info(self.info())

    # --------------------------------------------------------------- uploads
    def submit_upload(
        self, paths: Sequence[str | os.PathLike[str]] | None, step: Step | None = None
    ) -> UploadJob:
        """Queue an upload and return its job at once (``step(i, n, name)`` reports files).

        Raises:
            UploadRefused: If it holds no files, more than ``limits.max_upload_files``
                files or ``limits.max_upload_bytes`` bytes in all, or
                ``limits.upload_queue`` uploads are already waiting.
        """
        files = tuple(Path(p) for p in (paths or ()))
        limits = self.limits
        if not files:
            raise UploadRefused("No files to add.")
        if len(files) > limits.max_upload_files:
            raise UploadRefused(
                f"Too many files: {len(files)} in one upload; the limit is "
                f"{limits.max_upload_files} files per upload."
            )
        size = sum(_size(f) for f in files)
        if size > limits.max_upload_bytes:
            raise UploadRefused(
                f"Upload too large: {size:,} bytes in all; the limit is "
                f"{limits.max_upload_bytes:,} bytes per upload."
            )
        job = UploadJob(secrets.token_hex(8), files, tuple(_safe_name(f) for f in files))
        job.step = step
        try:
            self.uploads.submit(job)
        except QueueFull:
            raise UploadRefused(
                f"The upload queue is full ({self.uploads.limit} uploads waiting); "
                "try again when one has finished."
            ) from None
        return job

    def job(self, job_id: str | None) -> UploadJob | None:
        """The upload job with this id (``None`` if unknown or forgotten)."""
        return self.uploads.get(job_id)

    def progress(self, job_id: str | None) -> dict[str, Any] | None:
        """A snapshot of an upload job for the page to poll (``None`` if unknown)."""
        return self.uploads.snapshot(job_id)

    def upload(
        self, paths: Sequence[str | os.PathLike[str]] | None, step: Step | None = None
    ) -> list[FileResult]:
        """Queue an upload, wait for it and return its per-file results.

        Raises:
            UploadRefused: As :meth:`submit_upload`.
        """
        job = self.submit_upload(paths, step)
        job.ended.wait()
        return list(job.results)

    def _run(self, job: UploadJob) -> None:
        """Add the job's files one by one; refused files never reach the assistant."""
        self._preload()
        for i, (path, name) in enumerate(zip(job.paths, job.names, strict=True)):
            job.done, job.current = i, name
            if job.step is not None:
                job.step(i, job.total, name)
            reason = self._refuse(path)
            if reason:
                job.results.append(FileResult(name, rejected=(reason,)))
                continue
            try:
                report = self.assistant.add([path], progress=lambda n, _: _count(job, n))
            except Exception as exc:
                log.exception("upload failed: %s", path)
                message = _scrub(_one_line(exc), path, name)
                job.error = f"{name}: {message}"
                job.results.append(FileResult(name, rejected=(message,)))
                stopped = ("not added: the upload stopped at an error",)
                job.results.extend(FileResult(n, rejected=stopped) for n in job.names[i + 1 :])
                return
            rejected = tuple(
                _scrub(_reason(r.origin, r.reason, name), path, name) for r in report.rejected
            )
            job.results.append(
                FileResult(
                    name,
                    added=len(report.added),
                    updated=len(report.updated),
                    unchanged=len(report.unchanged),
                    rejected=rejected,
                )
            )
        job.done = job.total

    def _preload(self) -> None:
        """Load the assistant's lazy models before its first add.

        ``Assistant.add`` holds the assistant's lock for the whole ingest, and the
        extractor and calibrator load on first use under that same lock: loaded
        first, a question never waits for an upload.
        """
        if self._preloaded:
            return
        self._preloaded = True
        for name in ("extractor", "calibrator"):
            try:
                getattr(self.assistant, name, None)
            except Exception:
                log.warning("could not load the assistant's %s", name, exc_info=True)

    def _refuse(self, path: Path) -> str | None:
        if path.suffix.lower() not in UPLOAD_EXTENSIONS:
            suffix = _safe_name(path.suffix) if path.suffix else "(none)"
            return f"unsupported file type {suffix}; use " + ", ".join(UPLOAD_EXTENSIONS)
        try:
            size = path.stat().st_size
        except OSError as exc:
            return f"cannot read the file: {exc.strerror or type(exc).__name__}"
        if size > self.max_file_bytes:
            return f"file too large ({size:,} bytes; the limit is {self.max_file_bytes:,})"
        if size == 0:
            return "empty file"
        return None


def warm_up(assistant: ChatAssistant) -> float:
    """Load the models once before serving (no model loads per request); return seconds."""
    started = time.perf_counter()
    try:
        assistant.ask("Who said what about the news?")
    except Exception:
        log.exception("warm-up question failed")
    return time.perf_counter() - started


def _count(job: UploadJob, passages: int) -> None:
    job.passages += passages


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # reported per file when its turn comes


def _safe_name(path: object, limit: int = 120) -> str:
    """A file name fit to show: no folders, no control or format characters, not too long."""
    name = str(path).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(ch) == "Cc" else ch
        for ch in name
        if not unicodedata.category(ch).startswith(("Cf", "Cs", "Co", "Cn"))
    )
    name = " ".join(name.split())
    return (name if len(name) <= limit else name[: limit - 1] + "…") or "(unnamed file)"


def _scrub(text: str, path: Path, name: str) -> str:
    """Replace the server-side path of an upload by its shown name."""
    return text.replace(str(path), name).replace(str(path.parent) + os.sep, "")


def _reason(origin: object, reason: str, name: str) -> str:
    """Prefix a rejection reason with its record (``file.jsonl:3``) when not the file."""
    where = _safe_name(origin) if origin else ""
    return reason if where in ("", name) else f"{where}: {reason}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
