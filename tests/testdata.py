"""Paths to test data: the bundled sample and ../shared/data (skipping when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_ARTICLE = REPO / "qa" / "sample" / "000_6c212dc43d020d0e.txt"


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data, skipping the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path
