"""Fixtures for reader tests: a tiny random BERT base that shares the real base's
tokenizer (so training and artifact tests run in seconds), and a tiny SQuAD file."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

TOKENIZER_FILES = (
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


def make_tiny_base(dest: Path, seed: int = 0) -> Path:
    import torch
    from transformers import BertConfig, BertModel

    from qa.common.basemodel import base_model_dir

    real = base_model_dir()
    dest.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        if (real / name).exists():
            shutil.copy(real / name, dest / name)
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=30522,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(cfg).save_pretrained(str(dest))
    return dest


@pytest.fixture(scope="session")
def tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_base(tmp_path_factory.mktemp("tiny_base"))


@pytest.fixture(scope="session")
def other_tiny_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_tiny_base(tmp_path_factory.mktemp("other_base"), seed=1)


PASSAGES = [
    (
        "Takehiro Funakoshi was named Japan's new envoy to North Korea talks in 2020. "
        "He previously served in the foreign ministry in Tokyo.",
        [
            ("Who was named Japan's envoy?", "Takehiro Funakoshi"),
            ("Where did he serve before?", "foreign ministry in Tokyo"),
            ("When was the envoy named?", "2020"),
        ],
    ),
    (
        "The Eiffel Tower in Paris was completed in 1889 for the World's Fair. "
        "It was designed by the company of Gustave Eiffel and is 330 metres tall.",
        [
            ("When was the Eiffel Tower completed?", "1889"),
            ("Whose company designed it?", "Gustave Eiffel"),
            ("How tall is the tower?", "330 metres"),
        ],
    ),
    (
        "Heavy rain flooded the city of Mumbai on Tuesday, closing schools and offices. "
        "The weather office forecast more rain for Thursday.",
        [("Which city flooded?", "Mumbai"), ("When is more rain expected?", "Thursday")],
    ),
    (
        "The central bank raised interest rates by half a point to 4.5 percent, "
        "its governor Maria Lopez said in Madrid.",
        [
            ("What did the central bank raise?", "interest rates"),
            ("Who is the governor?", "Maria Lopez"),
        ],
    ),
]


def write_squad(path: Path, passages=PASSAGES) -> Path:  # type: ignore[no-untyped-def]
    paragraphs = []
    n = 0
    for ctx, qas in passages:
        items = []
        for q, a in qas:
            items.append(
                {
                    "id": f"q{n}",
                    "question": q,
                    "answers": [{"text": a, "answer_start": ctx.index(a)}],
                }
            )
            n += 1
        paragraphs.append({"context": ctx, "qas": items})
    path.write_text(
        json.dumps({"version": "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]})
    )
    return path


@pytest.fixture()
def tiny_squad(tmp_path: Path) -> Path:
    return write_squad(tmp_path / "tiny.json")
