"""The index directory's format: the manifest, its checks, and loading one generation.

``manifest.json`` names the generation's files with their sizes and sha256, and
records what the index was built with (format version, model, dimension,
chunking, package version). Anything that does not match gives an
:class:`IndexFormatError` naming the directory and the problem. A write that
fails for lack of space or permission becomes an :class:`IndexWriteError`
(:func:`write_error`) naming the directory and the cause.
"""

from __future__ import annotations

import errno
import json
import os
import re
import resource
import shutil
import sqlite3
import time
from pathlib import Path
from typing import Any

from embeddings.vector_index import VectorIndex, VectorIndexError
from qa.common.hashing import sample_sha256, sha256_file
from qa.index import lexical, store
from qa.index.checks import check_contents, segments_of, verify_files
from qa.index.errors import IndexFormatError
from qa.index.rows import StoreRows
from qa.index.state import IndexState
from qa.index.views import Rows

FORMAT = "newsqa-index"
FORMAT_VERSION = 2
READS = (1, 2)
"""Format versions this code opens: 1 has no saved BM25 (built on first use)."""
MANIFEST = "manifest.json"


class IndexWriteError(RuntimeError):
    """A write to the index failed for a reason outside it: full disk or read-only directory.

    Attributes:
        reason: ``"full"`` (no space left, a quota, or the file size limit),
            ``"read-only"`` (permission denied or a read-only file system), or
            ``"io"`` (another I/O error while writing).
        unchanged: Whether the index on disk is exactly as it was before the write.

    """

    def __init__(self, message: str, reason: str, unchanged: bool = True) -> None:
        super().__init__(message)
        self.reason = reason
        self.unchanged = unchanged


_FULL = tuple(code for code in (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", None)) if code)
_DENIED = (errno.EACCES, errno.EPERM, errno.EROFS)
_SQLITE_FULL = ("SQLITE_FULL",)
_SQLITE_DENIED = ("SQLITE_READONLY", "SQLITE_PERM", "SQLITE_AUTH")


def _classify(exc: BaseException) -> tuple[str, str] | None:
    """``(reason, detail)`` of a failed write, or ``None`` if ``exc`` is no disk problem.

    ``reason`` is ``full``, ``read-only`` or ``io``; ``detail`` names the error and file.
    """
    if isinstance(exc, OSError) and exc.errno is not None:
        detail = exc.strerror or str(exc)
        if exc.filename:
            detail = f"{detail}: {Path(str(exc.filename)).name}"
        if exc.errno in _FULL:
            return "full", detail
        if exc.errno in _DENIED:
            return "read-only", detail
        return ("io", detail) if exc.errno == errno.EIO else None
    if isinstance(exc, sqlite3.Error):
        name = str(getattr(exc, "sqlite_errorname", "") or "")
        detail = f"SQLite: {exc}"
        if name.startswith(_SQLITE_FULL):
            return "full", detail
        if name.startswith(_SQLITE_DENIED):
            return "read-only", detail
        return ("io", detail) if name.startswith("SQLITE_IOERR") else None
    if isinstance(exc, RuntimeError):  # FAISS reports a failed write with strerror in the text
        text = str(exc)
        where = re.search(r"(?:write error in|could not open) (\S+?)(?::| for writing)", text)
        if where is None:
            return None
        name = Path(where.group(1)).name
        for reason, codes in (("full", _FULL), ("read-only", _DENIED)):
            for code in codes:
                if os.strerror(code) in text:
                    return reason, f"{os.strerror(code)}: {name}"
        return "io", f"write error: {name}"
    return None


def _limit_note(root: Path) -> str:
    """What may explain an I/O error with no errno: the file size limit or a nearly full disk."""
    soft, _ = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY:
        return f"the file size limit is {soft:,} bytes"
    try:
        free = shutil.disk_usage(root).free
    except OSError:
        return ""
    return f"only {free:,} bytes are free on its disk" if free < 64 * 2**20 else ""


def write_error(
    root: Path, exc: BaseException, *, unchanged: bool = True
) -> IndexWriteError | None:
    """An :class:`IndexWriteError` naming ``root`` for a disk-full or permission failure.

    Args:
        root: The index directory.
        exc: What the write raised (``OSError``, ``sqlite3.Error`` or FAISS's
            ``RuntimeError``).
        unchanged: Whether the index on disk was left exactly as before.

    Returns:
        The error to raise instead, or ``None`` when ``exc`` is no disk problem.

    """
    found = _classify(exc)
    if found is None:
        return None
    reason, detail = found
    state = (
        "the index is unchanged"
        if unchanged
        else "the new generation was committed but not fully synced"
    )
    if reason == "full":
        what = f"the disk is full or the file size limit was reached ({detail})"
    elif reason == "read-only":
        what = f"the index directory is read-only (no permission to write: {detail})"
    else:
        note = _limit_note(root)
        if note:
            reason = "full"
            what = f"the disk is full or the file size limit was reached ({detail}; {note})"
        else:
            what = f"an I/O error occurred while writing ({detail})"
    return IndexWriteError(f"{root}: cannot write to the index: {what}; {state}", reason, unchanged)


def package_version() -> str:
    """Installed version of this project."""
    try:
        from importlib.metadata import version

        return version("newsqa")
    except Exception:  # pragma: no cover - running from a source tree
        return "0+unknown"


def read_manifest(
    manifest_path: Path, *, root: Path, model: str, dimension: int, chunking: dict[str, int]
) -> dict[str, Any]:
    """Read ``manifest_path`` and check it matches the encoder and chunking settings.

    Raises:
        IndexFormatError: If it is unreadable, not a manifest, another format
            version, or built with another model, dimension or chunking.

    """
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexFormatError(f"{manifest_path}: unreadable manifest ({exc})") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexFormatError(f"{manifest_path}: not a {FORMAT} manifest")
    if manifest.get("format_version") not in READS:
        raise IndexFormatError(
            f"{root}: index format version {manifest.get('format_version')}, "
            f"this version reads {' and '.join(map(str, READS))}; rebuild the index"
        )
    if manifest.get("model") != model:
        raise IndexFormatError(
            f"{root}: index built with model {manifest.get('model')!r}, "
            f"but the encoder is {model!r}; rebuild the index"
        )
    if manifest.get("dimension") != dimension:
        raise IndexFormatError(
            f"{root}: index dimension {manifest.get('dimension')}, encoder gives {dimension}"
        )
    if manifest.get("chunking") != chunking:
        raise IndexFormatError(
            f"{root}: index chunked with {manifest.get('chunking')}, settings say "
            f"{chunking}; rebuild the index or use matching settings"
        )
    return manifest


def read_generation(
    root: Path, manifest: dict[str, Any], dimension: int, *, full: bool = True, nprobe: int = 64
) -> IndexState:
    """Load the generation ``manifest`` names, checking its files against it.

    Each segment's store is opened read-only and read on demand; IVF vector files
    and the BM25 matrices are memory-mapped.

    Args:
        root: The index directory.
        manifest: Its manifest (already matched to the encoder and chunking).
        dimension: The vectors' width.
        full: Check whole-file hashes, the stores' integrity and every id; otherwise
            sizes, sampled hashes and counts (see :func:`~qa.index.checks.verify_files`).
        nprobe: Cells an IVF index searches per question.

    Raises:
        IndexFormatError: If a file is missing, its size or hash differs from the
            manifest, or the stores and the vectors disagree.

    """
    verify_files(root, manifest, full=full)
    stores: list[StoreRows] = []
    vectors: list[VectorIndex] = []
    bm25_dirs: list[Path | None] = []
    try:
        for segment in segments_of(manifest):
            files = segment["files"]
            store_path = root / files["store"]["path"]
            if not full:
                store.check_header(store_path)
            stores.append(StoreRows(store_path))
            vectors.append(
                VectorIndex.load(
                    root / files["vectors"]["path"], dimension, mmap=True, nprobe=nprobe
                )
            )
            ids_role = f"bm25/{lexical.IDS}"
            bm25_dirs.append((root / files[ids_role]["path"]).parent if ids_role in files else None)
    except (store.StoreError, VectorIndexError, sqlite3.DatabaseError, KeyError) as exc:
        for opened in stores:
            opened.close()
        raise IndexFormatError(f"{root}: damaged index ({exc})") from exc
    state = IndexState.from_segments(int(manifest["generation"]), Rows(stores), vectors, bm25_dirs)
    check_contents(root, state, manifest, full=full)
    if any(d is not None for d in bm25_dirs):
        try:
            state.lexical()
        except ValueError as exc:
            raise IndexFormatError(f"{root}: damaged index ({exc})") from exc
    return state


def describe_segment(
    root: Path, seg_dir: Path, counts: tuple[int, int], vectors: dict[str, Any]
) -> dict[str, Any]:
    """The manifest entry of the finished segment in ``seg_dir``.

    Every file is listed with its size, ``sha256`` and ``sample_sha256``; ``vectors``
    describes the vector index (``kind``, ``lists``).
    """
    roles = {"store": seg_dir / "store.sqlite", "vectors": seg_dir / "vectors.faiss"}
    bm25_dir = seg_dir / "bm25"
    if bm25_dir.is_dir():
        roles.update({f"bm25/{p.name}": p for p in sorted(bm25_dir.iterdir()) if p.is_file()})
    files = {
        role: {
            "path": path.relative_to(root).as_posix(),
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
            "sample_sha256": sample_sha256(path),
        }
        for role, path in roles.items()
    }
    return {
        "name": seg_dir.name,
        "counts": {"articles": counts[0], "chunks": counts[1]},
        "vectors": vectors,
        "files": files,
    }


def build_manifest(
    *,
    generation: int,
    segments: list[dict[str, Any]],
    next_segment: int,
    model: str,
    dimension: int,
    chunking: dict[str, int],
    created: str | None,
) -> dict[str, Any]:
    """The manifest of a generation made of ``segments`` (from :func:`describe_segment`)."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "package_version": package_version(),
        "model": model,
        "dimension": dimension,
        "metric": "inner_product_over_unit_vectors",
        "chunking": chunking,
        "generation": generation,
        "created": created if created is not None else now,
        "updated": now,
        "counts": {
            "articles": sum(s["counts"]["articles"] for s in segments),
            "chunks": sum(s["counts"]["chunks"] for s in segments),
        },
        "next_segment": next_segment,
        "segments": segments,
    }
