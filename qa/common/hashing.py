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


SAMPLE_BLOCKS = 64
SAMPLE_BLOCK = 1 << 16


def sample_sha256(path: str | os.PathLike[str]) -> str:
    """Hex sha256 of a file's size, first and last MiB, and 64 blocks spread over it.

    A quick check for large files at open (truncation, a replaced or zeroed file, a
    damaged header or tail); it does not see every flipped byte, so the index also
    verifies the full :func:`sha256_file` (in the background for large files).
    """
    size = os.path.getsize(path)
    digest = hashlib.sha256(str(size).encode())
    with open(path, "rb") as handle:
        digest.update(handle.read(1 << 20))
        for i in range(SAMPLE_BLOCKS):
            handle.seek(size * i // SAMPLE_BLOCKS)
            digest.update(handle.read(SAMPLE_BLOCK))
        handle.seek(max(size - (1 << 20), 0))
        digest.update(handle.read(1 << 20))
    return digest.hexdigest()
