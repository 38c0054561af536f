"""Ingest on a Ray cluster: parse, chunk and embed as Ray Data pipelines.

``qa ingest --ray [ADDRESS]`` swaps the two slow stages of :class:`IngestPipeline`
for Ray versions and keeps everything else where it was:

1. *parse*: the driver expands folders (:func:`parsing.iter_files`); Ray tasks run
   :func:`parsing.read_path` on each file, exactly as :func:`read_paths` does here.
2. the driver plans against the index (unchanged, updated, duplicate articles);
3. *chunk* (Ray tasks, :func:`chunk_article`) and *embed* (``map_batches`` on a
   pool of actors that each build the encoder once; one GPU per actor where the
   cluster has GPUs) run only for the articles the plan says are new or changed;
4. the driver re-plans under :meth:`Index.writer` and commits, as a local ingest does.

So the chunk ids, offsets and (within float tolerance) vectors are those of a
local ingest. Ray is imported only here, and this module only when ``--ray`` is used.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder, SentenceEncoder
from qa.index import Index
from qa.ingest import parsing
from qa.ingest.chunking import chunk_article, embedding_text
from qa.ingest.pipeline import IngestPipeline, Prepared, Progress
from qa.settings import LimitSettings, Settings
from qa.types import Article, Chunk, Rejection

LOCAL = "local"
"""The address that means "start a Ray cluster on this machine" (``--ray`` alone)."""

RAY_MISSING = "--ray needs Ray, which is not installed: pip install 'newsqa[ray]'"

CPUS_PER_ACTOR = 1
"""CPUs, and torch threads, of each embedding actor on a cluster without GPUs."""

EncoderFactory = Callable[[], Encoder]


def import_ray() -> Any:
    """The ``ray`` module (with Ray Data), or a clear error naming the extra to install.

    Raises:
        RuntimeError: If Ray is not installed.

    """
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise RuntimeError(RAY_MISSING) from exc
    return ray


@dataclass(frozen=True)
class SentenceEncoderFactory:
    """Builds the product's encoder inside a Ray actor (picklable: a path and a thread count)."""

    model_path: str
    threads: int | None = None

    def __call__(self) -> Encoder:
        """A :class:`SentenceEncoder` on the weights at ``model_path``."""
        return SentenceEncoder(self.model_path, threads=self.threads)


@dataclass(frozen=True)
class ShippedEncoder:
    """Ships a picklable encoder object (a test double, say) to the actors as it is."""

    encoder: Encoder

    def __call__(self) -> Encoder:
        """The shipped encoder."""
        return self.encoder


def encoder_factory(encoder: Encoder, threads: int | None = None) -> EncoderFactory:
    """A picklable factory that builds ``encoder``'s equivalent inside a worker."""
    if isinstance(encoder, SentenceEncoder):
        return SentenceEncoderFactory(str(encoder.model_path), threads)
    return ShippedEncoder(encoder)


# ------------------------------------------------------------------ worker side
@contextmanager
def _in_folder(folder: str) -> Iterator[None]:
    """Run in ``folder`` (the driver's), so relative paths resolve as they do there."""
    before = os.getcwd()
    moved = os.path.isdir(folder)
    if moved:
        os.chdir(folder)
    try:
        yield
    finally:
        if moved:
            os.chdir(before)


def _parse_file(row: dict[str, Any], max_bytes: int, limits: LimitSettings, cwd: str) -> list[dict]:
    """Ray task: one file's articles and rejections, as JSON rows in file order."""
    with _in_folder(cwd):
        items = list(parsing.read_path(Path(row["path"]), max_bytes, limits))
    return [
        {"file": row["file"], "item": n, "kind": type(x).__name__, "payload": json.dumps(asdict(x))}
        for n, x in enumerate(items)
    ]


def _chunk(row: dict[str, Any], max_tokens: int, overlap: int, limit: int) -> list[dict]:
    """Ray task: an article's chunks with the text to embed (one marker row if over the limit)."""
    article = Article(**json.loads(row["article"]))
    chunks = chunk_article(article, max_tokens, overlap)
    if len(chunks) > limit:  # refused: the negative ordinal carries the count, nothing to embed
        chunks, texts = [Chunk(0, article.article_id, -len(chunks), 0, 0, "")], [""]
    else:
        texts = [embedding_text(article, c) for c in chunks]
    return [{**asdict(c), "seq": row["seq"], "text": t} for c, t in zip(chunks, texts, strict=True)]


class _Embedder:
    """Ray actor: builds the encoder once, then embeds batches of chunk texts."""

    def __init__(self, factory: EncoderFactory, batch_size: int, device: str) -> None:
        self.encoder = factory()
        self.batch_size = batch_size
        model = getattr(self.encoder, "model", None) if device != "cpu" else None
        if model is not None and hasattr(model, "to"):
            model.to(device)  # sentence-transformers encodes on the model's device

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = batch.pop("text")
        keep = batch["ordinal"] >= 0
        vectors = np.zeros((len(texts), self.encoder.dimension), dtype=np.float32)
        if keep.any():
            vectors[keep] = self.encoder.encode([str(t) for t in texts[keep]], self.batch_size)
        batch["vector"] = vectors
        return batch


# ------------------------------------------------------------------ driver side
class RayIngest:
    """The Ray :class:`~qa.ingest.pipeline.Reader` and :class:`~qa.ingest.pipeline.Preparer`.

    Args:
        ray: The connected ``ray`` module (see :func:`connect`).
        factory: Builds the encoder inside each embedding actor.
        actors: Most embedding actors (default: one per GPU, else one per
            :data:`CPUS_PER_ACTOR` CPUs of the cluster).

    """

    def __init__(self, ray: Any, factory: EncoderFactory, actors: int | None = None) -> None:
        self.ray = ray
        self.factory = factory
        resources = ray.cluster_resources()
        self.gpus = int(resources.get("GPU", 0))
        cpus = max(1, int(resources.get("CPU", 1)))
        self.actors = actors or self.gpus or max(1, cpus // CPUS_PER_ACTOR)

    def read_paths(
        self, paths: Iterable[str | Path], settings: Settings
    ) -> tuple[list[Article], list[Rejection]]:
        """Parse files and folders on the cluster; the same results, in the same order, as here."""
        found: list[tuple[tuple[int, int], Article | Rejection]] = []
        files: list[dict[str, Any]] = []
        for n, item in enumerate(parsing.iter_files(paths)):
            if isinstance(item, Rejection):
                found.append(((n, 0), item))
            else:
                files.append({"file": n, "path": str(item)})
        if files:
            ingest = settings.ingest
            read = {
                "max_bytes": ingest.max_file_bytes,
                "limits": settings.limits,
                "cwd": os.getcwd(),
            }
            parsed = self.ray.data.from_items(files).flat_map(_parse_file, fn_kwargs=read)
            for row in parsed.take_all():
                kind = Article if row["kind"] == "Article" else Rejection
                found.append(((row["file"], row["item"]), kind(**json.loads(row["payload"]))))
        found.sort(key=lambda pair: pair[0])
        articles = [x for _, x in found if isinstance(x, Article)]
        return articles, [x for _, x in found if isinstance(x, Rejection)]

    def prepare(
        self,
        articles: Iterable[Article],
        settings: Settings,
        encoder: Encoder,
        progress: Progress | None = None,
        into: Prepared | None = None,
    ) -> Prepared:
        """Chunk and embed ``articles`` on the cluster, as :func:`~qa.ingest.pipeline.prepare`."""
        done = into if into is not None else Prepared()
        todo = list({a.article_id: a for a in articles}.values())
        if not todo:
            return done
        limit = settings.limits.max_chunks_per_article
        batch = settings.ingest.encode_batch_size
        chunking = settings.chunking
        data = self.ray.data
        rows = [{"seq": n, "article": json.dumps(asdict(a))} for n, a in enumerate(todo)]
        cut = {
            "max_tokens": chunking.max_tokens,
            "overlap": chunking.overlap_tokens,
            "limit": limit,
        }
        device = "cuda" if self.gpus else "cpu"
        dataset = (
            data.from_items(rows)
            .flat_map(_chunk, fn_kwargs=cut)
            .map_batches(
                _Embedder,
                fn_constructor_kwargs={
                    "factory": self.factory,
                    "batch_size": batch,
                    "device": device,
                },
                compute=data.ActorPoolStrategy(min_size=1, max_size=self.actors),
                batch_size=batch * 8,  # an actor's share; it encodes in batches of ``batch``
                batch_format="numpy",
                **({"num_gpus": 1} if self.gpus else {"num_cpus": CPUS_PER_ACTOR}),
            )
        )
        found: dict[int, list[tuple[int, int, int, int, np.ndarray]]] = {}
        for part in dataset.iter_batches(batch_format="numpy", batch_size=None):
            if part["vector"].shape[1] != encoder.dimension:
                raise RuntimeError(
                    f"the cluster's encoder makes {part['vector'].shape[1]}-d vectors; "
                    f"the index holds {encoder.dimension}-d ones"
                )
            columns = ("seq", "ordinal", "chunk_id", "start", "end")
            for seq, ordinal, cid, start, end, vector in zip(
                *(part[c].tolist() for c in columns), part["vector"], strict=True
            ):
                found.setdefault(seq, []).append((ordinal, cid, start, end, vector))
            embedded = int((part["ordinal"] >= 0).sum())
            if progress is not None and embedded:
                progress(embedded)
        for seq, article in enumerate(todo):
            mine = sorted(found.get(seq, []), key=lambda r: r[0])
            _collect(done, article, mine, limit, encoder.dimension)
        return done


def _collect(
    done: Prepared,
    article: Article,
    rows: list[tuple[int, int, int, int, Any]],
    limit: int,
    dim: int,
) -> None:
    """Record one article's chunks and vectors (or its refusal) in ``done``, as ``prepare`` does."""
    if rows and rows[0][0] < 0:
        done.too_big[(article.article_id, article.content_hash)] = Rejection(
            article.origin or article.article_id,
            f"article {article.title[:80]!r} would make {-rows[0][0]} passages; "
            f"the limit is {limit} per article",
        )
        return
    text = article.text
    done.chunks[article.article_id] = [
        Chunk(cid, article.article_id, ordinal, start, end, text[start:end])
        for ordinal, cid, start, end, _ in rows
    ]
    vectors = np.array([r[4] for r in rows], dtype=np.float32)
    done.vectors[article.article_id] = vectors.reshape(len(rows), dim)
    done.hashes[article.article_id] = article.content_hash


@contextmanager
def connect(address: str | None = LOCAL) -> Iterator[Any]:
    """Connect to Ray (starting a local cluster for ``None``/``"local"``); yield the module.

    An existing connection in this process is used as it is. A cluster started
    here is shut down on exit; a connection made here is closed.

    Args:
        address: ``"local"`` (or ``None``) starts a cluster on this machine with
            one CPU per core; ``"auto"``, ``HOST:PORT`` or ``ray://HOST:10001``
            connects to a running one.

    """
    ray = import_ray()
    opened = not ray.is_initialized()
    if opened:
        quiet: dict[str, Any] = {"logging_level": logging.ERROR, "log_to_driver": False}
        if address in (None, LOCAL):
            ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not "execution finished"
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "bars disabled"
    try:
        yield ray
    finally:
        if opened:
            ray.shutdown()


@contextmanager
def ray_pipeline(
    index: Index,
    encoder: Encoder,
    settings: Settings,
    address: str | None = LOCAL,
    factory: EncoderFactory | None = None,
) -> Iterator[IngestPipeline]:
    """An :class:`IngestPipeline` that parses, chunks and embeds on Ray (see :func:`connect`).

    Args:
        index: The index to write; planning and the commit run in this process.
        encoder: The index's encoder (its dimension is checked against the cluster's).
        settings: Settings, as for a local ingest.
        address: Where the cluster is (:func:`connect`).
        factory: Builds the encoder in each actor (default: :func:`encoder_factory`).

    """
    with connect(address) as ray:
        cluster = RayIngest(ray, factory or encoder_factory(encoder, threads=CPUS_PER_ACTOR))
        yield IngestPipeline(
            index, encoder, settings, reader=cluster.read_paths, preparer=cluster.prepare
        )
