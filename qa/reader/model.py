"""The span-extraction model built on the base encoder (see :mod:`qa.common.basemodel`)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from qa.common.basemodel import base_model_dir

WORD_EMBEDDINGS = "bert.embeddings.word_embeddings.weight"


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
