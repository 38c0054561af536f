"""Crash safety: ``kill -9`` index writes at random points, then check what is left.

Usage:
    HF_HUB_OFFLINE=1 nice -n 10 .venv/bin/python benchmarks/kill_trials.py [--trials 100]
        [--seed 0] [--articles 30] [--pause 0.05] [--out benchmarks/results/kill_trials.json]

A prepared index (real encoder: the bundled sample article and ``--articles`` BBC articles,
synthetic ones if ``../shared/data`` is absent) is copied for each trial; a process runs one
operation on the copy and is ``SIGKILL``ed after a seeded random delay: half uniform over
the operation (timed by one calibration run each), half within one of its commits.
Operations: ``ingest`` (``Assistant.add`` of a JSONL batch), ``upload``
(``ChatBackend.upload``, three files), ``delete`` (``Assistant.delete`` of five articles)
and ``merge`` (``Index.merge`` of an index of two segments: the prepared one plus the ingest
batch added as a second segment); the real encoder sleeps ``--pause`` s per batch of 2
passages. After each kill the parent opens the index (an ``IndexFormatError`` makes it
unusable), checks it (:func:`consistency`), asks the sample question with the real encoder
and neural reader (loaded once) and writes once more (:func:`check`). The write processes
fork from a fork server that imports torch and the project once. The last output line is one
JSON object; ``--out FILE`` writes it too.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# the killed processes leave tqdm's semaphore registered; the tracker's warning is noise
os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning:multiprocessing.resource_tracker")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from embeddings.encoder import SentenceEncoder  # noqa: E402
from qa import Assistant  # noqa: E402
from qa.chat.backend import ChatBackend  # noqa: E402
from qa.index import MANIFEST, Index  # noqa: E402
from qa.index.format import segments_of  # noqa: E402
from qa.ingest.chunking import chunking_signature  # noqa: E402
from qa.ingest.parsing import article_from_record, read_path  # noqa: E402
from qa.settings import IndexSettings, Settings  # noqa: E402
from qa.types import Article  # noqa: E402

BBC = REPO.parent / "shared" / "data" / "bbc_news" / "bbc_news_2004-2005.jsonl"
SAMPLE = REPO / "qa" / "sample" / "000_6c212dc43d020d0e.txt"
QUESTION = "Who is Japan's counterpart in the dialogue?"
ANSWER = "Takehiro Funakoshi"
OPERATIONS = ("ingest", "upload", "delete", "merge")
SEGMENTED = IndexSettings(single_segment_max_chunks=1, max_segments=1)
PRELOAD = ["torch", "sentence_transformers", "qa.assistant", "qa.chat.backend"]


class SlowEncoder:
    """The real encoder, sleeping ``pause`` seconds before each batch."""

    def __init__(self, inner: Any, pause: float) -> None:
        self.inner, self.pause = inner, pause
        self.name, self.dimension = inner.name, inner.dimension

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Any:
        """Sleep, then encode with the real model."""
        time.sleep(self.pause)
        return self.inner.encode(texts, batch_size)


class NoReader:
    """The writer never answers; this stands in for the reader it would otherwise load."""

    name = "none"

    def calibrator_file(self) -> None:
        """No calibrator."""

    def extract(self, question: str, hits: Sequence[Any]) -> list[Any]:
        """No spans."""
        return []


def child_main(op: str, root: str, spec: dict[str, Any], markers: str, pause: float) -> None:
    """Run one operation on ``root``, logging ``ready``/commits/``finished`` to ``markers``."""
    log = open(markers, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - killed with us

    def mark(event: str) -> None:
        log.write(f"{time.monotonic():.4f} {event}\n")  # line-buffered: one write per event

    commit = Index._commit_segments  # every commit and merge writes through it

    def traced(self: Index, *args: Any, **kwargs: Any) -> None:
        mark("commit-start")
        commit(self, *args, **kwargs)
        mark("commit-end")

    Index._commit_segments = traced  # type: ignore[method-assign]
    real = SentenceEncoder(threads=1)
    if op != "delete":
        real.encode(["warm up"])  # weights loaded before the clock starts
    slow, settings = SlowEncoder(real, pause), Settings().replace(encode_batch_size=2)
    if op == "merge":
        signature = chunking_signature(settings.chunking)
        index = Index.open(root, slow, signature, create=False, layout=SEGMENTED)
        mark("ready")
        merged = index.merge()
        mark("finished" if merged else "error nothing to merge")
        return
    assistant = Assistant.open(root, encoder=slow, extractor=NoReader(), settings=settings)
    mark("ready")
    if op == "ingest":
        report = assistant.add(spec["files"])
        bad = [r.reason for r in report.rejected]
    elif op == "upload":
        results = ChatBackend(assistant).upload(spec["files"])
        bad = [reason for r in results for reason in r.rejected]
    else:
        bad = [aid for aid in spec["ids"] if not assistant.delete(aid)]
    mark(f"error {bad}" if bad else "finished")


def bbc_records(n: int) -> list[dict[str, Any]]:
    """``n`` BBC records (synthetic news-like ones when the file is absent)."""
    if BBC.exists():
        with BBC.open(encoding="utf-8") as handle:
            return [json.loads(line) for _, line in zip(range(n), handle, strict=False)]
    sentence = "Councillor {0} said item {1} of the plan would cost {2} million over {1} years."
    texts = [" ".join(sentence.format(f"P{i}x{k}", k, i + k) for k in range(25)) for i in range(n)]
    return [{"id": f"synthetic/{i}", "text": f"Budget {i}\n\n{t}"} for i, t in enumerate(texts)]


def article_ids(path: Path) -> list[str]:
    """Ids of the articles a file holds, as the ingest will give them."""
    found = read_path(path, Settings().ingest.max_file_bytes)
    return [a.article_id for a in found if isinstance(a, Article)]


def write_jsonl(records: list[dict[str, Any]], path: Path) -> Path:
    """Write ``records`` as JSON lines."""
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def make_specs(work: Path, n_index: int) -> tuple[Path, dict[str, dict[str, Any]]]:
    """The prepared index's JSONL and each operation's files, ids and allowed article sets."""
    records = bbc_records(n_index + 11)
    indexed, batch, upload = records[:n_index], records[n_index : n_index + 6], records[-5:]
    index_file = write_jsonl(indexed, work / "index.jsonl")
    ingest = write_jsonl(batch, work / "ingest.jsonl")
    uploads = [work / "upload-1.txt", write_jsonl(upload[1:4], work / "upload-2.jsonl")]
    uploads.append(work / "upload-3.txt")
    uploads[0].write_text(upload[0]["text"], encoding="utf-8")
    uploads[2].write_text(upload[4]["text"], encoding="utf-8")
    before = frozenset(article_ids(SAMPLE) + article_ids(index_file))
    doomed = article_ids(index_file)[1 : n_index : max(1, n_index // 5)][:5]
    steps = [before]
    for f in uploads:
        steps.append(steps[-1] | frozenset(article_ids(f)))
    gone = [before - frozenset(doomed[:k]) for k in range(len(doomed) + 1)]
    return index_file, {
        "ingest": {"files": [str(ingest)], "states": [before, before | set(article_ids(ingest))]},
        "upload": {"files": [str(f) for f in uploads], "states": steps},
        "delete": {"ids": doomed, "states": gone},
    }


def consistency(root: Path, index: Any, states: list[frozenset[str]]) -> tuple[list[str], str]:
    """Problems of the index at ``root`` (empty when consistent) and which state it holds.

    Manifest counts == SQLite store == FAISS vectors; every chunk is a slice of its article and
    every article has chunks; the articles are those before or after one of the commits.
    """
    state, problems = index.state, []
    manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    counts = {"articles": len(state.articles), "chunks": len(state.chunks)}
    if manifest["counts"] != counts:
        problems.append(f"manifest counts {manifest['counts']} != loaded {counts}")
    stored = {"articles": 0, "chunks": 0}
    for segment in segments_of(manifest):
        store_path = root / segment["files"]["store"]["path"]
        with contextlib.closing(sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)) as conn:
            query = "SELECT (SELECT count(*) FROM articles), (SELECT count(*) FROM chunks)"
            for key, value in zip(counts, conn.execute(query).fetchone(), strict=True):
                stored[key] += value
    if stored != counts:
        problems.append(f"store holds {stored}, manifest {counts}")
    ids = set(state.vectors.ids().tolist())
    if len(state.vectors) != len(state.chunks) or ids != set(state.chunks):
        problems.append(f"{len(state.vectors)} vectors for {len(state.chunks)} chunks")
    with_chunks = set()
    for chunk in state.chunks.values():
        article = state.articles.get(chunk.article_id)
        if article is None:
            problems.append(f"chunk {chunk.chunk_id} of a missing article")
            continue
        with_chunks.add(chunk.article_id)
        inside = 0 <= chunk.start < chunk.end <= len(article.text)
        if not inside or article.text[chunk.start : chunk.end] != chunk.text:
            problems.append(f"chunk {chunk.chunk_id} is not a slice of its article")
    if with_chunks != set(state.articles):
        problems.append(f"{len(set(state.articles) - with_chunks)} articles without chunks")
    held = frozenset(state.articles)
    if held not in states:
        problems.append(f"{len(held)} articles: matches no state before or after a commit")
        return problems, "none"
    at = states.index(held)
    return problems, "previous" if at == 0 else "final" if at == len(states) - 1 else "partial"


def leftovers(root: Path, manifest: dict[str, Any]) -> list[str]:
    """Files and folders besides the manifest, the lock and the live segments."""
    live = {MANIFEST, ".lock", *(seg["name"] for seg in segments_of(manifest))}
    return sorted(p.name for p in root.iterdir() if p.name not in live)


def check(root: Path, encoder: Any, reader: Any, states: list[frozenset[str]], n: int) -> dict:
    """Open, check, ask (expecting "Takehiro Funakoshi"), write once more; the trial's verdict.

    The next write must succeed and leave only the manifest, the lock and one generation.
    """
    signature = chunking_signature(Settings().chunking)
    out: dict[str, Any] = {"usable": True, "problems": []}
    try:
        index = Index.open(root, encoder, signature, create=False)
        assistant = Assistant.open(root, encoder=encoder, extractor=reader, create=False)
    except Exception as exc:
        return {"usable": False, "problems": [f"{type(exc).__name__}: {exc}"], "state": "none"}
    out["leftovers"] = leftovers(root, index.manifest)
    out["problems"], out["state"] = consistency(root, index, states)
    out["answer"] = assistant.ask(QUESTION).text
    probe = {"id": f"probe-{n}", "title": "Cranes", "text": "Harbour cranes were repaired "
             "at Busan port on Monday, the port authority said in a statement."}  # fmt: skip
    try:
        report = assistant.add_records([probe])
        after = Index.open(root, encoder, signature, create=False)
        pid = article_from_record(probe, "api[0]").article_id
        problems, _ = consistency(root, after, [frozenset(index.state.articles) | {pid}])
        left = leftovers(root, after.manifest)
        out["next_write_ok"] = len(report.added) == 1 and not problems and not left
        if not out["next_write_ok"]:
            out["problems"].append(f"next write: added {report.added}, {problems}, left {left}")
    except Exception as exc:
        out["next_write_ok"] = False
        out["problems"].append(f"next write failed: {type(exc).__name__}: {exc}")
    return out


def events(markers: Path) -> list[tuple[float, str]]:
    """The ``(monotonic time, event)`` lines the process wrote (a torn last line skipped)."""
    lines = [line.partition(" ") for line in markers.read_text(encoding="utf-8").splitlines()]
    return [(float(t), e) for t, _, e in lines if e and t.replace(".", "", 1).isdigit()]


def run_one(
    ctx: Any, op: str, spec: dict, root: Path, markers: Path, args: Any, when: tuple | None
) -> dict:
    """Start the operation and ``SIGKILL`` it at ``when`` (never if ``None``).

    ``when`` is ``(None, s)``: ``s`` seconds after it is ready, or ``(k, s)``: ``s`` seconds
    after its ``k``-th commit (from 0) starts.
    """
    markers.write_text("")
    proc = ctx.Process(target=child_main, args=(op, str(root), spec, str(markers), args.pause))
    proc.start()
    deadline = time.monotonic() + 600
    while not any(e == "ready" for _, e in events(markers)):
        if not proc.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{op}: the write process did not start (exit {proc.exitcode})")
        time.sleep(0.01)
    ready = next(t for t, e in events(markers) if e == "ready")
    if when is None:
        proc.join(600)
    else:
        (commit, delay), origin = when, ready
        while commit is not None and proc.is_alive():
            if sum(e == "commit-start" for _, e in events(markers)) > commit:
                origin = time.monotonic()
                break
            time.sleep(0.002)
        time.sleep(max(0.0, origin + delay - time.monotonic()))
        killed_at = time.monotonic()
        if proc.is_alive():
            os.kill(proc.pid, signal.SIGKILL)
        proc.join()
    seen = events(markers)
    if any(e.startswith("error") for _, e in seen):
        raise RuntimeError(f"{op}: the operation failed: {seen[-1][1]}")
    finished = any(e == "finished" for _, e in seen)
    starts = [t - ready for t, e in seen if e == "commit-start"]
    ends = [t - ready for t, e in seen if e == "commit-end"]
    phase = "during a commit" if len(starts) > len(ends) else "between commits"
    phase = "finished" if finished else phase if starts else "before any commit"
    result = {"op": op, "finished": finished, "phase": phase, "exit": proc.exitcode}
    result["commits"] = list(zip(starts, ends, strict=False))
    result["duration"] = next((t - ready for t, e in seen if e == "finished"), None)
    if when is not None:
        result["killed_after_s"] = round(killed_at - ready, 3)
        result["aimed_at"] = "a commit" if when[0] is not None else "any time"
    return result


def fresh_copy(prepared: Path, root: Path) -> Path:
    """A new copy of the prepared index at ``root``."""
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(prepared, root)
    return root


def draw(rng: random.Random, timing: dict) -> tuple[int | None, float]:
    """Uniform over the whole operation, or (half the time) within one of its commits."""
    if rng.random() < 0.5:
        return None, rng.uniform(0.0, 1.1 * timing["duration"])
    k = rng.randrange(len(timing["commits"]))
    start, end = timing["commits"][k]
    return k, rng.uniform(0.0, 1.2 * (end - start))


def summarise(trials: list[dict]) -> dict[str, Any]:
    """Counts per operation and in all."""
    by_op: dict[str, Any] = {}
    for op in [*OPERATIONS, "all"]:
        mine = [t for t in trials if op in (t["op"], "all")]
        by_op[op] = {
            "trials": len(mine),
            "killed_mid_operation": sum(not t["finished"] for t in mine),
            "finished_before_kill": sum(t["finished"] for t in mine),
            "unusable": sum(not t["usable"] for t in mine),
            "inconsistent": sum(bool(t["problems"]) for t in mine),
            "wrong_or_missing_answer": sum(t.get("answer") != ANSWER for t in mine),
            "temp_files_left_by_kill": sum(bool(t.get("leftovers")) for t in mine),
            "next_write_failed": sum(not t.get("next_write_ok") for t in mine),
            "aimed_at": dict(Counter(t["aimed_at"] for t in mine)),
            "phase": dict(Counter(t["phase"] for t in mine)),
            "state": dict(Counter(t["state"] for t in mine)),
        }
    return by_op


def main() -> None:
    """Run the trials and print one JSON line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--articles", type=int, default=30, help="BBC articles in the index")
    parser.add_argument("--pause", type=float, default=0.05, help="sleep per encoded batch")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)
    rng = random.Random(args.seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="kill-trials-") as tmp:
        work = Path(tmp)
        index_file, specs = make_specs(work, args.articles)
        encoder = SentenceEncoder(threads=1)
        prepared = work / "prepared"
        base = Assistant.open(prepared, encoder=encoder)
        report = base.add([SAMPLE, index_file])
        assert not report.rejected, report.rejected
        assert base.ask(QUESTION).text == ANSWER, "the prepared index does not answer"
        reader = base.extractor
        print(f"prepared: {base.info().articles} articles, {base.info().chunks} passages")
        segmented = fresh_copy(prepared, work / "segmented")
        two = Assistant.open(
            segmented, encoder=encoder, settings=Settings().replace(single_segment_max_chunks=1)
        )
        two.add(specs["ingest"]["files"])
        assert two.info().segments == 2, two.info()
        specs["merge"] = {"states": [frozenset(a.article_id for a in two.articles())]}
        sources = {op: segmented if op == "merge" else prepared for op in OPERATIONS}

        timings, trials = {}, []
        for op in OPERATIONS:  # calibration: one full run of each, not killed, checked
            root = fresh_copy(sources[op], work / "trial")
            run = run_one(ctx, op, specs[op], root, work / "markers", args, None)
            calibrated = check(root, encoder, reader, specs[op]["states"][-1:], -1)
            assert calibrated["usable"] and not calibrated["problems"], calibrated
            commits = [[round(a, 3), round(b, 3)] for a, b in run["commits"]]
            timings[op] = {"duration": round(run["duration"], 3), "commits": commits}
            print(f"calibration {op}: {timings[op]}", flush=True)
        for n in range(args.trials):
            op = OPERATIONS[n % len(OPERATIONS)]
            root = fresh_copy(sources[op], work / "trial")
            run = run_one(ctx, op, specs[op], root, work / "markers", args, draw(rng, timings[op]))
            trial = {**run, **check(root, encoder, reader, specs[op]["states"], n), "n": n}
            trial.pop("commits")
            trials.append(trial)
            ok = "ok" if trial["usable"] and not trial["problems"] else f"BAD {trial['problems']}"
            line = f"{run['killed_after_s']:.2f} s ({run['phase']}): {trial['state']}, {ok}"
            print(f"trial {n:3d} {op:6s} killed at {line}", flush=True)
    result = {
        "benchmark": "kill_trials",
        **{k: v for k, v in vars(args).items() if k != "out"},
        "encoder": "real all-MiniLM-L6-v2 (slowed), reader: default neural",
        "calibration": timings,
        "operations": summarise(trials),
        "failures": [t for t in trials if not t["usable"] or t["problems"]][:20],
        "seconds": round(time.monotonic() - started, 1),
    }
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
