"""The index directory's format: the manifest, its checks, and loading one generation.

``manifest.json`` names the generation's files with their sizes and sha256, and
records what the index was built with (format version, model, dimension,
chunking, package version). Anything that does not match gives an
:class:`IndexFormatError` naming the directory and the problem.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from embeddings.vector_index import VectorIndex, VectorIndexError
from qa.common.hashing import sha256_file
from qa.index import store
from qa.index.state import IndexState

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
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexFormatError(
            f"{root}: index format version {manifest.get('format_version')}, "
            f"this version reads {FORMAT_VERSION}; rebuild the index"
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


def read_generation(root: Path, manifest: dict[str, Any], dimension: int) -> IndexState:
    """Load the generation ``manifest`` names, checking every file against it.

    Raises:
        IndexFormatError: If a file is missing, its size or hash differs from the
            manifest, or the store and the vectors disagree.

    """
    files = manifest.get("files", {})
    paths = {}
    for role in ("store", "vectors"):
        entry = files.get(role)
        if not isinstance(entry, dict) or "path" not in entry:
            raise IndexFormatError(f"{root}: manifest lacks the {role} file")
        file_path = root / entry["path"]
        if not file_path.is_file():
            raise IndexFormatError(f"{file_path}: missing ({role} file of the index)")
        if file_path.stat().st_size != entry.get("bytes") or sha256_file(file_path) != entry.get(
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
        vectors = VectorIndex.load(paths["vectors"], dimension)
    except (store.StoreError, VectorIndexError, sqlite3.DatabaseError, KeyError) as exc:
        raise IndexFormatError(f"{root}: damaged index ({exc})") from exc
    counts = manifest.get("counts", {})
    if (
        len(vectors) != len(chunks)
        or counts.get("chunks") != len(chunks)
        or counts.get("articles") != len(articles)
        or set(vectors.ids().tolist()) != set(chunks)
    ):
        raise IndexFormatError(
            f"{root}: damaged index (store has {len(articles)} articles/{len(chunks)} "
            f"chunks, vectors {len(vectors)}, manifest {counts})"
        )
    by_hash = {a.content_hash: a.article_id for a in articles.values()}
    return IndexState(int(manifest["generation"]), articles, chunks, vectors, by_hash)


def build_manifest(
    *,
    gen_dir: Path,
    generation: int,
    n_articles: int,
    n_chunks: int,
    model: str,
    dimension: int,
    chunking: dict[str, int],
    created: str | None,
) -> dict[str, Any]:
    """The manifest for the finished generation in ``gen_dir``."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    files = {}
    for role, filename in (("store", "store.sqlite"), ("vectors", "vectors.faiss")):
        path = gen_dir / filename
        files[role] = {
            "path": f"{gen_dir.name}/{filename}",
            "bytes": path.stat().st_size,
            "sha256": sha256_file(path),
        }
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
        "counts": {"articles": n_articles, "chunks": n_chunks},
        "files": files,
    }
