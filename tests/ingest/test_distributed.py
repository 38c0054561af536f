"""`qa ingest --ray`: the Ray pipeline gives what a local ingest gives.

One local Ray cluster (127.0.0.1, 2 CPUs) serves the whole module; the pipeline
under test finds it already connected and uses it as it is.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from fakes import HashingEncoder, local_ray_cluster
from testdata import SAMPLE_ARTICLE

from qa import Assistant
from qa.index import Index
from qa.ingest.chunking import chunking_signature
from qa.ingest.distributed import ray_pipeline
from qa.ingest.pipeline import IngestPipeline
from qa.settings import Settings

if importlib.util.find_spec("ray") is None:
    pytest.skip("ray is not installed (pip install 'newsqa[ray]')", allow_module_level=True)

# the heuristic extractor needs no reader model; the limit refuses the "huge" record
SETTINGS = Settings().replace(extractor="heuristic", max_chunks_per_article=12)
QUESTIONS = [
    "Who is Japan's counterpart in the dialogue?",
    "Who is Japan's prime minister?",
    "How much would the new bridge cost?",
    "What did the mayor of Seoul open?",
    "Who won the 2022 FIFA World Cup?",
]


def long_text(tag: str, sentences: int) -> str:
    return " ".join(
        f"In {tag} report number {i} the regional council of district {i} said that "
        f"the new bridge across the river would cost about {i * 3} million won."
        for i in range(sentences)
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """A local Ray cluster on the loopback address; test modules are importable in workers."""
    yield from local_ray_cluster()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    shutil.copy(SAMPLE_ARTICLE, folder / "sample.txt")
    records = [
        {"id": "seoul", "title": "Library", "text": "The mayor of Seoul opened a new library."},
        {"id": "bridge", "title": "Bridge", "text": long_text("alpha", 40), "date": "2025-03-01"},
        {"id": "copy", "title": "Library", "text": "The mayor of Seoul opened a new library."},
        {"id": "huge", "title": "Huge", "text": long_text("beta", 400)},
    ]
    lines = [json.dumps(r) for r in records]
    (folder / "news.jsonl").write_text("\n".join([*lines[:2], "{bad json", *lines[2:]]) + "\n")
    (folder / "empty.txt").write_text("")
    (folder / "blob.bin").write_bytes(b"\x00\x01")
    return folder


class Recorder:
    """Wraps ``Index.commit`` to keep what each commit was handed."""

    def __init__(self, index: Index) -> None:
        self.commits: list[dict[str, Any]] = []
        self._commit = index.commit
        index.commit = self  # type: ignore[method-assign]

    def __call__(self, **kwargs: Any) -> Any:
        self.commits.append(kwargs)
        return self._commit(**kwargs)


def open_index(path: Path) -> tuple[Index, Recorder]:
    index = Index.open(path, HashingEncoder(), chunking_signature(SETTINGS.chunking))
    return index, Recorder(index)


@pytest.fixture(scope="module")
def both(cluster: Any, corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The corpus ingested once locally and once with Ray, into two index directories."""
    root = tmp_path_factory.mktemp("indexes")
    local, local_rec = open_index(root / "local")
    report_local = IngestPipeline(local, local.encoder, SETTINGS).add_paths([corpus])
    remote, remote_rec = open_index(root / "ray")
    with ray_pipeline(remote, remote.encoder, SETTINGS) as pipeline:
        report_ray = pipeline.add_paths([corpus])
    return {
        "local": (local, local_rec, report_local),
        "ray": (remote, remote_rec, report_ray),
        "root": root,
    }


def test_ray_ingest_matches_local_ingest(both: dict[str, Any]) -> None:
    local, local_rec, report_local = both["local"]
    remote, remote_rec, report_ray = both["ray"]
    assert report_ray == report_local
    assert len(report_ray.added) == 4 and len(report_ray.rejected) == 4
    (want,), (got,) = local_rec.commits, remote_rec.commits
    assert [a.article_id for a in got["fresh"]] == [a.article_id for a in want["fresh"]]
    assert got["fresh"] == want["fresh"]
    assert got["chunks"] == want["chunks"]  # ids, ordinals, offsets, text
    assert np.allclose(got["vectors"], want["vectors"], atol=1e-6)
    assert got["vectors"].dtype == np.float32
    state = remote.state
    assert sorted(state.chunks) == sorted(local.state.chunks)
    for chunk in state.chunks.values():
        assert state.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text


def test_bad_input_becomes_rejections_naming_the_file(both: dict[str, Any]) -> None:
    report = both["ray"][2]
    reasons = {r.origin.split("/")[-1]: r.reason for r in report.rejected}
    assert set(reasons) == {"blob.bin", "empty.txt", "news.jsonl:3", "news.jsonl:5"}
    assert "unsupported" in reasons["blob.bin"]
    assert "malformed JSON" in reasons["news.jsonl:3"]
    assert "the limit is 12 per article" in reasons["news.jsonl:5"]


def test_same_answers_to_fixed_questions(both: dict[str, Any]) -> None:
    def answers(name: str) -> list[tuple[Any, ...]]:
        assistant = Assistant.open(
            both["root"] / name, encoder=HashingEncoder(), settings=SETTINGS, create=False
        )
        return [
            (a.text, round(a.score, 6), [(c.article_id, c.start, c.end) for c in a.citations])
            for a in assistant.ask_batch(QUESTIONS)
        ]

    local = answers("local")
    assert any(text for text, _, _ in local)
    assert answers("ray") == local


def test_reingest_changes_nothing_and_update_embeds_only_the_change(
    both: dict[str, Any], corpus: Path
) -> None:
    remote, recorder, _ = both["ray"]
    generation = remote.manifest["generation"]
    embedded: list[int] = []
    with ray_pipeline(remote, remote.encoder, SETTINGS) as pipeline:
        again = pipeline.add_paths([corpus], progress=embedded.append)
        assert not again.added and not again.updated and len(again.unchanged) == 4
        assert remote.manifest["generation"] == generation and not embedded

        # the same file path, so the same article id: an update, here and locally
        text = SAMPLE_ARTICLE.read_text()
        (corpus / "sample.txt").write_text(text.replace("Funakoshi", "Funakoshi Jr."))
        try:
            updated = pipeline.add_paths([corpus / "sample.txt"], progress=embedded.append)
            local, local_rec, _ = both["local"]
            IngestPipeline(local, local.encoder, SETTINGS).add_paths([corpus / "sample.txt"])
        finally:
            (corpus / "sample.txt").write_text(text)
    assert len(updated.updated) == 1 and not updated.added
    target = updated.updated[0]
    commit, want = recorder.commits[-1], local_rec.commits[-1]
    assert [a.article_id for a in commit["fresh"]] == [target]
    assert commit["fresh"] == want["fresh"] and commit["chunks"] == want["chunks"]
    assert np.allclose(commit["vectors"], want["vectors"], atol=1e-6)
    assert sum(embedded) == len(commit["chunks"])  # only the changed article was embedded
    state = remote.state
    assert "Funakoshi Jr." in state.articles[target].text
    mine = sorted(c.chunk_id for c in state.chunks.values() if c.article_id == target)
    assert mine == sorted(c.chunk_id for c in commit["chunks"])
    for chunk in state.chunks.values():
        assert state.articles[chunk.article_id].text[chunk.start : chunk.end] == chunk.text


def test_cli_ingest_with_ray(
    cluster: Any, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`qa ingest PATHS --index DIR --ray` reports and stores what the local command does."""
    import qa.assistant

    monkeypatch.setattr(qa.assistant, "SentenceEncoder", HashingEncoder)
    runner = CliRunner()
    outputs, states = [], []
    for name, extra in (("local", []), ("ray", ["--ray"])):
        args = ["ingest", str(corpus), "--index", str(tmp_path / name), "--quiet", *extra]
        result = runner.invoke(main_cli(), args)
        assert result.exit_code == 0, result.output
        outputs.append(result.output.replace(str(tmp_path / name), "DIR"))
        index = Index.open(tmp_path / name, HashingEncoder(), chunking_signature(SETTINGS.chunking))
        states.append(index.state)
    assert outputs[1] == outputs[0]
    assert "added 5, updated 0, unchanged 0, rejected 3" in outputs[1]
    local, remote = states
    assert remote.articles == local.articles and remote.chunks == local.chunks

    bad = runner.invoke(main_cli(), ["ingest", "--ray", str(corpus), "--index", str(tmp_path)])
    assert bad.exit_code == 2 and "not a Ray address" in bad.output


@pytest.mark.slow
def test_cli_ingest_with_ray_real_encoder(cluster: Any, tmp_path: Path, real_encoder) -> None:
    """The real encoder built in a Ray actor: same chunks, close vectors, the same answer."""
    runner = CliRunner()
    args = [str(SAMPLE_ARTICLE), "--index", str(tmp_path / "ray"), "--quiet", "--ray"]
    result = runner.invoke(main_cli(), ["ingest", *args])
    assert result.exit_code == 0, result.output
    assert "added 1" in result.output

    local = Assistant.open(tmp_path / "local", encoder=real_encoder)
    local.add([SAMPLE_ARTICLE])
    remote = Assistant.open(tmp_path / "ray", encoder=real_encoder)
    want, got = local.manifest, remote.manifest
    assert got["counts"] == want["counts"] and got["model"] == want["model"]
    question = "Who is Japan's counterpart in the dialogue?"
    for q in (question, "When were the talks held?"):  # every chunk, by dense similarity
        want_hits, got_hits = (a.retrieve(q, k=100, mode="dense") for a in (local, remote))
        assert [h.chunk for h in got_hits] == [h.chunk for h in want_hits]
        assert np.allclose(
            [h.dense_score for h in got_hits], [h.dense_score for h in want_hits], atol=1e-5
        )
    assert remote.ask(question).text == local.ask(question).text == "Takehiro Funakoshi"


def test_ray_is_imported_only_for_ray() -> None:
    code = (
        "import sys, qa, qa.cli, qa.assistant, qa.ingest.distributed; print('ray' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_missing_ray_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import qa.assistant

    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets without the extra
    monkeypatch.setattr(qa.assistant, "SentenceEncoder", HashingEncoder)
    args = ["ingest", str(SAMPLE_ARTICLE), "--index", str(tmp_path / "ix"), "--quiet", "--ray"]
    result = CliRunner().invoke(main_cli(), args)
    assert result.exit_code == 1
    assert "--ray needs Ray" in result.output and "pip install 'newsqa[ray]'" in result.output


def main_cli() -> Any:
    from qa.cli import main

    return main
