"""The on-disk index: a self-describing directory, written atomically.

Layout::

    DIR/manifest.json          the commit point (replaced atomically)
    DIR/gen-000007/store.sqlite   articles and chunks (SQLite)
    DIR/gen-000007/vectors.faiss  chunk vectors keyed by chunk id (FAISS)
    DIR/.lock                  writer lock

Every write builds a complete new generation beside the current one and then
swaps ``manifest.json`` with ``os.replace``. A crash or Ctrl-C at any moment
leaves the previous manifest, and so the previous generation, intact. BM25 is
rebuilt in memory from the store's chunk texts (no extra file to keep in sync).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from embeddings.vector_index import VectorIndex, VectorIndexError
from qa import store
from qa.chunking import chunk_article, embedding_text
from qa.types import Article, Chunk, IngestReport, Rejection

FORMAT = "newsqa-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


class IndexFormatError(RuntimeError):
    """The index directory is not usable (mismatched, damaged or not an index)."""


def package_version() -> str:
    """Installed version of this project."""
    try:
        from importlib.metadata import version

        return version("newsqa")
    except Exception:  # pragma: no cover - running from a source tree
        return "0+unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class IndexState:
    """One generation, loaded in memory. Replaced whole on every write."""

    generation: int
    articles: dict[str, Article]
    chunks: dict[int, Chunk]
    vectors: VectorIndex
    by_hash: dict[str, str] = field(default_factory=dict)
    _bm25: Any = None
    _bm25_ids: np.ndarray | None = None
    _bm25_lock: threading.Lock = field(default_factory=threading.Lock)

    def bm25(self) -> tuple[Any, np.ndarray]:
        """The BM25 model over chunk texts (built on first use) and its doc->chunk ids."""
        with self._bm25_lock:
            if self._bm25 is None:
                import bm25s

                ids = np.array(sorted(self.chunks), dtype=np.int64)
                texts = [
                    f"{self.articles[self.chunks[i].article_id].title}\n{self.chunks[i].text}"
                    for i in ids
                ]
                model = bm25s.BM25()
                if texts:
                    model.index(
                        bm25s.tokenize(texts, stopwords="en", show_progress=False),
                        show_progress=False,
                    )
                self._bm25, self._bm25_ids = model, ids
        assert self._bm25_ids is not None
        return self._bm25, self._bm25_ids


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds, for ``qa info`` and the UI."""

    path: str
    articles: int
    chunks: int
    oldest_date: str | None
    newest_date: str | None
    model: str
    dimension: int
    format_version: int
    generation: int
    chunking: dict[str, int]


class Index:
    """An index directory: open, read, and write it atomically."""

    def __init__(self, path: Path, encoder: Encoder, chunking: dict[str, int]) -> None:
        self.path = path
        self.encoder = encoder
        self.chunking = dict(chunking)
        self.manifest: dict[str, Any] = {}
        self.state = IndexState(0, {}, {}, VectorIndex(encoder.dimension))

    # ----------------------------------------------------------------- open
    @classmethod
    def open(
        cls, path: str | Path, encoder: Encoder, chunking: dict[str, int], create: bool = True
    ) -> Index:
        """Open the index at ``path`` (creating an empty one if allowed).

        Raises:
            IndexFormatError: If ``path`` is not an index, was built with another
                model, dimension, chunking or format version, or is damaged.

        """
        root = Path(path)
        index = cls(root, encoder, chunking)
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

    def _load(self, manifest_path: Path) -> None:
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexFormatError(f"{manifest_path}: unreadable manifest ({exc})") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise IndexFormatError(f"{manifest_path}: not a {FORMAT} manifest")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(
                f"{self.path}: index format version {manifest.get('format_version')}, "
                f"this version reads {FORMAT_VERSION}; rebuild the index"
            )
        if manifest.get("model") != self.encoder.name:
            raise IndexFormatError(
                f"{self.path}: index built with model {manifest.get('model')!r}, "
                f"but the encoder is {self.encoder.name!r}; rebuild the index"
            )
        if manifest.get("dimension") != self.encoder.dimension:
            raise IndexFormatError(
                f"{self.path}: index dimension {manifest.get('dimension')}, encoder gives "
                f"{self.encoder.dimension}"
            )
        if manifest.get("chunking") != self.chunking:
            raise IndexFormatError(
                f"{self.path}: index chunked with {manifest.get('chunking')}, settings say "
                f"{self.chunking}; rebuild the index or use matching settings"
            )
        self.state = self._read_generation(manifest)
        self.manifest = manifest

    def _read_generation(self, manifest: dict[str, Any]) -> IndexState:
        files = manifest.get("files", {})
        paths = {}
        for role in ("store", "vectors"):
            entry = files.get(role)
            if not isinstance(entry, dict) or "path" not in entry:
                raise IndexFormatError(f"{self.path}: manifest lacks the {role} file")
            file_path = self.path / entry["path"]
            if not file_path.is_file():
                raise IndexFormatError(f"{file_path}: missing ({role} file of the index)")
            if file_path.stat().st_size != entry.get("bytes") or _sha256(file_path) != entry.get(
                "sha256"
            ):
                raise IndexFormatError(
                    f"{file_path}: damaged ({role} file does not match the manifest)"
                )
            paths[role] = file_path
        try:
            store.check(paths["store"])
            conn = sqlite3.connect(f"file:{paths['store']}?mode=ro", uri=True)
            try:
                articles = store.load_articles(conn)
                chunks = store.load_chunks(conn, articles)
            finally:
                conn.close()
            vectors = VectorIndex.load(paths["vectors"], self.encoder.dimension)
        except (store.StoreError, VectorIndexError, sqlite3.DatabaseError, KeyError) as exc:
            raise IndexFormatError(f"{self.path}: damaged index ({exc})") from exc
        counts = manifest.get("counts", {})
        if (
            len(vectors) != len(chunks)
            or counts.get("chunks") != len(chunks)
            or counts.get("articles") != len(articles)
            or set(vectors.ids().tolist()) != set(chunks)
        ):
            raise IndexFormatError(
                f"{self.path}: damaged index (store has {len(articles)} articles/{len(chunks)} "
                f"chunks, vectors {len(vectors)}, manifest {counts})"
            )
        by_hash = {a.content_hash: a.article_id for a in articles.values()}
        return IndexState(int(manifest["generation"]), articles, chunks, vectors, by_hash)

    # ---------------------------------------------------------------- write
    @contextlib.contextmanager
    def _writer(self) -> Iterator[None]:
        self.path.mkdir(parents=True, exist_ok=True)
        with open(self.path / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                manifest_path = self.path / MANIFEST
                if manifest_path.exists():
                    on_disk = json.loads(manifest_path.read_text(encoding="utf-8")).get(
                        "generation"
                    )
                    if on_disk != self.state.generation:
                        self._load(manifest_path)  # another process wrote meanwhile
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def add(
        self,
        articles: Sequence[Article],
        rejected: Sequence[Rejection] = (),
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> IngestReport:
        """Add or update articles (embedding new chunks) and commit a new generation.

        Args:
            articles: Parsed articles; unchanged ones are skipped.
            rejected: Rejections from parsing, passed through to the report.
            batch_size: Encoder batch size.
            progress: Called with the number of chunks embedded after each batch.

        """
        with self._writer():
            state = self.state
            added: list[str] = []
            updated: list[str] = []
            unchanged: list[str] = []
            fresh: dict[str, Article] = {}
            for article in articles:
                current = state.articles.get(article.article_id)
                pending = fresh.get(article.article_id)
                if pending is not None and pending.content_hash == article.content_hash:
                    continue
                if (current is not None and current.content_hash == article.content_hash) or (
                    current is None and article.content_hash in state.by_hash
                ):
                    unchanged.append(article.article_id)
                    continue
                (updated if current is not None else added).append(article.article_id)
                fresh[article.article_id] = article
            if fresh:
                new_chunks = [
                    c for a in fresh.values() for c in chunk_article(a, **self._chunk_args())
                ]
                texts = [embedding_text(fresh[c.article_id], c) for c in new_chunks]
                vectors = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
                for lo in range(0, len(texts), batch_size):
                    vectors[lo : lo + batch_size] = self.encoder.encode(
                        texts[lo : lo + batch_size], batch_size
                    )
                    if progress is not None:
                        progress(min(batch_size, len(texts) - lo))
                self._commit(
                    fresh=list(fresh.values()), chunks=new_chunks, vectors=vectors, deleted=[]
                )
            return IngestReport(
                tuple(dict.fromkeys(added)),
                tuple(dict.fromkeys(updated)),
                tuple(dict.fromkeys(unchanged)),
                tuple(rejected),
            )

    def delete(self, article_ids: Sequence[str]) -> list[str]:
        """Delete articles by id; returns those that existed."""
        with self._writer():
            present = [a for a in article_ids if a in self.state.articles]
            if present:
                self._commit(fresh=[], chunks=[], vectors=None, deleted=present)
            return present

    def _chunk_args(self) -> dict[str, int]:
        return {
            "max_tokens": self.chunking["chunk_max_tokens"],
            "overlap_tokens": self.chunking["chunk_overlap_tokens"],
        }

    def _commit(
        self,
        fresh: list[Article],
        chunks: list[Chunk],
        vectors: np.ndarray | None,
        deleted: list[str],
    ) -> None:
        old = self.state
        generation = old.generation + 1
        name = f"gen-{generation:06d}"
        tmp_dir = self.path / f"{name}.tmp-{os.getpid()}"
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir)
        tmp_dir.mkdir(parents=True)
        old_store = self.path / self.manifest["files"]["store"]["path"] if self.manifest else None
        new_store = tmp_dir / "store.sqlite"
        if old_store is not None:
            shutil.copyfile(old_store, new_store)
        conn = store.connect(new_store)
        removed_ids: list[int] = []
        try:
            with conn:
                for article_id in deleted:
                    removed_ids.extend(store.delete_article(conn, article_id))
                by_article: dict[str, list[Chunk]] = {}
                for chunk in chunks:
                    by_article.setdefault(chunk.article_id, []).append(chunk)
                for article in fresh:
                    removed_ids.extend(
                        r[0]
                        for r in conn.execute(
                            "SELECT chunk_id FROM chunks WHERE article_id = ?",
                            (article.article_id,),
                        )
                    )
                    store.put_article(conn, article, by_article.get(article.article_id, []))
            conn.execute("VACUUM")
        finally:
            conn.close()
        index = old.vectors.clone()
        index.remove(removed_ids)
        if vectors is not None and len(chunks):
            index.add(np.array([c.chunk_id for c in chunks], dtype=np.int64), vectors)
        index.save(tmp_dir / "vectors.faiss")
        with open(new_store, "rb") as handle:
            os.fsync(handle.fileno())
        _fsync_dir(tmp_dir)
        final_dir = self.path / name
        if final_dir.exists():
            shutil.rmtree(final_dir)
        os.replace(tmp_dir, final_dir)

        articles = dict(old.articles)
        chunk_map = dict(old.chunks)
        for cid in removed_ids:
            chunk_map.pop(cid, None)
        for article_id in deleted:
            articles.pop(article_id, None)
        for article in fresh:
            articles[article.article_id] = article
        for chunk in chunks:
            chunk_map[chunk.chunk_id] = chunk
        manifest = self._manifest(generation, final_dir, len(articles), len(chunk_map))
        tmp_manifest = self.path / f"{MANIFEST}.tmp-{os.getpid()}"
        tmp_manifest.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        with open(tmp_manifest, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp_manifest, self.path / MANIFEST)  # <- the commit point
        _fsync_dir(self.path)
        self.manifest = manifest
        self.state = IndexState(
            generation,
            articles,
            chunk_map,
            index,
            {a.content_hash: a.article_id for a in articles.values()},
        )
        self._remove_stale(keep=name)

    def _manifest(
        self, generation: int, gen_dir: Path, n_articles: int, n_chunks: int
    ) -> dict[str, Any]:
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        files = {}
        for role, filename in (("store", "store.sqlite"), ("vectors", "vectors.faiss")):
            path = gen_dir / filename
            files[role] = {
                "path": f"{gen_dir.name}/{filename}",
                "bytes": path.stat().st_size,
                "sha256": _sha256(path),
            }
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "package_version": package_version(),
            "model": self.encoder.name,
            "dimension": self.encoder.dimension,
            "metric": "inner_product_over_unit_vectors",
            "chunking": self.chunking,
            "generation": generation,
            "created": self.manifest.get("created", now),
            "updated": now,
            "counts": {"articles": n_articles, "chunks": n_chunks},
            "files": files,
        }

    def _remove_stale(self, keep: str) -> None:
        for child in self.path.iterdir():
            if child.is_dir() and child.name.startswith("gen-") and child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
            elif child.name.startswith(f"{MANIFEST}.tmp-"):
                child.unlink(missing_ok=True)

    # ----------------------------------------------------------------- read
    def info(self) -> IndexInfo:
        """Counts and dates of what the index holds."""
        dates = sorted(a.date for a in self.state.articles.values() if a.date)
        return IndexInfo(
            path=str(self.path),
            articles=len(self.state.articles),
            chunks=len(self.state.chunks),
            oldest_date=dates[0] if dates else None,
            newest_date=dates[-1] if dates else None,
            model=self.encoder.name,
            dimension=self.encoder.dimension,
            format_version=FORMAT_VERSION,
            generation=self.state.generation,
            chunking=self.chunking,
        )
