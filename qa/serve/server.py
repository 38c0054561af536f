"""The ``qa serve`` process: one loaded assistant answering over a Unix socket."""

from __future__ import annotations

import contextlib
import os
import socket
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from qa.answer.serialize import answer_json
from qa.assistant import Assistant
from qa.serve.protocol import MAX_MESSAGE_BYTES, decode, encode
from qa.types import Filters


class ServeError(RuntimeError):
    """The server cannot start (another one serves this index, or the socket is unusable)."""


def answer_request(assistant: Assistant, key: str, request: dict[str, Any]) -> dict[str, Any]:
    """The reply to one request (never raises for a bad request: it says what is wrong)."""
    if request.get("index") != key:
        return {"ok": False, "error": f"this server answers for {key}, not {request.get('index')}"}
    question = request.get("question")
    if not isinstance(question, str) or not question.strip():
        return {"ok": False, "error": "the request has no question"}
    top_k = request.get("top_k")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        return {"ok": False, "error": f"top_k must be a positive integer, got {top_k!r}"}
    raw = request.get("filters") or {}
    if not isinstance(raw, dict):
        return {"ok": False, "error": "filters must be an object"}
    try:
        filters = Filters(
            date_from=raw.get("date_from"),
            date_to=raw.get("date_to"),
            sources=tuple(raw.get("sources") or ()),
        )
        answer = assistant.ask(
            question,
            top_k=top_k,
            filters=None if filters.empty else filters,
            as_of=request.get("as_of"),
        )
    except (ValueError, OSError, RuntimeError) as exc:
        return {"ok": False, "error": str(exc).strip().splitlines()[0] if str(exc) else repr(exc)}
    return {"ok": True, "answer": answer_json(answer)}


class _Handler(socketserver.StreamRequestHandler):
    server: AskServer

    def handle(self) -> None:
        line = self.rfile.readline(MAX_MESSAGE_BYTES + 1)
        if not line:
            return
        try:
            request = decode(line)
        except ValueError as exc:
            reply: dict[str, Any] = {"ok": False, "error": f"bad request: {exc}"}
        else:
            reply = answer_request(self.server.assistant, self.server.key, request)
        with contextlib.suppress(OSError):  # the client went away
            self.wfile.write(encode(reply))


class AskServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    """Answers ``qa ask`` requests for one index, a thread per connection."""

    daemon_threads = True
    request_queue_size = 128  # many `qa ask` at once: a full backlog refuses a Unix socket

    def __init__(self, path: Path, assistant: Assistant, key: str) -> None:
        self.assistant = assistant
        self.key = key
        self.path = path
        _claim(path)
        super().__init__(str(path), _Handler)

    def server_bind(self) -> None:
        """Bind, then make the socket this user's only (its folder is 0700 already)."""
        super().server_bind()
        os.chmod(self.path, 0o600)

    def server_close(self) -> None:
        """Stop listening and remove the socket file."""
        super().server_close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def _claim(path: Path) -> None:
    """Remove a stale socket at ``path``; refuse if a server still answers there."""
    if not path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
    except OSError:
        path.unlink()  # nobody listens: left by a server that was killed
        return
    finally:
        probe.close()
    raise ServeError(f"a server already answers for this index at {path}")


@contextlib.contextmanager
def serving(path: Path, assistant: Assistant, key: str) -> Iterator[AskServer]:
    """A started server (in a background thread) for tests and embedding; closed after."""
    server = AskServer(path, assistant, key)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
