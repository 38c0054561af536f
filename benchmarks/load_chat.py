"""Load test of the chat: many clients ask while an upload runs, against a real local server.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/load_chat.py [--articles 300] [--upload 300]
        [--clients 20] [--questions 5] [--out benchmarks/results/load_chat.json]

Steps:
  1. build an index of the first ``--articles`` BBC articles
     (``../shared/data/bbc_news/bbc_news_2004-2005.jsonl``) plus the bundled sample, with
     ``qa ingest`` (real encoder);
  2. start ``qa chat --index DIR`` (the real app, real models) as a subprocess on 127.0.0.1,
     on a free port, and wait until it answers;
  3. ask the fixed questions with no load: the reference answers and latencies;
  4. upload the last ``--upload`` BBC articles (one JSONL file) through the page's own
     ``/upload`` endpoint with ``gradio_client``, and while it runs let ``--clients``
     clients (threads, each its own ``gradio_client`` session) each ask the questions;
     the upload is followed through ``/upload_status``, as the page's timer does;
  5. ask the questions again once the upload is over (the answers on the new generation).

It reports errors, answers different from the reference (and those matching neither
the reference nor the answer after the upload: a question reads the old or the new
generation, so only those would be wrong), p50/p95/max question latency, the upload's
duration and whether it finished. The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
BBC = REPO.parent / "shared" / "data" / "bbc_news" / "bbc_news_2004-2005.jsonl"
SAMPLE = REPO / "qa" / "sample"
QUESTIONS = [  # no pronouns: each is read the same in any conversation
    "Who is Japan's counterpart in the dialogue?",
    "How much did Time Warner's quarterly profits jump?",
    "Who bought the Yugansk unit?",
    "Who is BA's chief executive?",
    "How many jobs did US firms add in January?",
]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def qa_command(*args: str) -> list[str]:
    """The ``qa`` CLI of this interpreter."""
    return [sys.executable, "-c", "from qa.cli import main; main()", *args]


def write_jsonl(lines: list[str], path: Path) -> Path:
    """Write BBC records to ``path``."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start_server(index: Path, log: Path, env: dict[str, str], timeout: float) -> tuple[Any, str]:
    """Start ``qa chat`` on a free port; return (process, url) once it printed its URL."""
    port = free_port()
    out = open(log, "w")  # noqa: SIM115 (closed with the process)
    proc = subprocess.Popen(
        qa_command("chat", "--index", str(index), "--port", str(port)),
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )
    deadline = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"qa chat exited ({proc.returncode}); see {log}")
        if "qa chat: http" in log.read_text(errors="replace"):
            return proc, url
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"qa chat did not start within {timeout:.0f} s; see {log}")


def client(url: str) -> Any:
    """A new ``gradio_client`` session."""
    from gradio_client import Client

    return Client(url, verbose=False, analytics_enabled=False, download_files=False)


def ask_all(c: Any, questions: list[str], timeout: float) -> list[dict[str, Any]]:
    """Ask ``questions`` in order in one session; one record per question."""
    records = []
    for q in questions:
        started = time.perf_counter()
        record: dict[str, Any] = {"question": q, "start": time.monotonic()}
        try:
            _, _, last = c.submit(q, api_name="/ask").result(timeout=timeout)
            record["answer"] = last.get("answer")
            record["error"] = last.get("error")
        except Exception as exc:  # counted as an error
            record["answer"], record["error"] = None, f"{type(exc).__name__}: {exc}"
        record["seconds"] = time.perf_counter() - started
        records.append(record)
    return records


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by the nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def follow_upload(c: Any, job: str, timeout: float) -> dict[str, Any]:
    """Poll ``/upload_status`` until the job is over (or ``timeout``); its last status."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {"status": "unknown"}
    while time.monotonic() < deadline:
        status = c.predict(job, api_name="/upload_status")
        if status.get("status") in ("done", "failed"):
            break
        time.sleep(0.5)
    return status


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Build, serve, load, measure; the result as one dict."""
    lines = BBC.read_text(encoding="utf-8").splitlines()
    work = Path(tempfile.mkdtemp(prefix="load-chat-"))
    env = dict(os.environ, HF_HUB_OFFLINE="1", QA_CACHE_DIR=str(work / "cache"))
    env.pop("QA_INDEX", None)
    base = write_jsonl(lines[: args.articles], work / "base.jsonl")
    more = write_jsonl(lines[-args.upload :], work / "upload.jsonl")
    index = work / "index"
    samples = [str(p) for p in SAMPLE.iterdir() if p.suffix == ".txt"]
    started = time.perf_counter()
    subprocess.run(
        qa_command("ingest", "--index", str(index), "--quiet", str(base), *samples),
        env=env,
        check=True,
        cwd=REPO,
    )
    ingest_s = time.perf_counter() - started
    print(f"index: {args.articles} BBC articles + sample in {ingest_s:.1f} s", flush=True)
    questions = QUESTIONS[: args.questions]
    started = time.perf_counter()
    proc, url = start_server(index, work / "server.log", env, args.start_timeout)
    print(f"server: {url} up in {time.perf_counter() - started:.1f} s", flush=True)
    try:
        reference = ask_all(client(url), questions, args.timeout)
        expected = {r["question"]: r["answer"] for r in reference}
        for r in reference:
            print(f"  reference {r['seconds']:.2f} s  {r['question']!r} -> {r['answer']!r}")
        clients = [client(url) for _ in range(args.clients)]
        uploader = client(url)
        from gradio_client import handle_file

        upload_started = time.monotonic()
        _, job, _ = uploader.predict([handle_file(str(more))], api_name="/upload")
        if not job:
            raise RuntimeError("the upload was refused")
        results: list[list[dict[str, Any]]] = [[] for _ in clients]

        def load(i: int) -> None:
            results[i] = ask_all(clients[i], questions, args.timeout)

        threads = [threading.Thread(target=load, args=(i,)) for i in range(len(clients))]
        for t in threads:
            t.start()
        status = follow_upload(uploader, job, args.upload_timeout)
        upload_ended = time.monotonic()
        for t in threads:
            t.join()
        after = {r["question"]: r["answer"] for r in ask_all(client(url), questions, args.timeout)}
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    records = [r for rs in results for r in rs]
    latencies = [r["seconds"] for r in records]
    errors = [r for r in records if r["error"]]
    different = [r for r in records if not r["error"] and r["answer"] != expected[r["question"]]]
    wrong = [r for r in different if r["answer"] != after[r["question"]]]
    during = [r for r in records if r["start"] < upload_ended]
    answered = [r for r in during if r["start"] + r["seconds"] < upload_ended and not r["error"]]
    summary = {
        "articles": args.articles,
        "upload_articles": args.upload,
        "clients": args.clients,
        "questions_per_client": len(questions),
        "asked": len(records),
        "asked_while_uploading": len(during),
        "answered_while_uploading": len(answered),
        "errors": len(errors),
        "different_from_reference": len(different),
        "wrong": len(wrong),
        "latency_s": {
            "p50": round(statistics.median(latencies), 3) if latencies else None,
            "p95": round(percentile(latencies, 0.95), 3),
            "max": round(max(latencies), 3) if latencies else None,
        },
        "reference_latency_s": {
            "p50": round(statistics.median(r["seconds"] for r in reference), 3),
            "max": round(max(r["seconds"] for r in reference), 3),
        },
        "upload_s": round(upload_ended - upload_started, 2),
        "upload_job_s": status.get("seconds"),
        "upload_status": status.get("status"),
        "upload_finished": status.get("status") == "done",
        "upload_added": sum(r.get("added", 0) for r in status.get("results", [])),
        "changed_by_upload": sorted(q for q in questions if after[q] != expected[q]),
        "error_samples": [r["error"] for r in errors[:3]],
        "wrong_samples": [(r["question"], r["answer"]) for r in wrong[:3]],
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    return summary


def main() -> None:
    """Parse arguments, run, print a table and the JSON line (and write ``--out``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="BBC articles in the index")
    parser.add_argument("--upload", type=int, default=300, help="BBC articles uploaded")
    parser.add_argument("--clients", type=int, default=20, help="concurrent chat clients")
    parser.add_argument("--questions", type=int, default=5, choices=range(1, 6), metavar="1-5")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per question")
    parser.add_argument("--upload-timeout", type=float, default=1800, help="seconds")
    parser.add_argument("--start-timeout", type=float, default=600, help="server start, s")
    parser.add_argument("--out", type=Path, default=None, help="also write the JSON here")
    args = parser.parse_args()
    if args.articles + args.upload > len(BBC.read_text(encoding="utf-8").splitlines()):
        parser.error("--articles + --upload is more than the BBC file holds")
    summary = run(args)
    lat = summary["latency_s"]
    print(
        f"{summary['asked']} questions ({summary['asked_while_uploading']} asked and "
        f"{summary['answered_while_uploading']} answered while uploading) "
        f"from {summary['clients']} clients: p50 {lat['p50']} s, p95 {lat['p95']} s, "
        f"max {lat['max']} s; errors {summary['errors']}, different from the reference "
        f"{summary['different_from_reference']}, wrong {summary['wrong']}"
    )
    print(
        f"upload of {summary['upload_articles']} articles: {summary['upload_status']} in "
        f"{summary['upload_s']} s (added {summary['upload_added']})"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
