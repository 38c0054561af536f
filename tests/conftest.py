from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

sys.path.insert(0, str(Path(__file__).parent))

from fakes import HashingEncoder  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
SAMPLE_ARTICLE = REPO / "qa" / "sample" / "000_6c212dc43d020d0e.txt"


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the sample-index cache inside the test session's temp dir."""
    os.environ["QA_CACHE_DIR"] = str(tmp_path_factory.mktemp("qa-cache"))


@pytest.fixture
def fake_encoder() -> HashingEncoder:
    return HashingEncoder()


@pytest.fixture(scope="session")
def real_encoder():
    """The real all-MiniLM-L6-v2 encoder, loaded once per test session."""
    from embeddings.encoder import SentenceEncoder

    encoder = SentenceEncoder()
    encoder.encode(["warm up"])
    return encoder


@pytest.fixture(scope="session")
def sample_assistant(real_encoder):
    """The bundled sample corpus with the real encoder (built once per session)."""
    from qa import Assistant

    return Assistant.open(encoder=real_encoder)


def shared_data(*parts: str) -> Path:
    """Path under ../shared/data, skipping the test when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} not available")
    return path
