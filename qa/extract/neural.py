"""The neural reader: our own fine-tuned MiniLM span extractor (issue 5).

``NeuralReader().extract(question, hits)`` reads every retrieved chunk in one
batched forward pass (chunks longer than the window are split into strided
windows), decodes the n-best spans per window from the start/end logits and maps
them back to article offsets, so ``hit.article.text[span.start:span.end] == span.text``.

Span scores are ``sigmoid(a * margin + b)`` where ``margin`` is the span's
start+end logit minus the same window's no-answer ([CLS]) logit: not normalised per
chunk, so comparable across chunks and articles; ``a, b`` were fitted on a held-out
slice of the training data (own passage vs. another passage), so the score reads as
the probability that the span answers the question.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embeddings.encoder import Encoder
from qa.reader.artifact import CALIBRATOR_FILE, ArtifactError, find_artifact, read_manifest
from qa.reader.runtime import ReaderRuntime, load_runtime
from qa.settings import ReadingSettings
from qa.types import Hit, Span


class NeuralReader:
    """Extractor backed by the shipped reader artifact (loaded lazily on first use).

    Args:
        artifact: Artifact folder; default the newest under ``qa/reader_artifacts/``.
        max_answer_chars: Longest answer span in characters (``None``: no limit).
        n_best: Spans returned per chunk.
        batch_size: Windows per forward pass (all retrieved chunks fit in one by default).
        threads: torch intra-op threads (``None``: leave torch's setting).
        device: ``"cpu"`` or ``"cuda"``.
        base_dir: Base model folder (default: the installed all-MiniLM-L6-v2).
        runtime: An already loaded :class:`ReaderRuntime` (tests, sharing one model).
    """

    name = "neural"

    def __init__(
        self,
        artifact: str | Path | None = None,
        *,
        max_answer_chars: int | None = None,
        n_best: int = 3,
        batch_size: int = 64,
        threads: int | None = None,
        device: str = "cpu",
        base_dir: str | Path | None = None,
        runtime: ReaderRuntime | None = None,
    ) -> None:
        self._artifact = Path(artifact) if artifact is not None else None
        self.max_answer_chars = max_answer_chars
        self.n_best = n_best
        self.batch_size = batch_size
        self.threads = threads
        self.device = device
        self.base_dir = base_dir
        self._runtime: ReaderRuntime | None = runtime
        self._lock = threading.Lock()

    @classmethod
    def build(cls, encoder: Encoder, settings: ReadingSettings) -> NeuralReader:
        """The shipped reader, with the reading settings (registry entry point)."""
        return cls(settings.reader_artifact, max_answer_chars=settings.max_answer_chars)

    @staticmethod
    def available(artifact: str | Path | None = None) -> bool:
        """Whether an artifact is there to load (cheap: no model is loaded)."""
        if artifact is not None:
            return (Path(artifact) / "manifest.json").is_file()
        return find_artifact() is not None

    @property
    def artifact_dir(self) -> Path:
        """The artifact this reader uses."""
        if self._artifact is None:
            found = find_artifact()
            if found is None:
                raise ArtifactError(
                    "no reader artifact under qa/reader_artifacts/; train one with "
                    "`qa train-reader` or use the heuristic extractor"
                )
            self._artifact = found
        return self._artifact

    def calibrator_file(self) -> tuple[Path, str] | None:
        """The answer calibrator fitted for this reader's weights, if one is shipped."""
        path = self.artifact_dir / CALIBRATOR_FILE
        if not path.is_file():
            return None
        return path, str(read_manifest(self.artifact_dir).get("weights", {}).get("sha256", ""))

    @property
    def manifest(self) -> dict[str, Any]:
        """The loaded artifact's manifest (empty for an injected runtime without one)."""
        return self.runtime.manifest

    @property
    def runtime(self) -> ReaderRuntime:
        """The loaded model (base + artifact), loaded on first access."""
        if self._runtime is None:
            with self._lock:
                if self._runtime is None:
                    import torch

                    if self.threads:
                        torch.set_num_threads(self.threads)
                    self._runtime = load_runtime(
                        self.artifact_dir,
                        base_dir=self.base_dir,
                        device=self.device,
                        n_best=self.n_best,
                        batch_size=self.batch_size,
                        max_answer_chars=self.max_answer_chars,
                    )
        return self._runtime

    def extract(self, question: str, hits: Sequence[Hit]) -> list[Span]:
        """Answer candidates from all ``hits`` (one forward pass), best first."""
        hits = [h for h in hits if h.chunk.text.strip()]
        if not hits or not question.strip():
            return []
        rt = self.runtime
        per_chunk = rt.read([question] * len(hits), [h.chunk.text for h in hits])
        spans: list[Span] = []
        for hit, cands in zip(hits, per_chunk, strict=True):
            base = hit.chunk.start
            for c in cands:
                start, end = base + c.start, base + c.end
                text = hit.article.text[start:end]
                if not text.strip():
                    continue
                spans.append(Span(text, start, end, rt.score(c), hit, c.logit, c.null_logit))
        spans.sort(key=lambda s: (-s.score, s.hit.rank, s.start))
        return spans

    def read_passage(self, question: str, context: str) -> tuple[str, int, int, float]:
        """Closed setting: the best answer in one raw passage.

        Returns ``(text, start, end, score)`` with ``context[start:end] == text``;
        ``("", 0, 0, 0.0)`` if nothing decodes.
        """
        return self.runtime.read_passage(question, context)

    def read_passages(
        self, questions: Sequence[str], contexts: Sequence[str]
    ) -> list[tuple[str, int, int, float]]:
        """Batched :meth:`read_passage` for many (question, passage) pairs."""
        rt = self.runtime
        out = []
        for ctx, spans in zip(contexts, rt.read(questions, contexts, n_best=1), strict=True):
            if spans:
                sp = spans[0]
                out.append((ctx[sp.start : sp.end], sp.start, sp.end, rt.score(sp)))
            else:
                out.append(("", 0, 0, 0.0))
        return out
