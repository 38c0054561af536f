"""``qa eval``: score the assistant on SQuAD, SQuAD 2.0, RealTime QA or own JSONL data."""

from __future__ import annotations

import datetime as dt
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from qa.eval.datasets import (
    DataError,
    EvalSet,
    load_distractors,
    load_jsonl,
    load_realtimeqa,
    load_squad,
)
from qa.eval.runner import MODES, RETRIEVAL_MODES, EvalError, RunConfig, default_factory, run_eval
from qa.extract.registry import CHOICES
from qa.settings import Settings

# Tests replace this to run the CLI with a fake encoder.
ENCODER_FACTORY: Callable[[], Any] | None = None


def _common(default_mode: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        options = [
            click.option(
                "--mode",
                type=click.Choice(MODES),
                default=default_mode,
                show_default=True,
                help="closed: reader on the gold passage; open: retrieve then read; "
                "retrieval: is a passage with a gold answer in the top k.",
            ),
            click.option(
                "--limit",
                type=click.IntRange(min=1),
                default=None,
                help="Score a seeded random sample of N questions.",
            ),
            click.option(
                "--seed",
                type=int,
                default=0,
                show_default=True,
                help="Seed for --limit sampling and the held-out threshold split.",
            ),
            click.option(
                "--compare",
                is_flag=True,
                help="Also score baselines: bm25/dense/hybrid retrieval, "
                "heuristic and neural extractors.",
            ),
            click.option(
                "--out",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Run directory (default runs/eval/<set>-<mode>-<time>).",
            ),
            click.option(
                "--index",
                "index_dir",
                type=click.Path(file_okay=False, path_type=Path),
                default=None,
                help="Index folder to build or reuse (default <out>/index).",
            ),
            click.option(
                "--extractor",
                type=click.Choice(CHOICES),
                default=None,
                help="Extractor of the main system (default: settings).",
            ),
            click.option(
                "--retrieval",
                type=click.Choice(RETRIEVAL_MODES),
                default="hybrid",
                show_default=True,
                help="Retrieval mode of the main system.",
            ),
            click.option(
                "--top-k",
                type=click.IntRange(min=1),
                default=None,
                help="Chunks the extractor reads in open mode (default: settings).",
            ),
            click.option(
                "--retrieval-weight",
                type=click.FloatRange(min=0),
                default=None,
                help="settings.answering.retrieval_weight for this run (default: settings).",
            ),
            click.option(
                "--max-risk",
                type=click.FloatRange(0, 1),
                default=0.1,
                show_default=True,
                help="Target error rate for the risk-controlled threshold.",
            ),
            click.option(
                "--reader",
                "reader_artifact",
                type=click.Path(exists=True, file_okay=False),
                default=None,
                help="Reader artifact folder (default: the newest installed).",
            ),
            click.option(
                "--time-unaware",
                is_flag=True,
                help="Baseline without time: no as-of per question, no question time scope, "
                "the most confident answer leads.",
            ),
            click.option("--quiet", is_flag=True, help="No progress bar."),
        ]
        for option in reversed(options):
            fn = option(fn)
        return fn

    return deco


def _command_line() -> str:
    """Return the command as typed (``qa eval ...``), or click path and params."""
    if sys.argv and Path(sys.argv[0]).name == "qa":
        return "qa " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return ""
    params = " ".join(f"{k}={v!r}" for k, v in sorted(ctx.params.items()) if v not in (None, False))
    return f"{ctx.command_path} [{params}]"


def _run(eval_set: EvalSet, opts: dict[str, Any]) -> None:
    limit, seed = opts["limit"], opts["seed"]
    sampled = eval_set.sample(limit, seed)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = opts["out"] or Path("runs") / "eval" / f"{eval_set.name}-{opts['mode']}-{stamp}"
    cfg = RunConfig(
        mode=opts["mode"],
        out=out,
        compare=opts["compare"],
        extractor=opts["extractor"],
        retrieval=opts["retrieval"],
        index_dir=opts["index_dir"],
        top_k=opts["top_k"],
        seed=seed,
        max_risk=opts["max_risk"],
        command=_command_line(),
        sampling={"limit": limit, "seed": seed},
        progress=not opts["quiet"],
        time_aware=not opts["time_unaware"],
    )
    encoder = ENCODER_FACTORY() if ENCODER_FACTORY else None
    settings = Settings()
    if opts["retrieval_weight"] is not None:
        settings = settings.replace(retrieval_weight=opts["retrieval_weight"])
    if opts["reader_artifact"] is not None:
        settings = settings.replace(reader_artifact=opts["reader_artifact"])
    try:
        summary = run_eval(sampled, cfg, settings=settings, factory=default_factory(encoder))
    except (EvalError, DataError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo((out / "table.md").read_text(encoding="utf-8"))
    for name, why in summary["skipped"].items():
        click.echo(f"skipped {name}: {why}", err=True)
    click.echo(f"run directory: {out}")


def _load(fn: Callable[[], EvalSet]) -> EvalSet:
    try:
        return fn()
    except DataError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(name="eval")
def eval_group() -> None:
    """Score the assistant on question sets (writes a run directory)."""


@eval_group.command("squad")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common("closed")
def squad_command(path: Path, **opts: Any) -> None:
    """SQuAD v1.1 (e.g. dev-v1.1.json): EM/F1, retrieval recall, abstention."""
    _run(_load(lambda: load_squad(path, name="squad")), opts)


@eval_group.command("squad2")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_common("closed")
def squad2_command(path: Path, **opts: Any) -> None:
    """SQuAD 2.0 (with unanswerable questions): adds HasAns/NoAns and the best threshold."""
    _run(_load(lambda: load_squad(path, name="squad2")), opts)


@eval_group.command("realtimeqa")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--distractors",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="JSONL file or folder of *.jsonl articles added to the index as distractors.",
)
@_common("open")
def realtimeqa_command(path: Path, distractors: Path | None, **opts: Any) -> None:
    """RealTime QA (realtimeqa_2022_gold_joined.jsonl) over its CNN articles."""

    def load() -> EvalSet:
        eval_set = load_realtimeqa(path)
        if distractors is not None:
            docs, files = load_distractors(distractors)
            eval_set = eval_set.with_distractors(docs, files)
        return eval_set

    _run(_load(load), opts)


@eval_group.command("jsonl")
@click.option(
    "--articles",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Articles JSONL (id, text, title?, date?, source?, url?).",
)
@click.option(
    "--questions",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    required=True,
    help="Questions JSONL (question, answers, id?, article_ids?).",
)
@click.option(
    "--distractors",
    type=click.Path(exists=True, path_type=Path),
    default=None,
    help="JSONL file or folder of extra articles added to the index.",
)
@_common("open")
def jsonl_command(articles: Path, questions: Path, distractors: Path | None, **opts: Any) -> None:
    """Own data in the JSONL format of docs/eval-format.md."""

    def load() -> EvalSet:
        eval_set = load_jsonl(articles, questions)
        if distractors is not None:
            docs, files = load_distractors(distractors)
            eval_set = eval_set.with_distractors(docs, files)
        return eval_set

    _run(_load(load), opts)
