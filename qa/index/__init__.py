"""The on-disk index: format (manifest, checks), SQLite store, generations.

``Index`` opens a directory and commits new generations atomically;
``IndexState`` is one loaded generation (what readers search).
"""

from qa.index.directory import Index, IndexInfo
from qa.index.format import MANIFEST, IndexFormatError, IndexWriteError, package_version
from qa.index.state import IndexState

__all__ = [
    "MANIFEST",
    "Index",
    "IndexFormatError",
    "IndexInfo",
    "IndexState",
    "IndexWriteError",
    "package_version",
]
