"""Training loop of the reader.

Bucketed batches, AdamW with warm-up and linear decay, bf16 autocast, gradient
clipping, a progress bar, checkpoints and exact resume.

Layout of ``out_dir``::

    checkpoints/step-0000500.pt   # torch checkpoints for resume (never shipped)
    best/                          # artifact with the best held-out F1 so far
    final/                         # artifact at the end of training
    log.jsonl                      # one line per evaluation
"""

from __future__ import annotations

import json
import math
import random
import signal
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from qa.common.basemodel import base_model_dir
from qa.common.files import atomic_write_with
from qa.common.hashing import cached_sha256_file
from qa.reader.config import RESUME_KEYS, TrainConfig
from qa.reader.data import (
    bucketed_batches,
    collate,
    featurize,
    load_squad,
    split_heldout,
)
from qa.reader.model import build_model, load_tokenizer
from qa.reader.negatives import NegativeConfig, expand_training


def _device() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _checkpoints(out: Path) -> list[Path]:
    return sorted((out / "checkpoints").glob("step-*.pt"))


def _lr_lambda(warmup: int, total: int):  # type: ignore[no-untyped-def]
    def f(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    return f


class Trainer:
    """One training run; :meth:`run` trains (resuming when a checkpoint exists)."""

    def __init__(self, config: TrainConfig) -> None:
        self.cfg = config
        self.out = Path(config.out_dir)
        self.stop_requested = False

    # -- data -----------------------------------------------------------------
    def prepare(self) -> None:
        """Load the tokenizer and model; featurize the training and held-out data."""
        cfg = self.cfg
        self.tokenizer = load_tokenizer(cfg.base_dir)
        examples = load_squad(cfg.train_path)
        train, heldout = split_heldout(examples, cfg.heldout_fraction, cfg.seed)
        if cfg.max_train_examples:
            train = train[: cfg.max_train_examples]
        rng = random.Random(cfg.seed)
        self.heldout = rng.sample(heldout, min(len(heldout), cfg.heldout_max))
        self.heldout_negatives: list[Any] = []
        negs = NegativeConfig(
            same_article=cfg.neg_same_article,
            retrieved=cfg.neg_retrieved,
            perturbed=cfg.neg_perturbed,
            foreign_names=cfg.twin_foreign_names,
        )
        if cfg.neg_same_article > 0 or cfg.neg_retrieved > 0 or cfg.neg_perturbed > 0:
            # the held-out slice gets negatives from its own paragraphs only
            held_mix = expand_training(
                self.heldout,
                all_answers=False,
                negatives=NegativeConfig(
                    same_article=0.5,
                    retrieved=0.5,
                    perturbed=0.5 if cfg.neg_perturbed > 0 else 0.0,
                    foreign_names=cfg.twin_foreign_names,
                ),
                seed=cfg.seed,
            )
            self.heldout_negatives = [e for e in held_mix if not e.answers]
        self.n_train_examples = len(train)
        train = expand_training(train, all_answers=cfg.all_answers, negatives=negs, seed=cfg.seed)
        self.n_train_items = len(train)
        self.n_train_negatives = sum(1 for e in train if not e.answers)
        self.features = featurize(
            self.tokenizer, train, max_length=cfg.max_length, stride=cfg.stride
        )
        self.lengths = [len(x) for x in self.features.input_ids]
        self.steps_per_epoch = math.ceil(len(self.features) / cfg.batch_size)
        self.total_steps = (
            cfg.max_steps
            if cfg.max_steps is not None
            else max(1, math.ceil(cfg.epochs * self.steps_per_epoch))
        )

    # -- checkpoints ----------------------------------------------------------
    def save_checkpoint(self) -> Path:
        """Write a resumable checkpoint (model, optimizer, scheduler, RNG, step)."""
        import torch

        ck = self.out / "checkpoints"
        ck.mkdir(parents=True, exist_ok=True)
        path = ck / f"step-{self.step:07d}.pt"
        trainable = {n for n, p in self.model.named_parameters() if p.requires_grad}
        state = {
            "step": self.step,
            "best_f1": self.best_f1,
            "config": asdict(self.cfg),
            "model": {k: v for k, v in self.model.state_dict().items() if k in trainable},
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "rng": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
            },
        }
        atomic_write_with(path, lambda tmp: torch.save(state, tmp))
        for old in _checkpoints(self.out)[: -self.cfg.keep_checkpoints]:
            old.unlink(missing_ok=True)
        return path

    def load_checkpoint(self, path: Path) -> None:
        """Restore the state written by :meth:`save_checkpoint`."""
        import torch

        state = torch.load(path, map_location=self.device, weights_only=False)
        defaults = TrainConfig(train_path="", out_dir="")
        for k in RESUME_KEYS:
            if state["config"].get(k, getattr(defaults, k)) != getattr(self.cfg, k):
                raise ValueError(
                    f"cannot resume from {path}: {k} was {state['config'].get(k)!r}, "
                    f"now {getattr(self.cfg, k)!r} (use --no-resume or another --out)"
                )
        self.model.load_state_dict(state["model"], strict=False)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = int(state["step"])
        self.best_f1 = float(state["best_f1"])
        random.setstate(state["rng"]["python"])
        np.random.set_state(state["rng"]["numpy"])
        torch.set_rng_state(state["rng"]["torch"])
        if state["rng"].get("cuda") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])

    # -- evaluation / export --------------------------------------------------
    def runtime(self):  # type: ignore[no-untyped-def]
        """A reading runtime over the model being trained."""
        from qa.reader.runtime import ReadConfig, ReaderRuntime

        return ReaderRuntime(
            self.model,
            self.tokenizer,
            ReadConfig(max_length=self.cfg.max_length, stride=self.cfg.stride, batch_size=32),
            device=self.device,
        )

    def evaluate(self) -> dict[str, float]:
        """EM/F1 on the held-out slice of the training data."""
        from qa.reader.evaluate import evaluate_closed, evaluate_mixed

        self.model.eval()
        try:
            result = dict(evaluate_closed(self.runtime(), self.heldout))
            if self.heldout_negatives:
                result.update(evaluate_mixed(self.runtime(), self.heldout, self.heldout_negatives))
            return result
        finally:
            self.model.train()

    def export(self, name: str, heldout: dict[str, float]) -> Path:
        """Calibrate and save the current weights as an artifact under ``out_dir/name``."""
        from qa.reader.artifact import save_artifact
        from qa.reader.evaluate import calibrate

        self.model.eval()
        try:
            a, b = calibrate(self.runtime(), self.heldout, seed=self.cfg.seed)
        finally:
            self.model.train()
        cfg = asdict(self.cfg)
        manifest = {
            "training": {
                "data": {
                    "path": self.cfg.train_path,
                    "sha256": cached_sha256_file(self.cfg.train_path),
                },
                "examples": self.n_train_examples,
                "items": self.n_train_items,
                "negatives": self.n_train_negatives,
                "windows": len(self.features),
                "steps": self.step,
                "epochs": round(self.step / self.steps_per_epoch, 3),
                "settings": {k: v for k, v in cfg.items() if k not in ("out_dir", "progress")},
                "trainable_parameters": sum(
                    p.numel() for p in self.model.parameters() if p.requires_grad
                ),
            },
            "reading": {
                "max_length": self.cfg.max_length,
                "stride": self.cfg.stride,
                "max_answer_tokens": 30,
            },
            "calibration": {"a": a, "b": b, "on": "held-out training slice, own and other passage"},
            "scores": {"heldout": heldout},
        }
        return save_artifact(self.model, self.out / name, manifest, base_dir=self.cfg.base_dir)

    # -- the loop -------------------------------------------------------------
    def _log(self, record: dict[str, Any]) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        with open(self.out / "log.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")

    def run(self) -> dict[str, Any]:
        """Train to the configured end, checkpointing, evaluating and exporting."""
        import torch
        from tqdm.auto import tqdm

        cfg = self.cfg
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        random.seed(cfg.seed)
        np.random.seed(cfg.seed)
        torch.manual_seed(cfg.seed)
        self.device = _device()
        self.prepare()
        self.model = build_model(cfg.base_dir if cfg.base_dir is not None else base_model_dir()).to(
            self.device
        )
        if cfg.init_from:
            from qa.reader.artifact import load_artifact

            init, _, _ = load_artifact(cfg.init_from, base_dir=cfg.base_dir)
            self.model.load_state_dict(init.state_dict())
            del init
        self.model.train()
        decay: list[Any] = []
        no_decay: list[Any] = []
        for _n, p in self.model.named_parameters():
            if p.requires_grad:
                (no_decay if p.ndim < 2 else decay).append(p)
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": cfg.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=cfg.lr,
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, _lr_lambda(cfg.warmup_steps, self.total_steps)
        )
        self.step = 0
        self.best_f1 = -1.0
        ckpts = _checkpoints(self.out)
        if cfg.resume and ckpts:
            self.load_checkpoint(ckpts[-1])
        elif not cfg.resume and ckpts:
            for c in ckpts:
                c.unlink()

        def on_signal(signum, frame):  # type: ignore[no-untyped-def]
            self.stop_requested = True

        old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        pbar = tqdm(
            total=self.total_steps,
            initial=self.step,
            disable=not cfg.progress,
            desc="train",
            dynamic_ncols=True,
            mininterval=5.0,
        )
        autocast = torch.autocast(
            device_type="cuda" if self.device == "cuda" else "cpu",
            dtype=torch.bfloat16,
            enabled=cfg.bf16,
        )
        last_eval: dict[str, float] | None = None
        ema = None
        t_start = time.time()
        try:
            while self.step < self.total_steps and not self.stop_requested:
                epoch, pos = divmod(self.step, self.steps_per_epoch)
                order_seed = cfg.batch_seed if cfg.batch_seed is not None else cfg.seed
                batches = bucketed_batches(self.lengths, cfg.batch_size, order_seed, epoch)
                for b in range(pos, len(batches)):
                    if self.step >= self.total_steps or self.stop_requested:
                        break
                    batch = {
                        k: v.to(self.device) for k, v in collate(self.features, batches[b]).items()
                    }
                    with autocast:
                        loss = self.model(**batch).loss
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(
                        [p for p in self.model.parameters() if p.requires_grad], cfg.grad_clip
                    )
                    self.optimizer.step()
                    self.scheduler.step()
                    self.optimizer.zero_grad(set_to_none=True)
                    self.step += 1
                    val = float(loss.detach())
                    ema = val if ema is None else 0.98 * ema + 0.02 * val
                    pbar.update(1)
                    pbar.set_postfix(loss=f"{ema:.3f}", lr=f"{self.scheduler.get_last_lr()[0]:.2e}")
                    if self.step % cfg.save_every == 0:
                        self.save_checkpoint()
                    if cfg.eval_every and self.step % cfg.eval_every == 0:
                        last_eval = self._eval_and_export(ema, t_start)
        finally:
            pbar.close()
            for s, h in old.items():
                signal.signal(s, h)
        self.save_checkpoint()
        result: dict[str, Any] = {"step": self.step, "total_steps": self.total_steps}
        if self.step >= self.total_steps:
            if last_eval is None or self.step % max(1, cfg.eval_every) != 0:
                last_eval = self._eval_and_export(ema, t_start)
            result["final"] = str(self.export("final", last_eval))
            result["heldout"] = last_eval
        else:
            result["stopped"] = True
        result["best_f1"] = self.best_f1
        result["best"] = str(self.out / "best") if (self.out / "best").exists() else None
        return result

    def _eval_and_export(self, ema: float | None, t_start: float) -> dict[str, float]:
        ev = self.evaluate()
        self._log(
            {
                "step": self.step,
                "epoch": round(self.step / self.steps_per_epoch, 3),
                "loss_ema": ema,
                "heldout": ev,
                "elapsed_s": round(time.time() - t_start, 1),
                "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
        )
        metric = float(ev.get(self.cfg.select_metric, ev["f1"]))
        if metric > self.best_f1:
            self.best_f1 = metric
            self.export("best", ev)
            self.save_checkpoint()  # the best score is part of the resumable state
        return ev


def train(config: TrainConfig) -> dict[str, Any]:
    """Train (or resume) and return a summary."""
    return Trainer(config).run()
