"""Uploads are background jobs: questions never wait for them; queue, limits and progress."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from chatfakes import FakeAssistant

from qa.chat.backend import ChatBackend, UploadRefused, _safe_name
from qa.settings import Settings

QUICK_S = 1.0  # a question during an upload answers well within this


def story(folder: Path, name: str, text: str = "Harbour cranes were repaired at Busan.") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def gated(settings: Settings | None = None) -> tuple[FakeAssistant, threading.Event]:
    """A fake whose ``add`` blocks until the returned event is set."""
    fake = FakeAssistant(settings=settings)
    fake.gate = threading.Event()
    return fake, fake.gate


def wait_for(predicate, timeout: float = 10.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_question_does_not_wait_for_a_running_upload(tmp_path):
    fake, gate = gated()
    backend = ChatBackend(fake)
    job = backend.submit_upload([story(tmp_path, "harbour.txt")])
    assert fake.add_started.wait(10)  # the add is running, blocked on the gate
    started = time.perf_counter()
    session = backend.respond("Who won the marathon?")
    took = time.perf_counter() - started
    assert session.last["answer"] == "Kim Min-ji" and took < QUICK_S
    assert backend.progress(job.job_id)["status"] == "running"  # still uploading
    assert fake.overlap  # the question really ran while the add was in progress
    assert backend.info().articles == 3  # the old generation, until the add ends
    gate.set()
    assert job.ended.wait(10)
    assert job.status == "done" and backend.info().articles == 4


def test_progress_moves_queued_running_done(tmp_path):
    fake, gate = gated()
    backend = ChatBackend(fake)
    first = backend.submit_upload([story(tmp_path, "one.txt", "First story about ports.")])
    second = backend.submit_upload(
        [story(tmp_path, "two.txt", "Second story."), story(tmp_path, "three.md", "Third.")]
    )
    assert fake.add_started.wait(10)
    running = backend.progress(first.job_id)
    assert running["status"] == "running" and running["current"] == "one.txt"
    assert (running["done"], running["total"], running["results"]) == (0, 1, [])
    queued = backend.progress(second.job_id)
    assert queued["status"] == "queued" and queued["ahead"] == 1 and queued["total"] == 2
    gate.set()
    assert second.ended.wait(10)
    done = backend.progress(second.job_id)
    assert done["status"] == "done" and (done["done"], done["total"]) == (2, 2)
    assert [(r["name"], r["status"], r["added"]) for r in done["results"]] == [
        ("two.txt", "added", 1),
        ("three.md", "added", 1),
    ]
    assert done["passages"] == 2 and done["error"] is None and done["seconds"] >= 0
    assert backend.progress("no-such-job") is None


def test_full_queue_refuses_at_once(tmp_path):
    fake, gate = gated(Settings().replace(upload_queue=1))
    backend = ChatBackend(fake)
    running = backend.submit_upload([story(tmp_path, "a.txt", "Story A.")])
    assert fake.add_started.wait(10)
    waiting = backend.submit_upload([story(tmp_path, "b.txt", "Story B.")])
    started = time.perf_counter()
    with pytest.raises(UploadRefused) as refused:
        backend.submit_upload([story(tmp_path, "c.txt", "Story C.")])
    assert time.perf_counter() - started < QUICK_S
    assert str(refused.value) == (
        "The upload queue is full (1 uploads waiting); try again when one has finished."
    )
    gate.set()
    assert running.ended.wait(10) and waiting.ended.wait(10)
    assert backend.info().articles == 3 + 2  # the refused upload never reached the index
    again = backend.submit_upload([story(tmp_path, "c.txt", "Story C.")])
    assert again.ended.wait(10) and again.status == "done"


def test_failing_add_fails_the_job_and_the_server_goes_on(tmp_path):
    fake = FakeAssistant()
    backend = ChatBackend(fake)
    real_add = fake.add

    def boom(paths, progress=None):
        raise OSError(f"disk full while writing {paths[0]}\nTraceback ...")

    fake.add = boom
    files = [story(tmp_path, "a.txt", "Story A."), story(tmp_path, "b.txt", "Story B.")]
    job = backend.submit_upload(files)
    assert job.ended.wait(10)
    snap = backend.progress(job.job_id)
    assert snap["status"] == "failed"
    assert snap["error"] == "a.txt: disk full while writing a.txt"
    assert [r["rejected"] for r in snap["results"]] == [
        ["disk full while writing a.txt"],
        ["not added: the upload stopped at an error"],
    ]
    assert backend.respond("Who won the marathon?").last["answer"] == "Kim Min-ji"
    fake.add = real_add  # the worker survived: the next upload runs
    again = backend.submit_upload(files)
    assert again.ended.wait(10) and again.status == "done"
    assert [r.added for r in again.results] == [1, 1]


def test_too_many_files_are_refused_whole(tmp_path):
    fake = FakeAssistant(settings=Settings().replace(max_upload_files=2))
    backend = ChatBackend(fake)
    files = [story(tmp_path, f"s{i}.txt", f"Story {i}.") for i in range(3)]
    with pytest.raises(UploadRefused, match=r"^Too many files: 3 in one upload; the limit is 2"):
        backend.submit_upload(files)
    with pytest.raises(UploadRefused, match="limit is 2 files"):
        backend.upload(files)
    assert backend.info().articles == 3
    assert backend.upload(files[:2])[1].status == "added"


def test_too_many_bytes_are_refused_whole(tmp_path):
    fake = FakeAssistant(settings=Settings().replace(max_upload_bytes=100))
    backend = ChatBackend(fake)
    files = [story(tmp_path, f"s{i}.txt", "word " * 8) for i in range(3)]  # 40 bytes each
    with pytest.raises(UploadRefused) as refused:
        backend.submit_upload(files)
    assert str(refused.value) == (
        "Upload too large: 120 bytes in all; the limit is 100 bytes per upload."
    )
    assert backend.info().articles == 3 and not fake.add_started.is_set()
    with pytest.raises(UploadRefused, match="No files"):
        backend.submit_upload([])


def test_question_length_limit_comes_from_settings():
    fake = FakeAssistant(settings=Settings().replace(max_question_chars=20))
    backend = ChatBackend(fake)
    session = backend.respond("Who won the Seoul marathon on Sunday?")
    assert fake.calls == []
    assert "is 37 characters long; the limit is 20" in session.messages[-1]["content"]
    assert backend.respond("Who won the marathon").last["answer"] == "Kim Min-ji"


def test_file_names_are_sanitised(tmp_path):
    odd = story(tmp_path, "re\x1b[31mport\u202e\tdraft.txt", "A story about the port.")
    results = ChatBackend(FakeAssistant()).upload([odd])
    assert [r.name for r in results] == ["re [31mport draft.txt"]
    assert _safe_name("C:\\Users\\ada\\secret\\notes.md") == "notes.md"
    assert _safe_name("/srv/uploads/tmp123/story.json:3") == "story.json:3"
    assert _safe_name("\x00\x07") == "(unnamed file)"
    assert _safe_name("x" * 300 + ".txt").endswith("…") and len(_safe_name("x" * 300)) == 120


def test_models_load_before_the_first_add(tmp_path):
    order: list[str] = []

    class Lazy(FakeAssistant):
        @property
        def extractor(self):
            order.append("extractor")
            return object()

        @property
        def calibrator(self):
            order.append("calibrator")
            return None

        def add(self, paths, progress=None):
            order.append("add")
            return super().add(paths, progress)

    backend = ChatBackend(Lazy())
    backend.upload([story(tmp_path, "a.txt", "Story A.")])
    backend.upload([story(tmp_path, "b.txt", "Story B.")])
    assert order == ["extractor", "calibrator", "add", "add"]
