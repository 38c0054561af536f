"""Cold start of ``qa ask`` on the bundled sample corpus, against ``import torch``.

Usage:
    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bench_cold_start.py [--runs 5] [--out FILE]

In one run, each a fresh process, median of ``--runs``:

- reference: ``python -c "import torch"`` (the floor for anything that loads a model);
- ``qa ask QUESTION --no-server``: the one-shot command, which imports PyTorch and
  sentence-transformers and loads both models;
- ``qa ask QUESTION`` while ``qa serve`` runs (started once by this script, not timed
  in the runs): the command connects to the server's socket.

Every ``qa ask`` must print the sample's answer ("Takehiro Funakoshi"); a run that does
not is reported as an error. The last output line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
QUESTION = "Who is Japan's counterpart in the dialogue?"
ANSWER = "Takehiro Funakoshi"


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds ``cmd`` took and its output (raises if it failed)."""
    t = time.perf_counter()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=True)
    return time.perf_counter() - t, out.stdout


def median_of(runs: int, cmd: list[str], env: dict[str, str], expect: str | None) -> dict:
    """Median, min and max seconds over ``runs`` fresh processes."""
    times = []
    for _ in range(runs):
        seconds, out = timed(cmd, env)
        if expect is not None and expect not in out:
            raise RuntimeError(f"{' '.join(cmd)} printed {out[:200]!r}, not {expect!r}")
        times.append(seconds)
    return {
        "median_s": round(statistics.median(times), 3),
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "runs": runs,
    }


def main() -> int:
    """Command line."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    qa = str(BIN / "qa")
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "QA_CACHE_DIR": str(Path(home) / "cache"),  # the sample index is built here
            "XDG_RUNTIME_DIR": home,  # a private socket folder for this run
        }
        env.pop("QA_INDEX", None)
        timed([qa, "ask", QUESTION, "--no-server"], env)  # builds the sample index once
        result: dict = {"question": QUESTION, "cpus": os.cpu_count()}
        result["import_torch"] = median_of(
            args.runs, [sys.executable, "-c", "import torch"], env, None
        )
        result["ask_no_server"] = median_of(
            args.runs, [qa, "ask", QUESTION, "--no-server"], env, ANSWER
        )
        server = subprocess.Popen(
            [qa, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        try:
            assert server.stdout is not None
            seen = []
            for line in server.stdout:  # "qa serve: ..." is printed once it listens
                seen.append(line)
                if line.startswith("qa serve:"):
                    break
            else:
                raise RuntimeError(f"qa serve did not start: {''.join(seen)[-500:]!r}")
            result["ask_with_server"] = median_of(args.runs, [qa, "ask", QUESTION], env, ANSWER)
        finally:
            server.terminate()
            server.wait(30)
    ref = result["import_torch"]["median_s"]
    for key in ("ask_no_server", "ask_with_server"):
        result[key]["vs_import_torch"] = round(result[key]["median_s"] / ref, 2)
    for key in ("import_torch", "ask_no_server", "ask_with_server"):
        print(f"{key:16} median {result[key]['median_s']:.2f} s  ({result[key]})")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
