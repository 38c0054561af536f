"""The index's errors that every module of it raises."""

from __future__ import annotations


class IndexFormatError(RuntimeError):
    """The index directory is not usable (mismatched, damaged or not an index)."""
