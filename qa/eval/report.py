"""Write a run's outputs: per-question JSONL, summary.json, a Markdown table, plots."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from qa.common import selective as sv


def safe_name(name: str) -> str:
    """Return a file-name-safe version of a system name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "system"


def write_jsonl(path: Path, rows: Iterable[Mapping[str, Any]]) -> int:
    """Write one JSON object per line; returns the number of lines."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSONL file written by :func:`write_jsonl`."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_summary(path: Path, summary: Mapping[str, Any]) -> None:
    """Write ``summary.json`` (indented, UTF-8)."""
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _fmt(x: Any) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.1f}" if abs(x) >= 1 or x == 0 else f"{x:.3f}"
    return str(x)


def _row(cells: Sequence[Any]) -> str:
    return "| " + " | ".join(_fmt(c) for c in cells) + " |"


def markdown_table(mode: str, systems: Mapping[str, Mapping[str, Any]]) -> str:
    """Return a Markdown table with one row per system, columns chosen by mode."""
    if mode == "retrieval":
        head = ["system", "n", "R@1", "R@5", "R@10", "R@20", "MRR", "doc R@20", "p50 ms", "q/s"]
        lines = [_row(head), _row(["---"] * len(head))]
        for name, s in systems.items():
            r = s["answer_recall"]
            lines.append(
                _row(
                    [
                        name,
                        s["n"],
                        r["@1"],
                        r["@5"],
                        r["@10"],
                        r["@20"],
                        s["answer_mrr"],
                        s["doc_recall"]["@20"],
                        s["latency"]["p50_ms"],
                        s["latency"]["questions_per_s"],
                    ]
                )
            )
        return "\n".join(lines) + "\n"
    head = [
        "system",
        "n",
        "EM",
        "F1",
        "served EM",
        "served cov %",
        "held-out EM",
        "AURC",
        "cite acc",
        "p50 ms",
        "p95 ms",
        "q/s",
    ]
    has_noans = any("no_ans" in s for s in systems.values())
    if has_noans:
        head[4:4] = ["HasAns EM", "NoAns EM", "best-thr EM"]
    has_when = any(s.get("time", {}).get("when_n") for s in systems.values())
    if has_when:
        head[-3:-3] = ["when acc", "timelines"]
    lines = [_row(head), _row(["---"] * len(head))]
    for name, s in systems.items():
        cells: list[Any] = [name, s["n"], s["exact"], s["f1"]]
        if has_noans:
            cells += [
                s.get("has_ans", {}).get("exact"),
                s.get("no_ans", {}).get("exact"),
                s.get("best_threshold", {}).get("exact"),
            ]
        cells += [
            s["served"]["exact"],
            s["served"]["coverage"],
            s.get("heldout", {}).get("exact"),
            s["aurc"],
            s["citation"]["accuracy"],
        ]
        if has_when:
            cells += [s["time"]["when_accuracy"], s["time"]["with_timeline"]]
        cells += [
            s["latency"]["p50_ms"],
            s["latency"]["p95_ms"],
            s["latency"]["questions_per_s"],
        ]
        lines.append(_row(cells))
    return "\n".join(lines) + "\n"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_risk_coverage(
    path: Path, curves: Mapping[str, tuple[Sequence[float], Sequence[bool]]], title: str
) -> None:
    """Risk-coverage curves (one per system) from scores and correctness."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=110)
    for name, (scores, correct) in curves.items():
        rc = sv.risk_coverage(scores, correct)
        ax.plot(rc.coverage, rc.risk, label=f"{name} (AURC {rc.aurc:.3f})", linewidth=1.6)
    ax.set_xlabel("coverage (share of questions answered)")
    ax.set_ylabel("risk (error rate among answered)")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_score_histograms(
    path: Path,
    data: Mapping[str, tuple[Sequence[float], Sequence[bool]]],
    title: str,
    threshold: float | None = None,
) -> None:
    """Histogram of confidence scores for right vs wrong answers, one panel per system."""
    plt = _pyplot()
    k = max(len(data), 1)
    fig, axes = plt.subplots(1, k, figsize=(4.2 * k, 3.4), dpi=110, squeeze=False)
    bins = [i / 20 for i in range(21)]
    for ax, (name, (scores, correct)) in zip(axes[0], data.items(), strict=False):
        right = [s for s, c in zip(scores, correct, strict=True) if c]
        wrong = [s for s, c in zip(scores, correct, strict=True) if not c]
        ax.hist(
            [right, wrong],
            bins=bins,
            label=["correct", "wrong"],
            color=["#2a9d8f", "#e76f51"],
            alpha=0.85,
            histtype="barstacked",
        )
        if threshold is not None:
            ax.axvline(
                threshold,
                color="black",
                linestyle="--",
                linewidth=1,
                label=f"min_score {threshold:g}",
            )
        ax.set_xlabel("answer score")
        ax.set_ylabel("questions")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_recall(path: Path, systems: Mapping[str, Mapping[str, Any]], title: str) -> None:
    """Answer recall@k against k, one line per retrieval system."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4), dpi=110)
    for name, s in systems.items():
        ks = [int(k.lstrip("@")) for k in s["answer_recall"]]
        ax.plot(ks, list(s["answer_recall"].values()), marker="o", label=name)
    ax.set_xscale("log")
    ax.set_xticks([1, 5, 10, 20])
    ax.set_xticklabels(["1", "5", "10", "20"])
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("recall@k (%): a passage holds a gold answer")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
