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
from testdata import SAMPLE_ARTICLE, SHARED_DATA, shared_data  # noqa: E402,F401


@pytest.fixture(autouse=True, scope="session")
def _cache_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep the sample-index cache inside the test session's temp dir."""
    os.environ["QA_CACHE_DIR"] = str(tmp_path_factory.mktemp("qa-cache"))


@pytest.fixture(autouse=True, scope="session")
def _runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A private socket folder: a developer's running `qa serve` never answers a test."""
    path = tmp_path_factory.mktemp("qa-run")
    path.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(path)


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
