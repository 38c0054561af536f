"""qa.hashing: file digests, plain and cached by path, size and mtime."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from qa.common.hashing import cached_sha256_file, sha256_file


def test_sha256_file_matches_hashlib_across_blocks(tmp_path: Path) -> None:
    data = os.urandom((1 << 20) + 123)  # more than one 1 MiB block
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(str(path)) == sha256_file(path)


def test_cached_sha256_file_sees_a_rewrite(tmp_path: Path) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"first")
    assert cached_sha256_file(path) == hashlib.sha256(b"first").hexdigest()
    path.write_bytes(b"second, longer")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert cached_sha256_file(path) == hashlib.sha256(b"second, longer").hexdigest()
