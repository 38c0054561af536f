"""The one settings object of the assistant."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """Tunable behaviour of ingest, retrieval and extraction.

    Attributes:
        top_k: How many retrieved chunks the extractor reads.
        dense_k: How many chunks the dense (FAISS) retriever returns.
        bm25_k: How many chunks BM25 returns.
        rrf_k: Reciprocal-rank-fusion constant.
        min_score: Answers scoring below this are reported as not found.
        chunk_max_tokens: Target chunk size in word-piece-like tokens
            (the encoder's window is 256; the title and date are prepended).
        chunk_overlap_tokens: Tokens of overlap between consecutive chunks
            (whole sentences, at most this many).
        max_file_bytes: Files larger than this are rejected at ingest.
        extractor: ``"auto"`` (neural reader when available, else
            heuristic), ``"neural"`` or ``"heuristic"``.
        encode_batch_size: Batch size for embedding chunks at ingest.
        max_answer_chars: Longest answer span, in characters.
        retrieval_weight: How much the retrieval score counts in an answer's score:
            each span's extractor score is multiplied by ``hit.score **
            retrieval_weight`` (``hit.score`` is the fused retrieval score in
            [0, 1]; 0 ignores retrieval). 1.0 was tuned on held-out training passages,
            never on the evaluation sets (docs/evaluation.md).

    """

    top_k: int = 5
    dense_k: int = 40
    bm25_k: int = 40
    rrf_k: int = 60
    min_score: float = 0.35
    chunk_max_tokens: int = 170
    chunk_overlap_tokens: int = 40
    max_file_bytes: int = 20_000_000
    extractor: str = "auto"
    encode_batch_size: int = 64
    max_answer_chars: int = 120
    retrieval_weight: float = 1.0

    def chunking(self) -> dict[str, int]:
        """The settings that decide chunk boundaries (recorded in the manifest)."""
        from qa.chunking import CHUNKER_VERSION

        return {
            "chunker_version": CHUNKER_VERSION,
            "chunk_max_tokens": self.chunk_max_tokens,
            "chunk_overlap_tokens": self.chunk_overlap_tokens,
        }
