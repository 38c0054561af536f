"""The chat's backend: conversations per browser session, uploads, the index summary.

Everything the page does except the layout, with no Gradio import, so it is tested
without a server. :mod:`qa.chat.app` lays the page out around a :class:`ChatBackend`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qa.answer.conversation import Conversation
from qa.answer.serialize import turn_json
from qa.chat.locks import ReadWriteLock
from qa.chat.render import (
    FileResult,
    esc,
    render_info,
    render_question,
    render_turn,
)
from qa.ingest.parsing import SUPPORTED
from qa.types import Answer, Filters, IngestReport

log = logging.getLogger(__name__)

UPLOAD_EXTENSIONS: tuple[str, ...] = tuple(SUPPORTED)  # what the ingest reads
MAX_UPLOAD_BYTES = 5_000_000
MAX_QUESTION_CHARS = 500

# Questions the bundled sample article (Yonhap, 2025-11-07) answers; the
# second is a follow-up on the first.
SAMPLE_EXAMPLES = (
    "Who is Japan's counterpart in the dialogue?",
    "What did he hope to build on?",
    "Who called on Japan to work together?",
    "Where was the Asia-Pacific Economic Cooperation meeting held?",
)


class ChatAssistant(Protocol):
    """What the chat needs from ``qa.Assistant``."""

    def ask(
        self, question: str, *, top_k: int | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer one question."""
        ...

    def add(self, paths: Any) -> IngestReport:
        """Ingest files."""
        ...

    def info(self) -> Any:
        """Summarise the index (``IndexInfo``)."""
        ...


@dataclass
class ChatSession:
    """One browser session: its conversation and the chat messages shown."""

    conversation: Conversation
    messages: list[dict[str, str]] = field(default_factory=list)
    last: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ChatBackend:
    """Everything the page does, minus the page.

    Questions hold the read side of a :class:`ReadWriteLock` and uploads the
    write side, so an upload never changes the index under a running
    question (the assistant locks as well; this keeps the UI's own
    multi-step operations whole).
    """

    def __init__(
        self,
        assistant: ChatAssistant,
        *,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        filters: Filters | None = None,
        top_k: int | None = None,
        max_sessions: int = 1000,
    ) -> None:
        """Wrap ``assistant``; uploads larger than ``max_upload_bytes`` are refused.

        Up to ``max_sessions`` conversations are kept (least recently used
        dropped first); a closed browser tab drops its own.
        """
        self.assistant = assistant
        self.max_upload_bytes = max_upload_bytes
        self.filters = filters
        self.top_k = top_k
        self.lock = ReadWriteLock()
        self.max_sessions = max_sessions
        self._sessions: OrderedDict[str, ChatSession] = OrderedDict()
        self._sessions_lock = threading.Lock()

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
        """Ask ``question`` in ``session`` (a new one if ``None``); append both messages."""
        session = session if session is not None else self.new_session()
        question = (question if question is not None else "").strip()
        if not question:
            return session
        if len(question) > MAX_QUESTION_CHARS:
            question = question[:MAX_QUESTION_CHARS]
        session.messages.append({"role": "user", "content": render_question(question)})
        try:
            with self.lock.read():
                turn = session.conversation.ask(question)
        except Exception as exc:  # shown in the chat; the server keeps running
            log.exception("question failed: %r", question)
            session.messages.append(
                {"role": "assistant", "content": f"<p>Error: {esc(_one_line(exc))}</p>"}
            )
            session.last = {"question": question, "error": _one_line(exc)}
            return session
        session.messages.append({"role": "assistant", "content": render_turn(turn)})
        session.last = turn_json(turn)
        return session

    def upload(
        self,
        paths: Sequence[str | os.PathLike[str]] | None,
        progress: Callable[[int, int, str], None] | None = None,
    ) -> list[FileResult]:
        """Ingest uploaded files one by one; report each file separately.

        A file with another extension or over the size limit is refused
        without touching the index; the assistant rejects bad content.
        """
        results = []
        paths = list(paths) if paths is not None else []
        for i, raw in enumerate(paths):
            path = Path(raw)
            name = path.name
            if progress:
                progress(i, len(paths), name)
            reason = self._refuse(path)
            if reason:
                results.append(FileResult(name, rejected=(reason,)))
                continue
            try:
                with self.lock.write():
                    report = self.assistant.add([path])
            except Exception as exc:
                log.exception("upload failed: %s", path)
                results.append(FileResult(name, rejected=(_one_line(exc),)))
                continue
            results.append(
                FileResult(
                    name,
                    added=len(report.added),
                    updated=len(report.updated),
                    unchanged=len(report.unchanged),
                    rejected=tuple(_reason(r.origin, r.reason, name) for r in report.rejected),
                )
            )
        if progress:
            progress(len(paths), len(paths), "done")
        return results

    def _refuse(self, path: Path) -> str | None:
        if path.suffix.lower() not in UPLOAD_EXTENSIONS:
            return f"unsupported file type {path.suffix or '(none)'}; use " + ", ".join(
                UPLOAD_EXTENSIONS
            )
        try:
            size = path.stat().st_size
        except OSError as exc:
            return f"cannot read the file: {exc.strerror or exc}"
        if size > self.max_upload_bytes:
            return f"file too large ({size:,} bytes; the limit is {self.max_upload_bytes:,})"
        if size == 0:
            return "empty file"
        return None

    def info(self) -> Any:
        """Return the assistant's ``IndexInfo`` (``None`` when it cannot say)."""
        try:
            with self.lock.read():
                return self.assistant.info()
        except Exception:
            log.exception("info failed")
            return None

    def info_html(self) -> str:
        """Render the side panel summary."""
        return render_info(self.info())


def warm_up(assistant: ChatAssistant) -> float:
    """Load the models once before serving (no model loads per request); return seconds."""
    started = time.perf_counter()
    try:
        assistant.ask("Who said what about the news?")
    except Exception:
        log.exception("warm-up question failed")
    return time.perf_counter() - started


def _reason(origin: object, reason: str, name: str) -> str:
    """Prefix a rejection reason with its record (``file.jsonl:3``) when not the file."""
    where = Path(str(origin) if origin is not None else "").name
    return reason if where in ("", name) else f"{where}: {reason}"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
