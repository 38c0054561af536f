"""Checks of a generation against its manifest: files, hashes, counts and ids.

A generation up to ``IndexSettings.verify_max_bytes`` is checked fully when it is
opened; a larger one gets sizes, sampled hashes and counts then, and the full check in
a background thread (:func:`verify_in_background`), which marks the loaded state
damaged if it fails, so that retrieval refuses to answer from it.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from pathlib import Path
from typing import Any

import numpy as np

from qa.common.hashing import sample_sha256, sha256_file
from qa.index import store
from qa.index.errors import IndexFormatError
from qa.index.state import IndexState


def segments_of(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The segments a manifest names (format 1: its one generation folder, no BM25 files)."""
    segments = manifest.get("segments")
    if isinstance(segments, list):
        return segments
    files = manifest.get("files", {})
    store_entry = files.get("store", {}) if isinstance(files, dict) else {}
    name = str(store_entry.get("path", "")).split("/")[0]
    return [{"name": name, "files": files, "counts": manifest.get("counts", {})}]


def _entry_path(root: Path, files: dict[str, Any], role: str) -> Path:
    entry = files.get(role)
    if not isinstance(entry, dict) or "path" not in entry:
        raise IndexFormatError(f"{root}: manifest lacks the {role} file")
    file_path = root / entry["path"]
    if not file_path.is_file():
        raise IndexFormatError(f"{file_path}: missing ({role} file of the index)")
    if file_path.stat().st_size != entry.get("bytes"):
        raise IndexFormatError(f"{file_path}: damaged ({role} file does not match the manifest)")
    return file_path


def verify_files(root: Path, manifest: dict[str, Any], *, full: bool) -> None:
    """Check every file the manifest names: present, of its size, and of its hash.

    Args:
        root: The index directory.
        manifest: Its manifest.
        full: Hash whole files (``sha256``); otherwise only the sampled hash
            (``sample_sha256``, format version 2), which reads a few MiB per file.

    Raises:
        IndexFormatError: Naming the first file that does not match.

    """
    for segment in segments_of(manifest):
        files = segment.get("files", {})
        if not isinstance(files, dict):
            raise IndexFormatError(f"{root}: manifest lacks its file list")
        for role in ("store", "vectors", *sorted(r for r in files if r.startswith("bm25/"))):
            file_path = _entry_path(root, files, role)
            entry = files[role]
            if full or "sample_sha256" not in entry:
                ok = sha256_file(file_path) == entry.get("sha256")
            else:
                ok = sample_sha256(file_path) == entry.get("sample_sha256")
            if not ok:
                raise IndexFormatError(
                    f"{file_path}: damaged ({role} file does not match the manifest)"
                )


def generation_bytes(manifest: dict[str, Any]) -> int:
    """Total size of the files of the generation ``manifest`` names."""
    return sum(
        int(e.get("bytes", 0))
        for segment in segments_of(manifest)
        for e in segment.get("files", {}).values()
        if isinstance(e, dict)
    )


def check_contents(root: Path, state: IndexState, manifest: dict[str, Any], *, full: bool) -> None:
    """Check that the store, the vectors and the manifest describe the same chunks.

    Counts always; with ``full``, also SQLite's integrity check and that the vector
    ids are exactly the chunk ids.

    Raises:
        IndexFormatError: If they disagree or the store is damaged.

    """
    counts = manifest.get("counts", {})
    try:
        if full and state.rows is not None:
            for opened in state.rows.stores:
                store.check(opened.path)
        n_articles, n_chunks = len(state.articles), len(state.chunks)
        same_ids = True
        if full and state.rows is not None:
            same_ids = np.array_equal(np.sort(state.vectors.ids()), state.rows.chunk_ids())
    except (store.StoreError, sqlite3.DatabaseError) as exc:
        raise IndexFormatError(f"{root}: damaged index ({exc})") from exc
    if (
        len(state.vectors) != n_chunks
        or counts.get("chunks") != n_chunks
        or counts.get("articles") != n_articles
        or not same_ids
    ):
        raise IndexFormatError(
            f"{root}: damaged index (store has {n_articles} articles/{n_chunks} "
            f"chunks, vectors {len(state.vectors)}, manifest {counts})"
        )


def verify_in_background(root: Path, manifest: dict[str, Any], state: IndexState) -> None:
    """Check a large generation fully in a background thread; mark it damaged if it fails."""
    ref = weakref.ref(state)

    def run() -> None:
        target = ref()
        if target is None:
            return
        try:
            verify_files(root, manifest, full=True)
            check_contents(root, target, manifest, full=True)
        except (IndexFormatError, OSError) as exc:
            target.damage = str(exc)

    threading.Thread(target=run, name="newsqa-verify", daemon=True).start()
