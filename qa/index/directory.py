"""The on-disk index: a self-describing directory, written atomically.

Writing is the ingest pipeline's job (:mod:`qa.ingest.pipeline`): it takes
:meth:`Index.writer`, decides what changed, embeds, and calls :meth:`Index.commit`.

Layout::

    DIR/manifest.json          the commit point (replaced atomically; see qa.index.format)
    DIR/gen-000007/store.sqlite   articles and chunks (SQLite)
    DIR/gen-000007/vectors.faiss  chunk vectors keyed by chunk id (FAISS)
    DIR/.lock                  writer lock

Every write builds a complete new generation beside the current one and then
swaps ``manifest.json`` with ``os.replace``. A crash or Ctrl-C at any moment
leaves the previous manifest, and so the previous generation, intact. BM25 is
rebuilt in memory from the store's chunk texts (no extra file to keep in sync).

A write that fails because the disk is full (or a file size limit is reached) or
the directory is read-only raises :class:`~qa.index.format.IndexWriteError` naming
the directory and the cause; the half-written generation is removed first, so
the index on disk is as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from embeddings.vector_index import VectorIndex
from qa.common.files import atomic_write_text
from qa.index.format import (
    FORMAT_VERSION,
    MANIFEST,
    IndexFormatError,
    build_manifest,
    generation_bytes,
    read_generation,
    read_manifest,
    verify_in_background,
    write_error,
)
from qa.index.state import IndexState
from qa.index.writing import Base, write_generation
from qa.settings import IndexSettings
from qa.types import Article, Chunk


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds, for ``qa info`` and the UI.

    ``undated`` counts the articles whose date is unknown (``Article.date is None``).
    """

    path: str
    articles: int
    chunks: int
    oldest_date: str | None
    newest_date: str | None
    undated: int
    model: str
    dimension: int
    format_version: int
    generation: int
    chunking: dict[str, int]


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
            state.bm25()  # ready before the switch: no question waits for it
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
        name = f"gen-{generation:06d}"
        tmp_dir = self.path / f"{name}.tmp-{os.getpid()}"
        final_dir = self.path / name
        try:
            base = Base(
                self.path, self.manifest, self.state.vectors, self.encoder.dimension, self.layout
            )
            counts, layout = write_generation(
                base, tmp_dir, fresh=fresh, chunks=chunks, vectors=vectors, deleted=deleted
            )
            if final_dir.exists():
                shutil.rmtree(final_dir)
            os.replace(tmp_dir, final_dir)
            manifest = self._manifest(generation, final_dir, *counts, layout)
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
        state.bm25()  # ready before the switch, so no question after a write waits for it
        self.state = state
        self._stamp = _stamp(self.path / MANIFEST)
        self._remove_stale(keep=name)

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
            generation = json.loads((self.path / MANIFEST).read_text(encoding="utf-8"))[
                "generation"
            ]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return generation if isinstance(generation, int) else None

    def _manifest(
        self,
        generation: int,
        gen_dir: Path,
        n_articles: int,
        n_chunks: int,
        layout: dict[str, Any],
    ) -> dict[str, Any]:
        return build_manifest(
            vectors=layout,
            gen_dir=gen_dir,
            generation=generation,
            n_articles=n_articles,
            n_chunks=n_chunks,
            model=self.encoder.name,
            dimension=self.encoder.dimension,
            chunking=self.chunking,
            created=self.manifest.get("created"),
        )

    def _remove_stale(self, keep: str) -> None:
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith(f"{MANIFEST}.tmp-"):
                with contextlib.suppress(OSError):
                    child.unlink(missing_ok=True)

    # ----------------------------------------------------------------- read
    def info(self) -> IndexInfo:
        """Counts and dates of what the index holds, including how many are undated."""
        oldest, newest, undated = self.state.dates()
        return IndexInfo(
            path=str(self.path),
            articles=len(self.state.articles),
            chunks=len(self.state.chunks),
            oldest_date=oldest,
            newest_date=newest,
            undated=undated,
            model=self.encoder.name,
            dimension=self.encoder.dimension,
            format_version=FORMAT_VERSION,
            generation=self.state.generation,
            chunking=self.chunking,
        )


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """``(inode, mtime_ns, size)`` of ``path``, or ``None`` if it is not there.

    The manifest is replaced by rename, so a new generation always changes the inode.
    """
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)
