"""File hashes, shared by the index, the reader artifacts and the evaluation runs."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@lru_cache(maxsize=8)
def _cached(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)


def cached_sha256_file(path: str | os.PathLike[str]) -> str:
    """:func:`sha256_file`, remembered per path, size and modification time.

    For large read-only inputs hashed again and again in one process (the base
    model's weights). Not for integrity checks of files that may be rewritten in
    place within the same second: use :func:`sha256_file` there.
    """
    p = Path(path)
    st = p.stat()
    return _cached(str(p.resolve()), st.st_size, st.st_mtime_ns)
