"""Where a server's socket lives, and the one-line JSON messages it exchanges.

Light on purpose: ``qa ask`` imports this (and :mod:`qa.serve.client`) on every run,
so only the standard library is used here.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

MAX_MESSAGE_BYTES = 1_000_000
"""The longest request or reply line either side accepts."""


def index_key(index: str | Path | None) -> str:
    """What identifies an index to its server: the resolved directory, or the sample."""
    if index is None:
        return "sample"
    return str(Path(index).expanduser().resolve())


def runtime_dir() -> Path:
    """This user's private folder for server sockets, created with mode 0700.

    ``$XDG_RUNTIME_DIR/newsqa`` where that is set, else ``newsqa-UID`` in the
    temporary directory.

    Raises:
        OSError: If the folder exists but belongs to another user or others can enter it.
    """
    base = os.environ.get("XDG_RUNTIME_DIR")
    root = Path(base) / "newsqa" if base else Path(tempfile.gettempdir()) / f"newsqa-{os.getuid()}"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = root.stat()
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise OSError(f"{root}: not a private folder of this user; remove it or fix its mode")
    return root


def socket_path(index: str | Path | None) -> Path:
    """The socket a ``qa serve`` for ``index`` listens on."""
    digest = hashlib.sha256(index_key(index).encode()).hexdigest()[:16]
    return runtime_dir() / f"{digest}.sock"


def encode(message: dict[str, Any]) -> bytes:
    """One message as a JSON line."""
    return (json.dumps(message, ensure_ascii=False) + "\n").encode("utf-8")


def decode(line: bytes) -> dict[str, Any]:
    """A JSON line back into a message.

    Raises:
        ValueError: If it is not one JSON object, or too long.
    """
    if len(line) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message over {MAX_MESSAGE_BYTES} bytes")
    value = json.loads(line.decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("message is not a JSON object")
    return value
