"""Test doubles: a deterministic, model-free encoder."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


class HashingEncoder:
    """Bag-of-words hashing encoder: similar word sets give similar unit vectors.

    Deterministic across processes (blake2b, not Python's salted ``hash``).
    """

    def __init__(self, dimension: int = 64, name: str = "test/hashing-encoder") -> None:
        self.dimension = dimension
        self.name = name
        self.calls = 0

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        self.calls += 1
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, h % self.dimension] += 1.0 if (h >> 16) & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm > 0:
                out[row] /= norm
            else:
                out[row, 0] = 1.0
        return out


def add_articles(index, articles, settings=None):  # noqa: ANN001, ANN201
    """Ingest parsed articles into ``index`` through the product's own pipeline."""
    from qa.ingest.pipeline import IngestPipeline
    from qa.settings import Settings

    settings = settings if settings is not None else Settings()
    return IngestPipeline(index, index.encoder, settings).add_articles(articles)


class StateHolder:
    """Holds one fixed :class:`~qa.index.IndexState` where a retriever expects an index."""

    def __init__(self, state) -> None:  # noqa: ANN001
        self.state = state


def local_ray_cluster():  # noqa: ANN201
    """Start a local 2-CPU Ray cluster on the loopback address; yields ``ray``, then shuts it down.

    Test modules (``tests/``) are importable in its workers. For module-scoped fixtures:
    ``yield from local_ray_cluster()``.
    """
    import logging
    import os
    from pathlib import Path

    # Ray swaps 127.0.0.1 for the host's address on Linux unless told it is not a
    # multi-node cluster; set before ray is imported (its constants read it once)
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    import ray

    repo = Path(__file__).resolve().parents[1]
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        logging_level=logging.ERROR,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(repo), str(repo / "tests")])}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()
        os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
