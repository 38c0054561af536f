"""The chat's concurrency: uploads run as background jobs, one at a time, in a bounded queue.

Questions take no lock here (nor any lock an upload holds): the index swaps in each new
generation whole, so a question reads the old or the new one. Uploads are
:class:`UploadJob` objects that a :class:`JobQueue` runs in one worker thread; a job
that finds ``limit`` others waiting is refused at once (:class:`QueueFull`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from qa.chat.render import FileResult

log = logging.getLogger(__name__)

Step = Callable[[int, int, str], None]


class QueueFull(Exception):
    """No room for another waiting job."""


@dataclass
class UploadJob:
    """One upload, run in the background: its files, status and per-file results.

    ``status`` goes ``queued`` -> ``running`` -> ``done``, or ``failed`` with a one-line
    ``error``. ``names`` are the file names shown (sanitised); ``passages`` counts the
    passages embedded so far; ``step(i, n, name)`` is called as files start.
    """

    job_id: str
    paths: tuple[Path, ...] = field(repr=False)
    names: tuple[str, ...]
    status: str = "queued"
    done: int = 0
    current: str = ""
    passages: int = 0
    results: list[FileResult] = field(default_factory=list)
    error: str | None = None
    started: float | None = None
    finished: float | None = None
    step: Step | None = field(default=None, repr=False)
    ended: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def total(self) -> int:
        """How many files the upload holds."""
        return len(self.paths)

    @property
    def seconds(self) -> float:
        """Seconds it has been running (its whole run once finished)."""
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def snapshot(self, ahead: int = 0) -> dict[str, Any]:
        """What the page polls: status, files done / total, current file, results when done."""
        finished = self.status in ("done", "failed")
        return {
            "job": self.job_id,
            "status": self.status,
            "ahead": ahead,
            "done": self.done,
            "total": self.total,
            "current": self.current,
            "passages": self.passages,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            "results": [_row(r) for r in self.results] if finished else [],
        }


def _row(result: FileResult) -> dict[str, Any]:
    """One file's result as JSON-friendly values."""
    return asdict(result) | {"rejected": list(result.rejected), "status": result.status}


class JobQueue:
    """Runs upload jobs one at a time in one worker thread; at most ``limit`` wait.

    ``run(job)`` does the work; it sets ``job.error`` to fail the job (an exception
    it raises fails the job too, and the worker goes on). The last ``keep``
    finished jobs stay available for polling.
    """

    def __init__(self, run: Callable[[UploadJob], None], limit: int, keep: int = 100) -> None:
        self._run = run
        self.limit = limit
        self.keep = keep
        self._jobs: OrderedDict[str, UploadJob] = OrderedDict()
        self._pending: deque[UploadJob] = deque()
        self._running: UploadJob | None = None
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None

    def submit(self, job: UploadJob) -> None:
        """Queue ``job`` (the worker starts on first use).

        Raises:
            QueueFull: If ``limit`` jobs are already waiting.
        """
        with self._cond:
            if len(self._pending) >= self.limit:
                raise QueueFull(len(self._pending))
            self._pending.append(job)
            self._jobs[job.job_id] = job
            ended = [k for k, j in self._jobs.items() if j.ended.is_set()]
            for key in ended[: max(0, len(self._jobs) - self.keep)]:
                del self._jobs[key]
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._work, name="chat-uploads", daemon=True)
                self._worker.start()
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        """How many jobs wait behind the running one."""
        with self._cond:
            return len(self._pending)

    def get(self, job_id: str | None) -> UploadJob | None:
        """The job with this id (``None`` if unknown or forgotten)."""
        with self._cond:
            return self._jobs.get(job_id or "")

    def snapshot(self, job_id: str | None) -> dict[str, Any] | None:
        """The job's :meth:`UploadJob.snapshot`, with how many jobs run or wait before it."""
        with self._cond:
            job = self._jobs.get(job_id or "")
            if job is None:
                return None
            ahead = 0
            if job.status == "queued":
                ahead = self._pending.index(job) + (self._running is not None)
            return job.snapshot(ahead)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                job = self._running = self._pending.popleft()
                job.status, job.started = "running", time.monotonic()
            try:
                self._run(job)
            except Exception as exc:  # a bug in one job must not stop the worker
                log.exception("upload job %s failed", job.job_id)
                job.error = job.error or (str(exc).strip().splitlines() or [repr(exc)])[0]
            with self._cond:
                job.status = "failed" if job.error else "done"
                job.finished, job.current = time.monotonic(), ""
                self._running = None
            if job.step is not None:
                try:
                    job.step(job.total, job.total, "done")
                except Exception:
                    log.exception("upload progress callback failed")
            job.ended.set()
