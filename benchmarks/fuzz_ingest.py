"""Fuzz the ingesters and count the inputs that crash them.

Usage:
    .venv/bin/python benchmarks/fuzz_ingest.py --runs 10000 --out runs/fuzz
        [--engine auto|atheris|hypothesis] [--max-len 4096] [--seconds 600]

Each input's first byte picks a target, the rest is its data:
  - ``read_path`` on a temporary file with each supported extension
    (.txt .md .json .jsonl .html), with the default limits;
  - ``article_from_record`` on the input decoded as JSON (a list gives several
    records; undecodable input becomes ``{"text": ...}``);
  - ``chunk_article`` on the input as an article text (and the offset invariant);
  - the date functions of ``qa.ingest.dates`` on the input as a string.

A clean rejection (a ``Rejection`` from ``read_path``, an ``InputError`` from
``article_from_record``) is the expected answer to bad input; any other exception,
a value of the wrong type or a broken offset is a crash: the input is written to
``OUT/crashes/`` with its traceback and the run goes on. Inputs slower than
``--slow`` seconds are written to ``OUT/slow/``.

With atheris installed (``pip install -e '.[fuzz]'``) the search is coverage-guided
(libFuzzer, with the qa.ingest modules and dateutil's parser instrumented; new
interesting inputs are kept in ``OUT/corpus``). Without it, the same harness runs
on hypothesis-generated random inputs, reported as ``"coverage_guided": false``.
The last line printed is one JSON object: engine, inputs, crashes, seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qa.ingest.chunking import chunk_article  # noqa: E402
from qa.ingest.dates import (  # noqa: E402
    complete_dateline,
    date_from_fields,
    date_from_url,
    find_dateline,
    normalise_date,
)
from qa.ingest.parsing import (  # noqa: E402
    InputError,
    article_from_record,
    infer_metadata,
    read_path,
)
from qa.settings import Settings  # noqa: E402
from qa.types import Article, Rejection  # noqa: E402

SUFFIXES = (".txt", ".md", ".json", ".jsonl", ".html")
TARGETS = (*SUFFIXES, "record", "chunk", "dates")
SETTINGS = Settings()
SEEDS = {
    ".txt": (REPO / "qa" / "sample" / "000_6c212dc43d020d0e.txt").read_bytes(),
    ".md": b"# Markets rally\n\nNEW YORK (AP) \xe2\x80\x94 Stocks rose 1.2% on Friday.\n",
    ".jsonl": b'{"id": 1, "title": "T", "text": "SEOUL, Nov. 7 (Yonhap) -- A story.", '
    b'"date": "2024-01-02", "url": "https://x.example/2024/01/02/a"}\n{"text": "B."}\n',
    ".json": b'{"articles": [{"text": "A story.", "published": 1700000000}]}',
    ".html": b"<html><head><title>T</title><meta name='date' content='2024-02-03'></head>"
    b"<body><article><p>Markets rose on Friday. Analysts were surprised.</p></article>"
    b"</body></html>",
    "record": b'{"headline": "H", "body": "WASHINGTON, March 3, 2024 (AP) \xe2\x80\x94 Text."}',
    "chunk": b"Mr. Smith said so. The U.S. agreed!\n\nA second paragraph... with more.",
    "dates": b"Fri, 07 Nov 2025 09:15:00 +0900",
}


class Harness:
    """Runs one input against its target and keeps the counts."""

    def __init__(self, out: Path, slow_s: float) -> None:
        self.out = out
        self.slow_s = slow_s
        self.workdir = Path(tempfile.mkdtemp(prefix="fuzz-ingest-"))
        self.inputs = 0
        self.crashes = 0
        self.signatures: dict[str, str] = {}
        self.slow = 0
        self.by_target = dict.fromkeys(TARGETS, 0)
        self.outcomes = {"articles": 0, "rejections": 0}
        self.started = time.perf_counter()
        for sub in ("crashes", "slow"):
            (out / sub).mkdir(parents=True, exist_ok=True)

    def one(self, data: bytes) -> None:
        """Run one fuzz input (first byte: target; rest: data); never raises."""
        if not data:
            self.inputs += 1
            return
        target = TARGETS[data[0] % len(TARGETS)]
        payload = data[1:]
        start = time.perf_counter()
        try:
            self._run(target, payload)
        except BaseException as exc:  # noqa: BLE001 - everything but a rejection is a crash
            if isinstance(exc, KeyboardInterrupt | SystemExit):
                raise
            self._crash(data, target, exc)
        elapsed = time.perf_counter() - start
        if elapsed > self.slow_s:
            self.slow += 1
            name = hashlib.sha1(data).hexdigest()[:16]
            (self.out / "slow" / f"{target.strip('.')}-{name}.bin").write_bytes(data)
        self.inputs += 1
        self.by_target[target] += 1
        self.save_stats()  # after every input: libFuzzer exits without returning

    def _run(self, target: str, payload: bytes) -> None:
        if target in SUFFIXES:
            path = self.workdir / f"input{target}"
            path.write_bytes(payload)
            out = list(read_path(path, SETTINGS.ingest.max_file_bytes, SETTINGS.limits))
            if not out:
                raise AssertionError("read_path yielded nothing")
            for item in out:
                if isinstance(item, Article):
                    self.outcomes["articles"] += 1
                elif isinstance(item, Rejection):
                    self.outcomes["rejections"] += 1
                else:
                    raise TypeError(f"read_path yielded a {type(item).__name__}")
            return
        text = payload.decode("utf-8", "replace")
        if target == "record":
            try:
                value: Any = json.loads(text)
            except (ValueError, RecursionError):
                value = {"text": text}
            for record in (value if isinstance(value, list) else [value])[:20]:
                try:
                    article_from_record(record, "fuzz", limits=SETTINGS.limits)
                    self.outcomes["articles"] += 1
                except InputError:
                    self.outcomes["rejections"] += 1
        elif target == "chunk":
            article = Article(article_id="f" * 16, title="t", text=text, origin="fuzz")
            for chunk in chunk_article(article, 40, 10):
                if text[chunk.start : chunk.end] != chunk.text:
                    raise AssertionError(f"chunk offsets broken at {chunk.start}:{chunk.end}")
        else:
            dateline = find_dateline(text)
            found = [
                normalise_date(text),
                date_from_url(text),
                date_from_fields({"date": text}),
                complete_dateline(dateline, text),
                infer_metadata(text)[0],
            ]
            for value in found:
                if value is not None and len(value) != 10:
                    raise AssertionError(f"not an ISO date: {value!r}")

    def _crash(self, data: bytes, target: str, exc: BaseException) -> None:
        self.crashes += 1
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        signature = f"{target} {type(exc).__name__} at {where}"
        if signature in self.signatures:
            return
        name = f"crash-{hashlib.sha1(data).hexdigest()[:16]}"
        (self.out / "crashes" / f"{name}.bin").write_bytes(data)
        (self.out / "crashes" / f"{name}.txt").write_text(
            f"target: {target}\n{signature}\n\n" + "".join(traceback.format_exception(exc)),
            encoding="utf-8",
        )
        self.signatures[signature] = name
        sys.stderr.write(f"CRASH {signature} -> {name}.bin\n")

    def stats(self) -> dict[str, Any]:
        """The counts so far."""
        return {
            "inputs": self.inputs,
            "crashes": self.crashes,
            "unique_crashes": len(self.signatures),
            "crash_signatures": self.signatures,
            "slow_inputs": self.slow,
            "by_target": self.by_target,
            "outcomes": self.outcomes,
            "seconds": round(time.perf_counter() - self.started, 1),
        }

    def save_stats(self) -> None:
        """Write the counts to OUT/stats.json (the parent process reads them)."""
        tmp = self.out / "stats.json.tmp"
        tmp.write_text(json.dumps(self.stats()), encoding="utf-8")
        tmp.replace(self.out / "stats.json")


def _instrument(atheris: Any) -> int:
    """Add coverage instrumentation to the ingest modules (already imported)."""
    count = 0
    import dateutil.parser._parser  # noqa: F401 - instrumented below

    for name, module in list(sys.modules.items()):
        if module is None or not (
            name.startswith("qa.ingest.") or name == "dateutil.parser._parser"
        ):
            continue
        for obj in list(vars(module).values()):
            if getattr(obj, "__module__", None) != name:
                continue
            members = vars(obj).values() if inspect.isclass(obj) else [obj]
            for member in members:
                if inspect.isfunction(member):
                    atheris.instrument_func(member)
                    count += 1
    return count


def _child_atheris(args: argparse.Namespace) -> None:
    import atheris

    harness = Harness(args.out, args.slow)
    functions = _instrument(atheris)
    sys.stderr.write(f"instrumented {functions} functions\n")
    corpus = args.out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for target, seed in SEEDS.items():
        (corpus / f"seed-{target.strip('.')}").write_bytes(bytes([TARGETS.index(target)]) + seed)
    import atexit

    atexit.register(harness.save_stats)
    atheris.Setup(
        [
            sys.argv[0],
            f"-runs={args.runs}",
            f"-max_len={args.max_len}",
            f"-max_total_time={args.seconds}",
            "-timeout=120",
            "-rss_limit_mb=4096",
            f"-artifact_prefix={args.out / 'crashes'}/libfuzzer-",
            "-print_final_stats=1",
            str(corpus),
        ],
        harness.one,
    )
    try:
        atheris.Fuzz()
    finally:
        harness.save_stats()


def _run_hypothesis(args: argparse.Namespace) -> dict[str, Any]:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(str(args.out / "hypothesis"))  # not .hypothesis/ in the repo

    harness = Harness(args.out, args.slow)
    texts = st.text(max_size=args.max_len // 4).map(lambda t: t.encode("utf-8", "surrogatepass"))
    seeds = st.sampled_from([bytes([TARGETS.index(t)]) + s for t, s in SEEDS.items()])
    mutated = st.tuples(seeds, st.binary(max_size=64), st.integers(0, 400)).map(
        lambda x: x[0][: x[2]] + x[1] + x[0][x[2] :]
    )
    inputs = st.one_of(
        st.binary(min_size=1, max_size=args.max_len),
        st.tuples(st.integers(0, 255), texts).map(lambda x: bytes([x[0]]) + x[1]),
        mutated,
    )

    @settings(
        max_examples=args.runs,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def fuzz(data: bytes) -> None:
        harness.one(data)

    fuzz()
    return harness.stats()


def main(argv: list[str] | None = None) -> int:
    """Run the fuzzer and print one JSON line with the result."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "fuzz")
    parser.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    parser.add_argument("--max-len", type=int, default=4096)
    parser.add_argument("--seconds", type=int, default=600, help="stop after this long")
    parser.add_argument("--slow", type=float, default=2.0, help="seconds that make an input slow")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.out = args.out.resolve()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        _child_atheris(args)
        return 0
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
        except ImportError:
            engine = "hypothesis"
        else:
            engine = "atheris"
    started = time.perf_counter()
    result: dict[str, Any] = {"engine": engine, "coverage_guided": engine == "atheris"}
    if engine == "atheris":
        (args.out / "stats.json").unlink(missing_ok=True)
        command = [sys.executable, str(Path(__file__).resolve()), "--child", *sys.argv[1:]]
        with open(args.out / "libfuzzer.log", "w", encoding="utf-8") as log:
            code = subprocess.call(command, stdout=log, stderr=subprocess.STDOUT, env=os.environ)
        stats_file = args.out / "stats.json"
        stats = json.loads(stats_file.read_text()) if stats_file.exists() else {"inputs": 0}
        result.update(stats)
        result["libfuzzer_exit"] = code
        result["log"] = str(args.out / "libfuzzer.log")
        result["corpus_size"] = len(list((args.out / "corpus").iterdir()))
    else:
        result.update(_run_hypothesis(args))
        result["note"] = "hypothesis random inputs: not coverage-guided"
    result["runs_requested"] = args.runs
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(result))
    return 1 if result.get("crashes") else 0


if __name__ == "__main__":
    sys.exit(main())
