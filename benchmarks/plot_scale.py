"""Plot how the index's costs grow with its size, from bench_scale.py's results.

Usage:
    .venv/bin/python benchmarks/plot_scale.py [--out docs/img/scale.png]
        [results/scale_5k.json results/scale_100k.json ...]

Reads the JSON records that ``benchmarks/bench_scale.py --out`` wrote (by default every
``benchmarks/results/scale_*.json``) and draws open time, peak RSS, retrieval p50/p95 and
recall@10 against the number of chunks, log-log, with the issue's goals at 1M chunks.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--out", type=Path, default=Path("docs/img/scale.png"))
    args = ap.parse_args()
    files = args.files or sorted(RESULTS.glob("scale_*.json"))
    rows = sorted((json.loads(f.read_text()) for f in files), key=lambda r: r["chunks"])
    n = [r["chunks"] for r in rows]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    panels = [
        ("open (s)", [r["open_s"] for r in rows], None, 2.0),
        ("peak RSS (MB)", [r["rss_mb"] for r in rows], None, 1536),
        ("retrieval (ms)", [r["p50_ms"] for r in rows], [r["p95_ms"] for r in rows], 30),
        ("recall@10 vs exact", [r["recall_at_10"] for r in rows], None, 0.95),
    ]
    for ax, (title, ys, ys2, goal) in zip(axes, panels, strict=True):
        ax.plot(n, ys, "o-", label="p50" if ys2 else title)
        if ys2:
            ax.plot(n, ys2, "s--", label="p95")
        ax.axhline(goal, color="red", lw=0.8, ls=":", label="goal at 1M")
        ax.set_xscale("log")
        if "recall" not in title:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("chunks")
        ax.legend(fontsize=7)
    fig.suptitle("benchmarks/bench_scale.py, 2 cores (docs/scale.md)", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(args.out)


if __name__ == "__main__":
    main()
