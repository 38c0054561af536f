"""What an index holds, for ``qa info`` and the UI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from embeddings.encoder import Encoder
from qa.index.format import FORMAT_VERSION
from qa.index.state import IndexState


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds, for ``qa info`` and the UI.

    ``undated`` counts the articles whose date is unknown (``Article.date is None``);
    ``segments`` is how many segments the generation has, ``vectors`` the kind of its
    vector index (``flat``, ``ivf`` or ``segmented``).
    """

    path: str
    articles: int
    chunks: int
    oldest_date: str | None
    newest_date: str | None
    undated: int
    model: str
    dimension: int
    format_version: int
    generation: int
    chunking: dict[str, int]
    segments: int = 1
    vectors: str = "flat"


def describe_index(
    path: Path, state: IndexState, encoder: Encoder, chunking: dict[str, int]
) -> IndexInfo:
    """The :class:`IndexInfo` of ``state``, the generation loaded from ``path``."""
    oldest, newest, undated = state.dates()
    return IndexInfo(
        path=str(path),
        articles=len(state.articles),
        chunks=len(state.chunks),
        oldest_date=oldest,
        newest_date=newest,
        undated=undated,
        model=encoder.name,
        dimension=encoder.dimension,
        format_version=FORMAT_VERSION,
        generation=state.generation,
        chunking=dict(chunking),
        segments=state.segments,
        vectors=state.vectors.kind,
    )
