"""Retrieval: find the passages most likely to hold the answer.

:class:`~qa.retrieve.base.Retriever` is the seam; :class:`~qa.retrieve.hybrid.HybridRetriever`
(FAISS + BM25, fused by reciprocal rank) is what the product uses, and
:class:`~qa.retrieve.exact.ExactRetriever` (brute-force numpy) is the reference.
"""

from qa.retrieve.base import MODES, Retriever
from qa.retrieve.exact import ExactRetriever
from qa.retrieve.hybrid import HybridRetriever

__all__ = ["MODES", "ExactRetriever", "HybridRetriever", "Retriever"]
