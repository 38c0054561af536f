"""Disk faults: a full disk and a read-only index directory give clear errors, no damage.

A full disk is simulated in a subprocess with ``RLIMIT_FSIZE`` (``SIGXFSZ`` ignored, so a
write past the limit fails with ``EFBIG`` instead of killing the process); the limit is
placed so that the copy of the store, the SQLite transaction or the FAISS file fails.
A read-only index is ``chmod``-ed (0o555 folders, 0o444 files) and written to from a
subprocess; as root, that subprocess runs without ``CAP_DAC_OVERRIDE`` (``setpriv``), so
the permission bits really apply.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import HashingEncoder
from fakes import add_articles as add

from qa.index import MANIFEST, Index
from qa.index.format import IndexWriteError, segments_of, write_error
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.settings import Settings

CHUNKING = chunking_signature(Settings().chunking)
DIM = 2048  # wide vectors: the FAISS file outgrows the store, so each can be made to fail
TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
SETPRIV = shutil.which("setpriv")


def records(n: int, prefix: str, words: int = 12) -> list[dict[str, str]]:
    def filler(i: int) -> str:
        return " ".join(
            f"Residents of district {prefix}{i} discussed item {k}." for k in range(words)
        )

    return [
        {
            "id": f"{prefix}{i}",
            "title": f"Story {prefix}{i}",
            "text": f"Story {prefix}{i}\n\nThe council of town {prefix}{i} met on Monday. "
            f"Mayor Person{prefix}{i} said the budget of {i * 7} million was approved. {filler(i)}",
            "date": f"2024-01-{(i % 28) + 1:02d}",
        }
        for i in range(n)
    ]


def articles(recs: list[dict[str, str]]) -> list:
    return [article_from_record(r, "test") for r in recs]


def doomed() -> list[str]:
    """Ids of the three articles the delete tests remove."""
    return [a.article_id for a in articles(records(3, "a"))]


def open_index(path: Path) -> Index:
    return Index.open(path, HashingEncoder(dimension=DIM), CHUNKING)


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (but the lock) with the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def gen_file_sizes(root: Path) -> dict[str, int]:
    manifest = json.loads((root / MANIFEST).read_text())
    (segment,) = segments_of(manifest)  # a small index is one segment
    return {role: entry["bytes"] for role, entry in segment["files"].items()}


def run_child(script: str, *args: str, prefix: tuple[str, ...] = ()) -> dict:
    proc = subprocess.run(
        [*prefix, sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


FULL_SCRIPT = r"""
import json, resource, signal, sys
sys.path.insert(0, sys.argv[1])
from fakes import HashingEncoder
from fakes import add_articles as add
from qa.index import Index
from qa.index.format import IndexWriteError
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.settings import Settings

root, op, limit, payload = sys.argv[2], sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
index = Index.open(root, HashingEncoder(dimension=int(sys.argv[6])),
                   chunking_signature(Settings().chunking))
new = [article_from_record(r, "test") for r in payload] if op == "add" else []
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    add(index, new) if op == "add" else index.delete(payload)
    out = {"error": None}
except IndexWriteError as exc:
    out = {"error": "IndexWriteError", "message": str(exc), "reason": exc.reason,
           "unchanged": exc.unchanged}
except BaseException as exc:
    out = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """An index of 10 articles, and the file sizes that an add and a delete would write."""
    base = tmp_path_factory.mktemp("faults")
    root = base / "ix"
    add(open_index(root), articles(records(10, "a")))
    before = gen_file_sizes(root)
    grown = base / "grown"
    shutil.copytree(root, grown)
    add(open_index(grown), articles(records(12, "n", words=30)))
    shrunk = base / "shrunk"
    shutil.copytree(root, shrunk)
    assert open_index(shrunk).delete(doomed()) == doomed()
    return {
        "root": root,
        "before": before,
        "after_add": gen_file_sizes(grown),
        "after_delete": gen_file_sizes(shrunk),
    }


def limit_for(prepared: dict, op: str, stage: str) -> int:
    """A file size limit at which the write fails at ``stage``."""
    before, after = prepared["before"], prepared[f"after_{op}"]
    if stage == "copy":  # the copy of the previous store
        return before["store"] // 2
    if stage == "store":  # the SQLite transaction that adds the new articles
        assert after["store"] > before["store"] + 8192
        return before["store"] + 100
    assert stage == "vectors"  # the new FAISS file
    assert after["vectors"] > max(before["store"], after["store"]) + 8192
    return max(before["store"], after["store"]) + 4096


@pytest.mark.parametrize(
    ("op", "stage"),
    [("add", "copy"), ("add", "store"), ("add", "vectors"), ("delete", "copy"),
     ("delete", "vectors")],
)  # fmt: skip
def test_full_disk_is_a_clear_error_and_leaves_the_index(
    prepared: dict, tmp_path: Path, op: str, stage: str
) -> None:
    root = tmp_path / "ix"
    shutil.copytree(prepared["root"], root)
    before = snapshot(root)
    old_articles = open_index(root).state.articles
    payload = records(12, "n", words=30) if op == "add" else doomed()
    limit = limit_for(prepared, op, stage)
    out = run_child(
        FULL_SCRIPT, str(TESTS), str(root), op, str(limit), json.dumps(payload), str(DIM)
    )

    assert out["error"] == "IndexWriteError", out
    message = out["message"]
    assert str(root) in message
    assert "disk is full" in message and "file size limit" in message, message
    assert out["reason"] == "full" and out["unchanged"] is True
    # the half-written generation is gone, and nothing else changed
    assert snapshot(root) == before
    leftovers = [p.name for p in root.iterdir() if ".tmp-" in p.name]
    assert leftovers == []
    reopened = open_index(root)
    assert reopened.state.articles == old_articles
    assert len(reopened.state.vectors) == len(reopened.state.chunks)
    # with room again, the same write succeeds
    if op == "add":
        assert len(add(reopened, articles(payload)).added) == len(payload)
    else:
        assert reopened.delete(payload) == payload
    assert len([p for p in root.iterdir() if p.name.startswith("seg-")]) == 1


def test_disk_full_at_the_manifest_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC while writing manifest.json: clear error, the renamed generation removed."""
    root = tmp_path / "ix"
    index = open_index(root)
    add(index, articles(records(3, "a")))
    before = snapshot(root)

    def full(path: object, text: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr("qa.index.directory.atomic_write_text", full)
    with pytest.raises(IndexWriteError, match="disk is full") as caught:
        add(index, articles(records(2, "b")))
    assert str(root) in str(caught.value) and caught.value.unchanged
    monkeypatch.undo()
    assert snapshot(root) == before
    assert sorted(p.name for p in root.iterdir()) == [".lock", MANIFEST, "seg-000001"]
    assert len(add(open_index(root), articles(records(2, "b"))).added) == 2


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (OSError(errno.EDQUOT, os.strerror(errno.EDQUOT)), "full"),
        (OSError(errno.EROFS, os.strerror(errno.EROFS)), "read-only"),
        (PermissionError(errno.EACCES, os.strerror(errno.EACCES)), "read-only"),
        (RuntimeError("Error: 'ret == (n)' failed: write error in x: 1 != 2 (No space left on device)"), "full"),  # noqa: E501
        (RuntimeError("Error: 'f' failed: could not open x for writing: Permission denied"), "read-only"),  # noqa: E501
        (OSError(errno.ENOENT, "No such file or directory"), None),
        (ValueError("not a disk problem"), None),
        (RuntimeError("faiss: some other failure"), None),
    ],
)  # fmt: skip
def test_write_error_classifies(tmp_path: Path, exc: BaseException, reason: str | None) -> None:
    error = write_error(tmp_path, exc)
    if reason is None:
        assert error is None
    else:
        assert error is not None and error.reason == reason and str(tmp_path) in str(error)


def test_sqlite_full_is_classified(tmp_path: Path) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("PRAGMA max_page_count = 2")
    conn.execute("CREATE TABLE t (x)")
    with pytest.raises(sqlite3.OperationalError) as caught:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 4000,)] * 10)
    error = write_error(tmp_path, caught.value)
    assert error is not None and error.reason == "full" and "disk is full" in str(error)


READ_ONLY_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
from fakes import HashingEncoder
from qa import Assistant
from qa.index.format import IndexWriteError
from qa.settings import Settings
from qa.types import Span

root = sys.argv[2]
if os.access(root, os.W_OK):
    print(json.dumps({"skip": "the index directory is still writable"}))
    raise SystemExit


class MayorReader:
    name = "mayor-reader"

    def calibrator_file(self):
        return None

    def extract(self, question, hits):
        spans = []
        for hit in hits:
            at = hit.chunk.text.find("Mayor ")
            if at >= 0:
                start = hit.chunk.start + at + 6
                end = hit.article.text.index(" ", start)
                spans.append(Span(hit.article.text[start:end], start, end, 0.9, hit))
        return spans


assistant = Assistant.open(root, encoder=HashingEncoder(dimension=int(sys.argv[3])),
                           extractor=MayorReader(), settings=Settings().replace(min_score=0.0),
                           create=False)
out = {"articles": len(assistant.articles())}
out["answer"] = assistant.ask("Who is the mayor of town a3?").text
for op in ("add", "delete"):
    try:
        if op == "add":
            assistant.add_records([{"id": "new", "text": "A new story about the harbour."}])
        else:
            assistant.delete(sys.argv[4])
        out[op] = {"error": None}
    except IndexWriteError as exc:
        out[op] = {"error": "IndexWriteError", "message": str(exc), "reason": exc.reason}
    except BaseException as exc:
        out[op] = {"error": type(exc).__name__, "message": str(exc)}
print(json.dumps(out))
"""


def _chmod_tree(root: Path, dirs: int, files: int) -> None:
    for path in [*root.rglob("*"), root]:
        path.chmod(dirs if path.is_dir() else files)


def test_read_only_index_reads_and_refuses_writes(prepared: dict, tmp_path: Path) -> None:
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        # root ignores permission bits through CAP_DAC_OVERRIDE: drop it for the child
        prefix = (str(SETPRIV), "--bounding-set=-dac_override,-dac_read_search")
        if SETPRIV is None or subprocess.run([*prefix, "true"], check=False).returncode:
            pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE (setpriv)")
    root = tmp_path / "ix"
    shutil.copytree(prepared["root"], root)
    before = snapshot(root)
    old_articles = open_index(root).state.articles
    _chmod_tree(root, 0o555, 0o444)
    try:
        out = run_child(
            READ_ONLY_SCRIPT, str(TESTS), str(root), str(DIM), doomed()[0], prefix=prefix
        )
    finally:
        _chmod_tree(root, 0o755, 0o644)
    if "skip" in out:
        pytest.skip(out["skip"])
    assert out["articles"] == 10
    assert out["answer"] == "Persona3"
    for op in ("add", "delete"):
        result = out[op]
        assert result["error"] == "IndexWriteError", result
        assert result["reason"] == "read-only"
        assert str(root) in result["message"]
        assert "read-only" in result["message"] and "permission" in result["message"]
    assert snapshot(root) == before
    assert open_index(root).state.articles == old_articles
