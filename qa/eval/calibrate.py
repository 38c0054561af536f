"""Fit the answer calibrator on held-out *training* questions mixed into news distractors.

Run (after training a reader; writes ``calibrator.json`` into its artifact; the shipped
calibrator of v7 was made so)::

    python -m qa.eval.calibrate --distractors ../shared/data/bbc_news/bbc_news_2004-2005.jsonl \
        --work runs/calibrate/v7kinds --twins --twin-kinds antonym,negation --write

The questions are the reader's held-out slice of its training data (the split its
manifest records), never an evaluation set. Their passages are split in two halves,
each indexed among the distractor articles, and every question is read four ways:

- ``open``: retrieved from the index that holds its passage (answerable);
- ``open-missing``: retrieved from the other index (its passage is not there: any
  answer is wrong);
- ``closed``: its own passage only;
- ``closed-other``: the held-out passage that BM25 ranks highest for it among those
  that do not contain a gold answer (unanswerable);
- ``closed-twin`` (with ``--twins``): its unanswerable twin (an antonym, a swapped
  name or number, a negation: :mod:`qa.reader.perturb`) over its own passage, SQuAD
  2.0's hard kind (for the questions where a perturbation applies); ``--twin-kinds``
  keeps some kinds. The shipped calibrator reads the antonym and negation twins, which its
  sentence features can explain (docs/reader.md, "The answer calibrator").

Each read gives up to five candidate answers with their features; a candidate is right
when it matches a gold answer exactly (SQuAD EM). A logistic model is fitted on them;
its quality is measured out of fold (5 folds grouped by question) before the final fit.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.answer.compose import candidates
from qa.common.metrics import max_exact
from qa.eval.calibration_fit import fit_calibrator, reliability_plot
from qa.eval.datasets import EvalDoc, EvalSet, load_distractors
from qa.eval.records import closed_hits
from qa.eval.report import write_jsonl
from qa.eval.tune import heldout_set
from qa.reader.perturb import KINDS as TWIN_KINDS
from qa.reader.perturb import perturb_all
from qa.settings import AnsweringSettings, Settings
from qa.types import Candidate, Span

SETTINGS = ("open", "open-missing", "closed", "closed-other", "closed-twin")

# spans of one read -> its candidate answers (qa.answer.compose.candidates)
Propose = Callable[[str, Sequence[Span], AnsweringSettings], Sequence[Candidate]]


def _records(docs: Sequence[EvalDoc]) -> list[dict[str, Any]]:
    return [d.record() for d in docs]


def build_indexes(
    work: Path, distractors: Sequence[EvalDoc], halves: Sequence[Sequence[EvalDoc]], factory: Any
) -> list[Any]:
    """One assistant per half: the distractors plus that half's passages (reused if built)."""
    base = work / "base"
    if not (base / "manifest.json").exists():
        if base.exists():
            shutil.rmtree(base)
        t0 = time.perf_counter()
        report = factory(base).add_records(_records(distractors), origin="calibrate:distractors")
        print(f"distractors: {report.summary()} in {time.perf_counter() - t0:.0f} s", flush=True)
    out = []
    for n, half in enumerate(halves):
        path = work / f"half-{n}"
        if not (path / "manifest.json").exists():
            if path.exists():
                shutil.rmtree(path)
            shutil.copytree(base, path)
        assistant = factory(path)
        assistant.add_records(_records(half), origin=f"calibrate:half-{n}")
        out.append(assistant)
    return out


def _examples(eval_set: EvalSet) -> list[Any]:
    """The questions as reader examples over their own passage (answer offsets unused)."""
    from qa.reader.data import Example

    return [
        Example(
            q.qid, q.question, eval_set.doc(q.doc_ids[0]).text, tuple((a, 0) for a in q.answers)
        )
        for q in eval_set.questions
    ]


def closed_negatives(eval_set: EvalSet) -> dict[str, EvalDoc]:
    """For each question, the best BM25 held-out passage that holds none of its answers."""
    from qa.reader.negatives import retrieved_negatives

    docs = list(eval_set.docs)
    by_text = {d.text: d for d in docs}
    examples = _examples(eval_set)
    found = retrieved_negatives(examples, [d.text for d in docs], candidates=8)
    return {examples[i].qid: by_text[text] for i, text in found.items()}


def twin_questions(
    eval_set: EvalSet, seed: int, kinds: Sequence[str] = TWIN_KINDS
) -> dict[str, str]:
    """For each question where a perturbation of one of ``kinds`` applies, its twin question.

    The twins are drawn for all kinds and then filtered, so a kind's twins are the same
    whichever other kinds are kept.
    """
    others = sorted(d.text for d in eval_set.docs)
    twins = perturb_all(_examples(eval_set), random.Random(seed), others)
    out = {}
    for t in twins:
        qid, kind = t.qid.split("#neg-")
        if kind in kinds:
            out[qid] = t.question
    return out


def collect(
    eval_set: EvalSet,
    assistants: Sequence[Any],
    half_of: dict[str, int],
    negatives: dict[str, EvalDoc],
    settings: Settings,
    progress: bool = True,
    twins: dict[str, str] | None = None,
    propose: Propose = candidates,
) -> list[dict[str, Any]]:
    """Candidate rows ``{qid, setting, rank, text, label, raw, features}`` for every read.

    ``propose`` turns a read's spans into candidates (:func:`qa.answer.compose.candidates`;
    ``benchmarks/calibrator_features.py`` passes one that adds features to try).
    """
    twins = twins if twins is not None else {}
    extractor = assistants[0].extractor
    rows: list[dict[str, Any]] = []
    questions = list(eval_set.questions)
    for n, q in enumerate(questions):
        doc = eval_set.doc(q.doc_ids[0])
        own = half_of[doc.doc_id]
        own_passage = closed_hits(doc, settings)
        reads = {
            "open": (q.question, assistants[own].passages_for([q.question])[0][1]),
            "open-missing": (q.question, assistants[1 - own].passages_for([q.question])[0][1]),
            "closed": (q.question, own_passage),
        }
        if q.qid in negatives:
            reads["closed-other"] = (q.question, closed_hits(negatives[q.qid], settings))
        if q.qid in twins:
            reads["closed-twin"] = (twins[q.qid], own_passage)
        for setting, (question, hits) in reads.items():
            answerable = setting in ("open", "closed")
            spans = extractor.extract(question, hits)
            for rank, c in enumerate(propose(question, spans, settings.answering)):
                rows.append(
                    {
                        "qid": q.qid,
                        "setting": setting,
                        "rank": rank,
                        "text": c.text,
                        "label": int(answerable and max_exact(c.text, q.answers) == 1.0),
                        "raw": c.raw,
                        "features": list(c.features),
                    }
                )
        if progress and (n + 1) % 50 == 0:
            print(f"read {n + 1}/{len(questions)} questions", flush=True)
    return rows


@dataclass(frozen=True)
class Plan:
    """What a calibration read is made of: the reader and its held-out training questions.

    Attributes:
        artifact: The reader artifact folder.
        manifest: Its manifest.
        train_path: The training data its held-out slice comes from.
        seed: The trainer's split seed.
        fraction: The held-out fraction of the training data.
        eval_set: The held-out questions and their passages.
    """

    artifact: Path
    manifest: dict[str, Any]
    train_path: str
    seed: int
    fraction: float
    eval_set: EvalSet


def prepare(artifact: Path, train: str | None = None, limit: int | None = None) -> Plan:
    """The held-out questions of ``artifact``'s training split (``limit``: a seeded sample)."""
    from qa.reader.artifact import read_manifest

    manifest = read_manifest(artifact)
    training = manifest.get("training", {}).get("settings", {})
    train_path = train if train is not None else training.get("train_path")
    if not train_path:
        raise ValueError(f"{artifact}: its manifest names no training data; pass --train")
    seed = int(training.get("seed", 13))
    fraction = float(training.get("heldout_fraction", 0.02))
    eval_set = heldout_set(train_path, fraction, seed, limit)
    return Plan(artifact, manifest, str(train_path), seed, fraction, eval_set)


def read_rows(
    plan: Plan,
    distractors_path: str,
    work: Path,
    twin_kinds: Sequence[str] | None,
    propose: Propose = candidates,
) -> tuple[list[dict[str, Any]], int, float]:
    """Every read's candidate rows (:func:`collect`) with the indexes built in ``work``.

    Returns:
        The rows, how many distractor articles were mixed in, and the reading seconds.
    """
    from qa.assistant import Assistant
    from qa.extract.neural import NeuralReader

    docs = sorted(plan.eval_set.docs, key=lambda d: d.doc_id)
    random.Random(plan.seed).shuffle(docs)
    halves = [docs[0::2], docs[1::2]]
    half_of = {d.doc_id: n for n, half in enumerate(halves) for d in half}
    settings = Settings().replace(min_score=0.0, extractor="neural", use_calibrator=False)
    reader = NeuralReader(plan.artifact, max_answer_chars=settings.reading.max_answer_chars)

    def factory(path: Path) -> Any:
        return Assistant.open(path, settings=settings, extractor=reader)

    work.mkdir(parents=True, exist_ok=True)
    distractors, _ = load_distractors(distractors_path)
    assistants = build_indexes(work, distractors, halves, factory)
    t0 = time.perf_counter()
    twins = twin_questions(plan.eval_set, plan.seed, twin_kinds) if twin_kinds is not None else {}
    negatives = closed_negatives(plan.eval_set)
    rows = collect(
        plan.eval_set, assistants, half_of, negatives, settings, twins=twins, propose=propose
    )
    return rows, len(distractors), time.perf_counter() - t0


def main(argv: Sequence[str] | None = None) -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--distractors", required=True, help="news articles (JSONL) as distractors")
    ap.add_argument("--work", required=True, type=Path, help="folder for indexes and the report")
    ap.add_argument("--artifact", default=None, help="reader artifact (default: the shipped one)")
    ap.add_argument("--train", default=None, help="training data (default: the manifest's path)")
    ap.add_argument("--limit", type=int, default=None, help="use a seeded sample of N questions")
    ap.add_argument("--risk", type=float, default=0.2, help="target risk of the default threshold")
    ap.add_argument("--write", action="store_true", help="write calibrator.json into the artifact")
    ap.add_argument(
        "--twins", action="store_true", help="add the perturbed-question reads (closed-twin)"
    )
    ap.add_argument(
        "--twin-kinds",
        default=",".join(TWIN_KINDS),
        help="comma-separated kinds of twins to read (of antonym, swap, negation)",
    )
    args = ap.parse_args(argv)
    from qa.reader.artifact import CALIBRATOR_FILE, ArtifactError, find_artifact

    kinds = [k for k in args.twin_kinds.split(",") if k]
    unknown = sorted(set(kinds) - set(TWIN_KINDS))
    if unknown:
        ap.error(
            f"--twin-kinds: unknown kind(s) {', '.join(unknown)} (known: {', '.join(TWIN_KINDS)})"
        )
    artifact = Path(args.artifact) if args.artifact else find_artifact()
    if artifact is None:
        ap.error("no reader artifact to calibrate")
    try:
        plan = prepare(artifact, args.train, args.limit)
    except (ArtifactError, ValueError) as exc:
        ap.error(str(exc))
    rows, n_distractors, read_s = read_rows(
        plan, args.distractors, args.work, kinds if args.twins else None
    )
    write_jsonl(args.work / "rows.jsonl", rows)
    weights_sha = str(plan.manifest.get("weights", {}).get("sha256", ""))
    calibrator, report = fit_calibrator(rows, reader_sha256=weights_sha, risk=args.risk)
    command = "python -m qa.eval.calibrate " + " ".join(argv if argv is not None else sys.argv[1:])
    report.update(
        command=command,
        artifact=str(artifact),
        train=plan.train_path,
        heldout={
            "seed": plan.seed,
            "fraction": plan.fraction,
            "questions": len(plan.eval_set.questions),
        },
        distractors={"path": args.distractors, "articles": n_distractors},
        read_seconds=round(read_s, 1),
    )
    calibrator = dataclasses.replace(calibrator, provenance=report)
    (args.work / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    reliability_plot(report, args.work / "reliability.png")
    calibrator.save(args.work / CALIBRATOR_FILE)
    if args.write:
        calibrator.save(artifact / CALIBRATOR_FILE)
    print(json.dumps({k: v for k, v in report.items() if k != "reliability"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
