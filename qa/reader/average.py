"""Average the weights of several points of one training run into a new artifact.

Checkpoint averaging: the mean of a run's weights at nearby steps often reads a
little better than any one of them. Which mean to ship is decided on the run's
held-out slice of the *training* data, never on an evaluation set.

Run::

    python -m qa.reader.average RUN_DIR/best RUN_DIR/checkpoints/step-0002400.pt \
        --train ../shared/data/train/qa_train_combined.json --seed 13 --out qa/reader_artifacts/vN

Each input is an artifact folder (``best/``, ``final/``) or a training checkpoint
(``step-*.pt``). The result is calibrated on the same held-out slice the trainer uses
and saved with the first input's manifest, extended with what was averaged and the
held-out scores of every input and of the mean.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def mean_state(states: Sequence[Mapping[str, Any]], base: Mapping[str, Any]) -> dict[str, Any]:
    """Element-wise mean of ``states``; a key a state lacks counts with ``base``'s value.

    Args:
        states: State dicts (tensors), e.g. trainable weights from checkpoints.
        base: A complete state dict (the first model's), for keys such as the frozen
            word embeddings that checkpoints do not hold.
    """
    if not states:
        raise ValueError("nothing to average")
    out = {}
    for key, value in base.items():
        parts = [s[key].float() if key in s else value.float() for s in states]
        out[key] = sum(parts[1:], parts[0].clone()) / len(parts)
    return out


def load_state(path: Path) -> dict[str, Any]:
    """Weights of an artifact folder or of a ``step-*.pt`` checkpoint."""
    import torch

    if path.is_dir():
        from qa.reader.artifact import load_artifact

        model, _, _ = load_artifact(path)
        return {k: v.detach().clone() for k, v in model.state_dict().items()}
    return dict(torch.load(path, map_location="cpu", weights_only=False)["model"])


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("inputs", nargs="+", type=Path, help="artifact folders or step-*.pt")
    ap.add_argument("--train", required=True, help="the run's training data (for held-out)")
    ap.add_argument("--seed", type=int, default=13, help="the run's --seed (held-out split)")
    ap.add_argument("--heldout-fraction", type=float, default=0.02)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)

    import torch

    from qa.reader.artifact import load_artifact, save_artifact
    from qa.reader.data import load_squad, split_heldout
    from qa.reader.evaluate import calibrate, evaluate_closed, evaluate_mixed
    from qa.reader.negatives import NegativeConfig, expand_training
    from qa.reader.runtime import ReadConfig, ReaderRuntime

    torch.set_num_threads(args.threads)
    first = next((p for p in args.inputs if p.is_dir()), None)
    if first is None:
        ap.error("give at least one artifact folder (its manifest and reading settings are kept)")
    model, tokenizer, manifest = load_artifact(first)
    base = {k: v.detach().clone() for k, v in model.state_dict().items()}
    reading = manifest.get("reading", {})
    config = ReadConfig(
        max_length=int(reading.get("max_length", 256)), stride=int(reading.get("stride", 128))
    )
    _, held = split_heldout(load_squad(args.train), args.heldout_fraction, args.seed)
    runtime = ReaderRuntime(model, tokenizer, config)
    # the trainer's abstention check: its 500 held-out questions and their negatives
    picked = random.Random(args.seed).sample(held, min(len(held), 500))
    mix = expand_training(
        picked, all_answers=False, negatives=NegativeConfig(0.5, 0.5), seed=args.seed
    )
    negatives = [e for e in mix if not e.answers]

    def score(r: ReaderRuntime) -> dict[str, float]:
        return {**evaluate_closed(r, held), **evaluate_mixed(r, picked, negatives)}

    scores = {}
    states = []
    for path in args.inputs:
        state = base if path == first else load_state(path)  # first is loaded already
        states.append(state)
        model.load_state_dict(mean_state([state], base), strict=False)
        scores[str(path)] = score(runtime)
        print(path, scores[str(path)], flush=True)
    model.load_state_dict(mean_state(states, base), strict=False)
    model.eval()
    mean_scores = score(runtime)
    print("mean", mean_scores, flush=True)
    a, b = calibrate(runtime, picked, seed=args.seed)
    keep = ("format_version", "created", "base_model", "weights", "scores", "calibration")
    out_manifest = {k: v for k, v in manifest.items() if k not in keep}
    out_manifest["averaged"] = {
        "inputs": [str(p) for p in args.inputs],
        "heldout_all": {"inputs": scores, "mean": mean_scores},
        "command": "python -m qa.reader.average "
        + " ".join(argv if argv is not None else sys.argv[1:]),
    }
    out_manifest["calibration"] = {
        "a": a,
        "b": b,
        "on": "held-out training slice, own and other passage",
    }
    out_manifest["scores"] = {"heldout": mean_scores}  # all of the held-out slice
    save_artifact(model, args.out, out_manifest)
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
