"""Run an evaluation: closed-book reading, open retrieval + reading, or retrieval only.

``run_eval`` takes a loaded :class:`~qa.eval.datasets.EvalSet` and writes a run
directory (per-question JSONL per system, ``summary.json``, ``table.md`` and
PNG plots). Every system of a ``--compare`` run reads the same questions from
the same index, so their numbers are directly comparable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import platform
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.common.hashing import sha256_file
from qa.eval import report, scoring
from qa.eval.datasets import EvalQuestion, EvalSet, iter_records
from qa.eval.provenance import _corpus_hash, _extractor_info, _git_state, _index_manifest
from qa.eval.records import (
    CLOSED_WHOLE_DOC_CHARS,
    ORIGIN,
    _doc_map,
    answer_record,
    closed_hits,
    retrieval_record,
)
from qa.extract.registry import EXTRACTORS
from qa.retrieve.base import MODES as RETRIEVER_MODES
from qa.settings import Settings

MODES = ("closed", "open", "retrieval")
RETRIEVAL_MODES = tuple(sorted(RETRIEVER_MODES))

AssistantFactory = Callable[[Path, Settings], Any]


class EvalError(RuntimeError):
    """The evaluation cannot run as asked."""


@dataclass(frozen=True)
class System:
    """One configuration to score: an extractor and/or a retrieval mode."""

    extractor: str | None
    retrieval: str | None

    @property
    def name(self) -> str:
        """Display name, e.g. ``hybrid+neural``, ``heuristic`` or ``bm25``."""
        return "+".join(p for p in (self.retrieval, self.extractor) if p)


@dataclass
class RunConfig:
    """How to run.

    Attributes:
        mode: ``closed``, ``open`` or ``retrieval``.
        out: Run directory (created).
        compare: Score baselines side by side (retrieval modes, extractors).
        extractor: Extractor to use (``heuristic``/``neural``); ``None``
            keeps the settings' choice.
        retrieval: Retrieval mode for the main system (default ``hybrid``).
        index_dir: Index to build or reuse; default ``<out>/index``.
        top_k: Chunks read per question (open mode); default from settings.
        seed: Seed for the held-out threshold split.
        max_risk: Target error rate for the risk-controlled threshold.
        retrieve_k: Passages retrieved in retrieval mode.
        command: The command line, recorded in the summary.
        sampling: ``{"limit": .., "seed": ..}`` as used to sample questions.
        progress: Show a progress bar on stderr.
        time_aware: Read time (``settings.answering.time_aware``) and ask each
            question as of its date when the set gives one; off for the baseline.

    """

    mode: str
    out: Path
    compare: bool = False
    extractor: str | None = None
    retrieval: str = "hybrid"
    index_dir: Path | None = None
    top_k: int | None = None
    seed: int = 0
    max_risk: float = 0.1
    retrieve_k: int = 20
    command: str = ""
    sampling: dict[str, Any] = field(default_factory=dict)
    progress: bool = True
    time_aware: bool = True


def default_factory(encoder: Any = None) -> AssistantFactory:
    """Return an assistant factory over the real :class:`qa.Assistant`.

    For ``extractor="neural"`` it builds :class:`qa.extract.neural.NeuralReader`
    directly when the spine's own factory cannot, so a trained reader is
    scored whenever one is installed.
    """

    def make(path: Path, settings: Settings) -> Any:
        from qa.assistant import Assistant

        extractor = None
        if settings.reading.extractor == "neural":
            extractor = _neural_reader(settings)
        return Assistant.open(path, settings=settings, encoder=encoder, extractor=extractor)

    return make


def _neural_reader(settings: Settings) -> Any:
    """A NeuralReader for ``settings.reading`` (its artifact, or the newest installed)."""
    from qa.extract.neural import NeuralReader

    artifact = settings.reading.reader_artifact
    if not NeuralReader.available(artifact):
        raise EvalError(f"no trained neural reader at {artifact or 'qa/reader_artifacts/'}")
    return NeuralReader(artifact, max_answer_chars=settings.reading.max_answer_chars)


def neural_available() -> str | None:
    """``None`` if the neural reader can be imported, else the reason it cannot."""
    try:
        from qa.extract.neural import NeuralReader  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "not available"
        return f"{type(exc).__name__}: {exc}"
    return None


def plan_systems(cfg: RunConfig, settings: Settings) -> tuple[list[System], dict[str, str]]:
    """Return the systems to score and the baselines skipped (with reasons)."""
    skipped: dict[str, str] = {}
    main_ext = cfg.extractor if cfg.extractor is not None else settings.reading.extractor
    if cfg.mode == "retrieval":
        modes = list(RETRIEVAL_MODES) if cfg.compare else [cfg.retrieval]
        return [System(None, r) for r in modes], skipped
    exts = [main_ext]
    if cfg.compare:
        for ext in EXTRACTORS:  # the registry's names
            if ext == "neural" and (why := neural_available()):
                skipped["neural"] = why
                continue
            if ext not in exts:
                exts.append(ext)
    if cfg.mode == "closed":
        return [System(e, None) for e in exts], skipped
    systems = [System(e, cfg.retrieval) for e in exts]
    if cfg.compare:
        systems += [System(main_ext, r) for r in RETRIEVAL_MODES if r != cfg.retrieval]
    return systems, skipped


def _progress(items: Sequence[Any], desc: str, enabled: bool) -> Iterable[Any]:
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="q", leave=False)


def _run_system(
    system: System,
    assistant: Any,
    eval_set: EvalSet,
    cfg: RunConfig,
    settings: Settings,
    doc_of: dict[str, str],
) -> list[dict[str, Any]]:
    questions = eval_set.questions
    top_k = cfg.top_k if cfg.top_k is not None else settings.retrieval.top_k

    def call(q: EvalQuestion) -> Any:
        if cfg.mode == "closed":
            hits = [h for d in q.doc_ids for h in closed_hits(eval_set.doc(d), settings)]
            return assistant.answer_from_hits(q.question, hits)
        if cfg.mode == "retrieval":
            return assistant.retrieve(q.question, k=cfg.retrieve_k, mode=system.retrieval)
        if system.retrieval == "hybrid":
            as_of = q.as_of if cfg.time_aware else None
            return assistant.ask(q.question, top_k=top_k, as_of=as_of)
        hits = assistant.retrieve(q.question, k=top_k, mode=system.retrieval)
        return assistant.answer_from_hits(q.question, hits)

    if cfg.mode == "closed" and any(not q.doc_ids for q in questions):
        raise EvalError("closed mode needs the gold document of every question (article_ids)")
    if questions:
        call(questions[0])  # warm-up: load models outside the timed loop
    rows = []
    for q in _progress(questions, system.name, cfg.progress):
        t0 = time.perf_counter()
        result = call(q)
        latency = time.perf_counter() - t0
        if cfg.mode == "retrieval":
            rows.append(retrieval_record(q, result, latency, doc_of))
        else:
            rows.append(answer_record(q, result, latency, doc_of))
    return rows


def run_eval(
    eval_set: EvalSet,
    cfg: RunConfig,
    *,
    settings: Settings | None = None,
    factory: AssistantFactory | None = None,
) -> dict[str, Any]:
    """Run the evaluation and write the run directory; returns the summary.

    The assistant runs with ``min_score = 0`` so that every question gets its
    best answer and score; the product's threshold (``settings.answering.min_score``)
    is then applied offline for the ``served`` metrics, which is exactly what
    the product would have answered.
    """
    if cfg.mode not in MODES:
        raise EvalError(f"unknown mode {cfg.mode!r} (choose from {', '.join(MODES)})")
    settings = settings if settings is not None else Settings()
    factory = factory if factory is not None else default_factory()
    started = dt.datetime.now(dt.UTC)
    git = _git_state()  # the code as it is when the run starts
    t_start = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    systems, skipped = plan_systems(cfg, settings)
    index_dir = (
        Path(cfg.index_dir)
        if cfg.index_dir
        else out / ("index" if cfg.mode != "closed" else "closed-index")
    )
    doc_of = _doc_map(eval_set)
    run_settings = settings.replace(
        min_score=0.0, uncalibrated_min_score=0.0, time_aware=cfg.time_aware
    )
    ingest: dict[str, Any] = {}
    manifest: dict[str, Any] = {}
    results: dict[str, dict[str, Any]] = {}
    extractors: dict[str, Any] = {}
    curves: dict[str, tuple[list[float], list[bool]]] = {}
    for system in systems:
        sys_settings = run_settings
        if system.extractor:
            sys_settings = run_settings.replace(extractor=system.extractor)
        try:
            assistant = factory(index_dir, sys_settings)
            if system.extractor and cfg.mode != "retrieval":
                _ = assistant.extractor  # fail early if the extractor cannot load
        except Exception as exc:  # noqa: BLE001 - a baseline that cannot load is skipped
            if system is systems[0]:
                raise EvalError(f"cannot open the assistant for {system.name}: {exc}") from exc
            skipped[system.name] = f"{type(exc).__name__}: {exc}"
            continue
        if cfg.mode != "retrieval":
            extractors[system.name] = _extractor_info(assistant)
        if cfg.mode != "closed" and not ingest:
            t0 = time.perf_counter()
            rep = assistant.add_records(iter_records(eval_set), origin=f"{ORIGIN}:{eval_set.name}")
            ingest = {
                "seconds": round(time.perf_counter() - t0, 2),
                "added": len(rep.added),
                "updated": len(rep.updated),
                "unchanged": len(rep.unchanged),
                "rejected": [dataclasses.asdict(r) for r in rep.rejected][:20],
                "n_rejected": len(rep.rejected),
            }
            manifest = _index_manifest(assistant, index_dir)
        rows = _run_system(system, assistant, eval_set, cfg, run_settings, doc_of)
        name = system.name
        if system.extractor in (None, "auto") and rows and cfg.mode != "retrieval":
            resolved = rows[0].get("extractor") or "auto"
            name = "+".join(p for p in (system.retrieval, resolved) if p)
        report.write_jsonl(out / f"predictions-{report.safe_name(name)}.jsonl", rows)
        if cfg.mode == "retrieval":
            results[name] = scoring.retrieval_metrics(rows)
        else:
            served = (
                settings.answering.min_score
                if getattr(assistant, "calibrator", None) is not None
                else settings.answering.uncalibrated_min_score
            )
            results[name] = scoring.answer_metrics(
                rows, min_score=served, seed=cfg.seed, max_risk=cfg.max_risk
            )
            curves[name] = ([r["score"] for r in rows], [bool(r["correct"]) for r in rows])
        close = getattr(assistant, "close", None)
        if callable(close):
            close()

    title = f"{eval_set.name} {cfg.mode} (n={len(eval_set.questions)})"
    plots = []
    if cfg.mode == "retrieval":
        report.plot_recall(out / "recall_at_k.png", results, title)
        plots.append("recall_at_k.png")
    else:
        report.plot_risk_coverage(out / "risk_coverage.png", curves, title)
        report.plot_score_histograms(
            out / "score_hist.png", curves, title, settings.answering.min_score
        )
        plots += ["risk_coverage.png", "score_hist.png"]
    table = report.markdown_table(cfg.mode, results)
    command = f"`{cfg.command}`\n\n" if cfg.command else ""
    (out / "table.md").write_text(f"## {title}\n\n{command}{table}", encoding="utf-8")
    summary = {
        "command": cfg.command,
        "dataset": {
            "name": eval_set.name,
            "files": [{"path": str(p), "sha256": sha256_file(p)} for p in eval_set.files],
            "questions": len(eval_set.questions),
            "questions_in_file": eval_set.total_questions,
            "documents": len(eval_set.docs),
            "distractors": len(eval_set.distractors),
            "corpus_sha256": _corpus_hash(eval_set),
            "sampling": cfg.sampling,
        },
        "mode": cfg.mode,
        "systems": results,
        "skipped": skipped,
        "extractors": extractors,
        "settings": dataclasses.asdict(settings.replace(time_aware=cfg.time_aware)),
        "run": {
            "assistant_min_score": 0.0,
            "served_threshold": settings.answering.min_score,
            "served_threshold_uncalibrated": settings.answering.uncalibrated_min_score,
            "top_k": cfg.top_k if cfg.top_k is not None else settings.retrieval.top_k,
            "retrieve_k": cfg.retrieve_k,
            "seed": cfg.seed,
            "max_risk": cfg.max_risk,
            "closed_whole_doc_chars": CLOSED_WHOLE_DOC_CHARS,
            "time_aware": cfg.time_aware,
        },
        "ingest": ingest,
        "index": manifest,
        "outputs": {"table": "table.md", "plots": plots},
        "environment": {
            "python": platform.python_version(),
            "machine": platform.machine(),
            "git": git,
        },
        "started": started.isoformat(timespec="seconds"),
        "elapsed_s": round(time.perf_counter() - t_start, 2),
    }
    report.write_summary(out / "summary.json", summary)
    return summary
