"""The settings of a reader training run (recorded in checkpoints and the artifact)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class TrainConfig:
    """Settings of a training run (recorded in checkpoints and the artifact manifest)."""

    train_path: str
    out_dir: str
    epochs: float = 2.0
    max_steps: int | None = None
    batch_size: int = 16
    max_length: int = 256
    stride: int = 128
    lr: float = 1e-4
    warmup_steps: int = 200
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    seed: int = 13
    batch_seed: int | None = None  # batch order (default: seed); the held-out split keeps seed
    heldout_fraction: float = 0.02
    heldout_max: int = 500
    eval_every: int = 500
    save_every: int = 100
    keep_checkpoints: int = 2
    bf16: bool = True
    threads: int | None = None
    resume: bool = True
    max_train_examples: int | None = None
    progress: bool = True
    base_dir: str | None = field(default=None)
    init_from: str | None = None  # start from a shipped artifact (fresh optimizer/schedule)
    all_answers: bool = False  # one training example per distinct gold span
    neg_same_article: float = 0.0  # share of questions that get a same-article negative
    neg_retrieved: float = 0.0  # share of questions that get a BM25-retrieved negative
    neg_perturbed: float = 0.0  # share of questions that get an unanswerable twin
    twin_foreign_names: bool = True  # a swapped-name twin may take another passage's name
    select_metric: str = "f1"  # held-out metric that picks best/: "f1" or "mixed_f1"


RESUME_KEYS = (
    "batch_size",
    "max_length",
    "stride",
    "seed",
    "batch_seed",
    "heldout_fraction",
    "train_path",
    "all_answers",
    "neg_same_article",
    "neg_retrieved",
    "neg_perturbed",
    "twin_foreign_names",
)
