"""Reading speed and accuracy of the neural reader: fp32 baseline vs faster variants.

Run (needs ``../shared/data``; pauses a background training run while it measures)::

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_reader.py --threads 2 \
        --out benchmarks/results/reader.json

In one process, for the unquantized fp32 model (the baseline) and each variant
(bf16 autocast, int8 dynamic quantization of the Linear layers, ONNX Runtime when
installed), it measures:

- milliseconds to read 5 chunks for one question (one call: tokenising, one batched
  forward pass, decoding), the product's per-question reading cost;
- chunks per second at batch 5 and batch 32;
- closed-setting EM/F1 on a seeded sample of SQuAD v1.1 dev questions, so a variant's
  speed can be weighed against its accuracy (the rule: use a variant only when its F1
  stays within 0.5 of fp32).

Chunks are SQuAD dev passages cut to about 170 word pieces, the size of a news chunk.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from qa.reader.data import load_squad  # noqa: E402
from qa.reader.evaluate import evaluate_closed, sample_examples  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reader_timing import chunks_from, measure, paused_training  # noqa: E402


class _OnnxModel:
    """Wraps an ONNX Runtime session so ``ReaderRuntime.logits`` can call it."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def __call__(self, *, input_ids: Any, token_type_ids: Any, attention_mask: Any) -> Any:
        import torch

        s, e = self.session.run(
            None,
            {
                "input_ids": input_ids.numpy(),
                "token_type_ids": token_type_ids.numpy(),
                "attention_mask": attention_mask.numpy(),
            },
        )

        class Out:
            start_logits = torch.from_numpy(s)
            end_logits = torch.from_numpy(e)

        return Out()


def int8_model(model: Any) -> Any:
    """A copy of ``model`` with every Linear layer dynamically quantized to int8."""
    import torch
    from torch.ao.quantization import quantize_dynamic

    return quantize_dynamic(copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8)


def int8_variant(model: Any, *, per_channel: bool, ffn_only: bool) -> Any:
    """A copy of ``model`` with Linear layers dynamically quantized to int8.

    ``per_channel``: one scale per output channel instead of one per tensor.
    ``ffn_only``: only the feed-forward layers (``intermediate.dense`` and the layer's
    ``output.dense``), which hold two thirds of the encoder's multiply-adds; attention
    and the span head stay fp32.
    """
    import torch
    from torch.ao.quantization import (
        default_dynamic_qconfig,
        per_channel_dynamic_qconfig,
        quantize_dynamic,
    )

    qconfig = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    copy_ = copy.deepcopy(model)
    if ffn_only:
        spec: Any = {
            name: qconfig
            for name, module in copy_.named_modules()
            if isinstance(module, torch.nn.Linear)
            and (
                name.endswith("intermediate.dense")
                or (name.endswith("output.dense") and "attention" not in name)
            )
        }
    else:
        spec = {torch.nn.Linear: qconfig}
    return quantize_dynamic(copy_, spec, dtype=torch.qint8)


def onnx_model(model: Any, threads: int, folder: Path) -> Any:
    """The model exported to ONNX and loaded in ONNX Runtime (raises when unavailable)."""
    import onnxruntime as ort
    import torch

    path = folder / "reader.onnx"
    ids = torch.ones((2, 32), dtype=torch.long)

    class Wrapped(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, token_type_ids: Any, attention_mask: Any) -> Any:
            out = self.inner(
                input_ids=input_ids, token_type_ids=token_type_ids, attention_mask=attention_mask
            )
            return out.start_logits, out.end_logits

    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        Wrapped(model).eval(),
        (ids, torch.zeros_like(ids), torch.ones_like(ids)),
        str(path),
        input_names=["input_ids", "token_type_ids", "attention_mask"],
        output_names=["start_logits", "end_logits"],
        dynamic_axes={n: axes for n in ("input_ids", "token_type_ids", "attention_mask")}
        | {"start_logits": axes, "end_logits": axes},
        dynamo=False,
    )
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return _OnnxModel(ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"]))


def run_variant(
    name: str,
    runtime: Any,
    make: Callable[[], Any] | None,
    bf16: bool,
    pairs: Sequence[tuple[str, str]],
    examples: Sequence[Any],
    repeat: int,
) -> dict[str, Any]:
    """Speed and accuracy of one variant (``make`` builds its model; None = fp32)."""
    import torch

    original = runtime.model
    try:
        if make is not None:
            runtime.model = make()
        reader = type("R", (), {"runtime": runtime})()
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else nullcontext()
        with ctx:
            speed = [measure(reader, pairs, b, repeat if b < 32 else 6, False) for b in (5, 32)]
            runtime.config.batch_size = 32
            t = time.perf_counter()
            acc = evaluate_closed(runtime, examples) if examples else {}
            acc_s = time.perf_counter() - t
        return {
            "variant": name,
            "read_5_chunks_ms": speed[0]["ms_per_call"],
            "chunks_per_s_batch5": speed[0]["chunks_per_s"],
            "chunks_per_s_batch32": speed[1]["chunks_per_s"],
            "exact_match": round(acc.get("exact_match", float("nan")), 2),
            "f1": round(acc.get("f1", float("nan")), 2),
            "n_questions": acc.get("n", 0),
            "accuracy_seconds": round(acc_s, 1),
        }
    finally:
        runtime.model = original


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifact", default=None, help="reader artifact (default: newest shipped)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/squad/dev-v1.1.json"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--questions", type=int, default=500, help="dev questions for EM/F1")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=20, help="timed calls at batch 5")
    ap.add_argument(
        "--variants",
        default="fp32,bf16,int8,onnx",
        help="comma-separated subset of fp32,bf16,int8,int8pc,int8ffn,int8ffnpc,onnx (fp32 first)",
    )
    ap.add_argument("--no-pause", action="store_true", help="do not pause a training run")
    ap.add_argument("--out", default=None, help="write the results here as JSON")
    args = ap.parse_args(argv)

    import torch

    from qa.extract.neural import NeuralReader

    torch.set_num_threads(args.threads)
    reader = NeuralReader(artifact=args.artifact)
    runtime = reader.runtime
    pairs = chunks_from(args.data, 32 * 4, 170, runtime.tokenizer)
    examples = sample_examples(load_squad(args.data), args.questions, args.seed)
    wanted = [v for v in args.variants.split(",") if v and v != "fp32"]
    rows: list[dict[str, Any]] = []
    with nullcontext() if args.no_pause else paused_training(), tempfile.TemporaryDirectory() as td:
        builders: dict[str, tuple[Callable[[], Any] | None, bool]] = {
            "fp32": (None, False),
            "bf16": (None, True),
            "int8": (lambda: int8_model(runtime.model), False),
            "int8pc": (
                lambda: int8_variant(runtime.model, per_channel=True, ffn_only=False),
                False,
            ),
            "int8ffn": (
                lambda: int8_variant(runtime.model, per_channel=False, ffn_only=True),
                False,
            ),
            "int8ffnpc": (
                lambda: int8_variant(runtime.model, per_channel=True, ffn_only=True),
                False,
            ),
            "onnx": (lambda: onnx_model(runtime.model, args.threads, Path(td)), False),
        }
        for name in ["fp32", *wanted]:
            make, bf16 = builders[name]
            try:
                row = run_variant(name, runtime, make, bf16, pairs, examples, args.repeat)
            except Exception as exc:  # a variant that cannot run here is reported, not fatal
                row = {"variant": name, "error": f"{type(exc).__name__}: {exc}"[:300]}
            rows.append(row)
            print(json.dumps(row), flush=True)
    base = rows[0]
    for row in rows[1:]:
        if "error" not in row:
            row["speedup_read_5"] = round(base["read_5_chunks_ms"] / row["read_5_chunks_ms"], 2)
            row["f1_minus_fp32"] = round(row["f1"] - base["f1"], 2)
            row["within_0_5_f1"] = abs(row["f1_minus_fp32"]) <= 0.5
    result = {
        "artifact": str(reader.artifact_dir),
        "threads": args.threads,
        "torch": torch.__version__,
        "chunk_tokens": 170,
        "data": args.data,
        "questions": args.questions,
        "seed": args.seed,
        "rows": rows,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
