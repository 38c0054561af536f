"""The on-disk index: a self-describing directory of segments, written atomically.

Writing is the ingest pipeline's job (:mod:`qa.ingest.pipeline`): it takes
:meth:`Index.writer`, decides what changed, embeds, and calls :meth:`Index.commit`.
Layout (docs/index-format.md)::

    DIR/manifest.json              the commit point: the generation's segments, their files
    DIR/seg-000007/store.sqlite    articles and chunks (SQLite), read on demand
    DIR/seg-000007/vectors.faiss   chunk vectors keyed by chunk id (flat or IVF by size)
    DIR/seg-000007/bm25/           BM25 matrices and their chunk ids (memory-mapped)
    DIR/.lock                      writer lock

A commit writes its new segment completely beside the others, then swaps
``manifest.json`` with ``os.replace``; a crash at any moment leaves the previous
manifest, and so the previous generation, intact. A write that fails because the disk
is full or the directory is read-only raises :class:`~qa.index.format.IndexWriteError`
naming the directory and the cause, after removing what it had half written.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from embeddings.vector_index import VectorIndex
from qa.common.files import atomic_write_text
from qa.index.checks import generation_bytes, verify_in_background
from qa.index.format import (
    MANIFEST,
    IndexFormatError,
    build_manifest,
    describe_segment,
    read_generation,
    read_manifest,
    segments_of,
    write_error,
)
from qa.index.info import IndexInfo, describe_index
from qa.index.state import IndexState
from qa.index.writing import write_segment
from qa.settings import IndexSettings
from qa.types import Article, Chunk


class Index:
    """An index directory: open, read, and write it atomically."""

    def __init__(
        self,
        path: Path,
        encoder: Encoder,
        chunking: dict[str, int],
        layout: IndexSettings | None = None,
    ) -> None:
        self.path = path
        self.encoder = encoder
        self.chunking = dict(chunking)
        self.layout = layout if layout is not None else IndexSettings()
        self.manifest: dict[str, Any] = {}
        self.state = IndexState(0, {}, {}, VectorIndex(encoder.dimension))
        self._stamp: tuple[int, int, int] | None = None  # the loaded manifest's stat
        self._refresh_lock = threading.Lock()

    # ----------------------------------------------------------------- open
    @classmethod
    def open(
        cls,
        path: str | Path,
        encoder: Encoder,
        chunking: dict[str, int],
        create: bool = True,
        layout: IndexSettings | None = None,
    ) -> Index:
        """Open the index at ``path`` (creating an empty one if allowed).

        A generation up to ``layout.verify_max_bytes`` is fully checked here; a larger
        one gets sizes, sampled hashes and counts here and the full check in a
        background thread (a mismatch it finds makes the generation refuse questions:
        ``IndexState.damage``).

        Raises:
            IndexFormatError: If ``path`` is not an index, was built with another
                model, dimension, chunking or format version, or is damaged.

        """
        root = Path(path)
        index = cls(root, encoder, chunking, layout)
        manifest_path = root / MANIFEST
        if not manifest_path.exists():
            if root.exists() and not root.is_dir():
                raise IndexFormatError(f"{root}: not a directory")
            if root.is_dir() and any(p for p in root.iterdir() if not p.name.startswith(".")):
                raise IndexFormatError(f"{root}: not an index (no {MANIFEST}) and not empty")
            if not create:
                raise IndexFormatError(f"{root}: no index here (no {MANIFEST})")
            return index
        index._load(manifest_path)
        return index

    def _load(self, manifest_path: Path, warm: bool = False) -> None:
        stamp = _stamp(manifest_path)
        manifest = read_manifest(
            manifest_path,
            root=self.path,
            model=self.encoder.name,
            dimension=self.encoder.dimension,
            chunking=self.chunking,
        )
        full = generation_bytes(manifest) <= self.layout.verify_max_bytes
        state = read_generation(
            self.path, manifest, self.encoder.dimension, full=full, nprobe=self.layout.ivf_nprobe
        )
        if warm:
            state.lexical()  # ready before the switch: no question waits for it
        if not full:
            verify_in_background(self.path, manifest, state)
        self.state = state
        self.manifest = manifest
        self._stamp = stamp

    def refresh(self) -> bool:
        """Switch to a newer generation that another process committed, if there is one.

        For long-running readers (``qa serve``, ``qa chat``) while ``qa ingest`` runs
        elsewhere. Cheap when nothing changed: one ``stat`` of the manifest. A reader
        that already holds ``state`` keeps reading it; the next question gets the new one.

        Returns:
            Whether it switched.

        Raises:
            IndexFormatError: If the newer generation is damaged (after retries: a
                writer may remove a generation just after replacing it).
        """
        manifest_path = self.path / MANIFEST
        stamp = _stamp(manifest_path)
        if stamp is None or stamp == self._stamp:
            return False
        with self._refresh_lock:
            stamp = _stamp(manifest_path)
            if stamp is None or stamp == self._stamp:
                return False
            for attempt in range(3):
                try:
                    if self._generation_on_disk() == self.state.generation:
                        self._stamp = stamp
                        return False
                    self._load(manifest_path, warm=True)
                    return True
                except (OSError, ValueError, IndexFormatError):
                    if attempt == 2:
                        raise
                    stamp = _stamp(manifest_path)
        return False

    # ---------------------------------------------------------------- write
    @contextlib.contextmanager
    def writer(self) -> Iterator[IndexState]:
        """Hold the writer lock (``DIR/.lock``) and yield the current state.

        Reloads first if another process committed meanwhile, so what the caller
        reads (to skip unchanged articles) is what it will write on top of.

        Raises:
            IndexWriteError: If the directory is read-only or the disk is full.

        """
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            lock = open(self.path / ".lock", "w")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            error = write_error(self.path, exc)
            if error is not None:
                raise error from exc
            raise
        with lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                manifest_path = self.path / MANIFEST
                if manifest_path.exists():
                    on_disk = json.loads(manifest_path.read_text(encoding="utf-8")).get(
                        "generation"
                    )
                    if on_disk != self.state.generation:
                        self._load(manifest_path)  # another process wrote meanwhile
                yield self.state
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def delete(self, article_ids: Sequence[str]) -> list[str]:
        """Delete articles by id; returns those that existed.

        Raises:
            IndexWriteError: As :meth:`commit`.

        """
        with self.writer():
            present = [a for a in article_ids if a in self.state.articles]
            if present:
                self.commit(fresh=[], chunks=[], vectors=None, deleted=present)
            return present

    def commit(
        self,
        fresh: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray | None,
        deleted: list[str],
    ) -> None:
        """Write a new generation and switch to it.

        ``fresh`` articles (replacing any old version and its chunks) come with
        their ``chunks`` and ``vectors``; ``deleted`` articles are removed. Call it
        inside :meth:`writer`. The new generation is complete on disk before
        ``manifest.json`` is replaced (the commit point); readers keep the old
        :class:`IndexState` until the switch.

        Raises:
            IndexWriteError: If the disk is full (or a file size limit is reached) or
                the directory is read-only; the half-written generation is removed.

        """
        generation = self.state.generation + 1
        old_segments = segments_of(self.manifest) if self.manifest else []
        touched = set(deleted) | {a.article_id for a in fresh}
        stores = self.state.rows.stores if self.state.rows is not None else []
        affected = [
            seg
            for seg, opened in zip(old_segments, stores, strict=False)
            if any(opened.has_article(aid) for aid in touched)
        ]
        if len(self.state.chunks) + len(chunks) <= self.layout.single_segment_max_chunks:
            affected = old_segments  # small: one segment, rewritten whole
        kept = [seg for seg in old_segments if seg not in affected]
        self._commit_segments(generation, kept, affected, fresh, chunks, vectors, touched)

    def merge(self) -> bool:
        """Merge every segment but the largest (all, if ``max_segments`` is 1) into one.

        Only when there are more than ``IndexSettings.max_segments``; runs in the
        background after a commit that leaves that many. Takes the writer lock; readers
        keep reading the current generation meanwhile.

        Returns:
            Whether it merged.

        """
        with self.writer():
            segments = segments_of(self.manifest) if self.manifest else []
            if len(segments) <= self.layout.max_segments:
                return False
            largest = max(segments, key=lambda seg: int(seg["counts"]["chunks"]))
            kept = [largest] if self.layout.max_segments > 1 else []  # 1: merge all into one
            small = [seg for seg in segments if seg not in kept]
            self._commit_segments(self.state.generation + 1, kept, small, [], [], None, set())
            return True

    def _commit_segments(
        self,
        generation: int,
        kept: list[dict[str, Any]],
        sources: list[dict[str, Any]],
        fresh: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray | None,
        drop: set[str],
    ) -> None:
        """Write one segment (``sources`` merged, ``drop`` out, ``fresh`` in) and switch.

        The new generation is ``kept`` plus that segment (none if it would be empty
        and replaces nothing). It is complete on disk before ``manifest.json`` is
        replaced (the commit point).
        """
        number = int(self.manifest.get("next_segment", 1)) if self.manifest else 1
        name = f"seg-{number:06d}"
        tmp_dir = self.path / f"{name}.tmp-{os.getpid()}"
        final_dir = self.path / name
        try:
            segments = list(kept)
            if sources or fresh:
                n_articles, n_chunks, layout = write_segment(
                    self.path,
                    tmp_dir,
                    sources,
                    fresh=fresh,
                    chunks=chunks,
                    vectors=vectors,
                    drop=drop,
                    dimension=self.encoder.dimension,
                    layout=self.layout,
                )
                if n_chunks or not kept:
                    if final_dir.exists():
                        shutil.rmtree(final_dir)
                    os.replace(tmp_dir, final_dir)
                    segments.append(
                        describe_segment(self.path, final_dir, (n_articles, n_chunks), layout)
                    )
                else:
                    shutil.rmtree(tmp_dir)
            manifest = self._manifest(generation, segments, number + 1)
            atomic_write_text(self.path / MANIFEST, json.dumps(manifest, indent=2))  # <- the commit
        except BaseException as exc:
            self._abandon(generation, tmp_dir, final_dir, exc)
            raise
        self.manifest = manifest
        state = read_generation(
            self.path,
            manifest,
            self.encoder.dimension,
            full=False,
            nprobe=self.layout.ivf_nprobe,
        )
        state.lexical()  # ready before the switch, so no question after a write waits for it
        self.state = state
        self._stamp = _stamp(self.path / MANIFEST)
        self._remove_stale(keep={seg["name"] for seg in segments})
        if fresh and len(segments) > self.layout.max_segments:  # a merge never starts one
            threading.Thread(target=_merge_quietly, args=(self,), name="newsqa-merge").start()

    def _abandon(self, generation: int, tmp_dir: Path, final_dir: Path, exc: BaseException) -> None:
        """Clean up after a failed commit; raise :class:`IndexWriteError` for disk problems.

        Unless ``manifest.json`` already names the new generation (the switch
        happened and only a later step failed), the half-written generation is
        removed, so the index on disk is exactly the previous one.
        """
        switched = self._generation_on_disk() == generation
        if not switched:
            shutil.rmtree(tmp_dir, ignore_errors=True)
            shutil.rmtree(final_dir, ignore_errors=True)
        error = write_error(self.path, exc, unchanged=not switched)
        if error is not None:
            raise error from exc

    def _generation_on_disk(self) -> int | None:
        try:
            manifest = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))
            generation = manifest["generation"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return generation if isinstance(generation, int) else None

    def _manifest(
        self, generation: int, segments: list[dict[str, Any]], next_segment: int
    ) -> dict[str, Any]:
        return build_manifest(
            generation=generation,
            segments=segments,
            next_segment=next_segment,
            model=self.encoder.name,
            dimension=self.encoder.dimension,
            chunking=self.chunking,
            created=self.manifest.get("created"),
        )

    def _remove_stale(self, keep: set[str]) -> None:
        for child in self.path.iterdir():
            if (
                child.is_dir()
                and child.name.startswith(("gen-", "seg-"))
                and child.name not in keep
            ):
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith(f"{MANIFEST}.tmp-"):
                with contextlib.suppress(OSError):
                    child.unlink(missing_ok=True)

    # ----------------------------------------------------------------- read
    def info(self) -> IndexInfo:
        """Counts and dates of what the index holds, including how many are undated."""
        return describe_index(self.path, self.state, self.encoder, self.chunking)


def _merge_quietly(index: Index) -> None:
    """:meth:`Index.merge` in the background; a failure leaves the index as it was."""
    with contextlib.suppress(Exception):
        index.merge()


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """``(inode, mtime_ns, size)`` of ``path``, or ``None`` if it is not there.

    The manifest is replaced by rename, so a new generation always changes the inode.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
