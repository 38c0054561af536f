"""Reading (question, passage) pairs with a loaded model.

Windows, one batched forward pass, n-best spans per pair in passage characters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.reader.data import tokenize_windows
from qa.reader.decode import WindowSpan, calibrated, decode_window


@dataclass
class ReadConfig:
    """Decoding settings (the training ones are recorded in the manifest)."""

    max_length: int = 256
    stride: int = 128
    n_best: int = 5
    max_answer_tokens: int = 30
    max_answer_chars: int | None = None
    batch_size: int = 32


class ReaderRuntime:
    """A loaded model + tokenizer that reads passages."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        config: ReadConfig | None = None,
        calibration: tuple[float, float] = (1.0, 0.0),
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config if config is not None else ReadConfig()
        self.calibration = calibration
        self.device = device
        self.manifest: dict[str, Any] = {}

    def logits(self, enc: dict[str, Any], rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
        """Start/end logits for the windows ``rows`` of ``enc`` (one forward pass)."""
        import torch

        longest = max(len(enc["input_ids"][r]) for r in rows)
        n = len(rows)
        ids = np.zeros((n, longest), dtype=np.int64)
        tt = np.zeros((n, longest), dtype=np.int64)
        mask = np.zeros((n, longest), dtype=np.int64)
        for k, r in enumerate(rows):
            L = len(enc["input_ids"][r])
            ids[k, :L] = enc["input_ids"][r]
            tt[k, :L] = enc["token_type_ids"][r]
            mask[k, :L] = 1
        with torch.inference_mode():
            out = self.model(
                input_ids=torch.from_numpy(ids).to(self.device),
                token_type_ids=torch.from_numpy(tt).to(self.device),
                attention_mask=torch.from_numpy(mask).to(self.device),
            )
        return (
            out.start_logits.float().cpu().numpy(),
            out.end_logits.float().cpu().numpy(),
        )

    def read(
        self, questions: Sequence[str], passages: Sequence[str], *, n_best: int | None = None
    ) -> list[list[WindowSpan]]:
        """For each (question, passage) pair, its best spans over all its windows.

        Spans are ranked by margin over the window's no-answer score (comparable
        across pairs).
        """
        cfg = self.config
        nb = n_best if n_best is not None else cfg.n_best
        if not questions:
            return []
        enc = tokenize_windows(
            self.tokenizer, questions, passages, max_length=cfg.max_length, stride=cfg.stride
        )
        results: list[list[WindowSpan]] = [[] for _ in questions]
        order = sorted(range(len(enc["input_ids"])), key=lambda r: len(enc["input_ids"][r]))
        bs = max(1, cfg.batch_size)
        for b in range(0, len(order), bs):
            rows = order[b : b + bs]
            s, e = self.logits(enc, rows)
            for k, r in enumerate(rows):
                results[enc["sample"][r]].extend(
                    decode_window(
                        s[k],
                        e[k],
                        enc["offsets"][r],
                        n_best=nb,
                        max_answer_tokens=cfg.max_answer_tokens,
                        max_answer_chars=cfg.max_answer_chars,
                    )
                )
        out = []
        for spans in results:
            best: dict[tuple[int, int], WindowSpan] = {}
            for sp in spans:  # the same span from two overlapping windows: keep the best
                key = (sp.start, sp.end)
                if key not in best or sp.margin > best[key].margin:
                    best[key] = sp
            out.append(sorted(best.values(), key=lambda sp: (-sp.margin, sp.start))[:nb])
        return out

    def score(self, span: WindowSpan) -> float:
        """Calibrated probability in [0, 1] that ``span`` answers the question."""
        a, b = self.calibration
        return calibrated(span.margin, a, b)

    def read_passage(self, question: str, passage: str) -> tuple[str, int, int, float]:
        """Closed setting: the best answer in one passage.

        Returns ``(text, start, end, score)``, or ``("", 0, 0, 0.0)`` when no span can be
        decoded.
        """
        spans = self.read([question], [passage])[0]
        if not spans:
            return "", 0, 0, 0.0
        sp = spans[0]
        return passage[sp.start : sp.end], sp.start, sp.end, self.score(sp)


def load_runtime(
    artifact_dir: str | Path,
    *,
    base_dir: str | Path | None = None,
    device: str = "cpu",
    n_best: int = 3,
    batch_size: int = 64,
    max_answer_chars: int | None = None,
) -> ReaderRuntime:
    """A :class:`ReaderRuntime` over a saved artifact, read as it was trained to read.

    The window length, stride, longest answer and score calibration come from the
    artifact's manifest (kept as ``runtime.manifest``).
    """
    from qa.reader.artifact import load_artifact

    model, tokenizer, manifest = load_artifact(artifact_dir, base_dir=base_dir, device=device)
    reading = manifest.get("reading", {})
    cal = manifest.get("calibration", {})
    runtime = ReaderRuntime(
        model,
        tokenizer,
        ReadConfig(
            max_length=int(reading.get("max_length", 256)),
            stride=int(reading.get("stride", 128)),
            n_best=n_best,
            max_answer_tokens=int(reading.get("max_answer_tokens", 30)),
            max_answer_chars=max_answer_chars,
            batch_size=batch_size,
        ),
        calibration=(float(cal.get("a", 1.0)), float(cal.get("b", 0.0))),
        device=device,
    )
    runtime.manifest = manifest
    return runtime
