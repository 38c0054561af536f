"""Asking a running ``qa serve``: standard library only, so ``qa ask`` starts fast."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from qa.serve.protocol import MAX_MESSAGE_BYTES, decode, encode, index_key, socket_path


class ServerError(RuntimeError):
    """The server answered, with an error (a bad question, a damaged index, ...)."""


def ask_server(
    index: str | Path | None,
    question: str,
    *,
    top_k: int | None = None,
    filters: dict[str, Any] | None = None,
    as_of: str | None = None,
    timeout: float = 300.0,
    path: Path | None = None,
) -> dict[str, Any] | None:
    """The answer (``answer_json`` form) from the server for ``index``.

    Returns ``None`` when no server answers for that index (the caller answers in
    process instead).

    Raises:
        ServerError: If the server answered with an error, or broke off mid-answer.
    """
    try:
        where = path if path is not None else socket_path(index)
    except OSError:
        return None
    if not where.exists():
        return None
    conn = _connect(where)
    if conn is None:
        return None  # a stale socket: nobody is serving
    try:
        conn.settimeout(timeout)
        request = {
            "index": index_key(index),
            "question": question,
            "top_k": top_k,
            "filters": filters,
            "as_of": as_of,
        }
        conn.sendall(encode(request))
        with conn.makefile("rb") as reader:
            line = reader.readline(MAX_MESSAGE_BYTES + 1)
    except OSError as exc:
        raise ServerError(f"the server at {where} broke off: {exc}") from exc
    finally:
        conn.close()
    if not line:
        raise ServerError(f"the server at {where} closed the connection without an answer")
    try:
        reply = decode(line)
    except ValueError as exc:
        raise ServerError(f"the server at {where} sent a bad reply: {exc}") from exc
    if not reply.get("ok"):
        raise ServerError(str(reply.get("error") or "the server could not answer"))
    answer = reply.get("answer")
    if not isinstance(answer, dict):
        raise ServerError(f"the server at {where} sent no answer")
    return answer


def _connect(where: Path, attempts: int = 100) -> socket.socket | None:
    """A connection to the server at ``where``; ``None`` if nobody listens there.

    A busy server's full backlog (``EAGAIN``) is waited out, up to about 2 s.
    """
    for _ in range(attempts):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.settimeout(2.0)
        try:
            conn.connect(str(where))
            return conn
        except BlockingIOError:
            conn.close()
            time.sleep(0.02)  # the backlog is full: the server is there, and busy
        except OSError:
            conn.close()
            return None
    return None
