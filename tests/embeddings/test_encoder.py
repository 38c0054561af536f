"""The real all-MiniLM-L6-v2 encoder (one small test; loads the model once per session)."""

from __future__ import annotations

import numpy as np

from embeddings.encoder import MODEL_NAME, SentenceEncoder


def test_constructor_is_lazy() -> None:
    encoder = SentenceEncoder()
    assert encoder._model is None  # nothing loaded until the first encode
    assert (encoder.name, encoder.dimension) == (MODEL_NAME, 384)
    assert encoder.encode([]).shape == (0, 384)
    assert encoder._model is None


def test_real_encoder_vectors(real_encoder) -> None:  # noqa: ANN001
    texts = [
        "The central bank raised interest rates to fight inflation.",
        "Interest rates were increased by the central bank to curb rising prices.",
        "The striker scored twice as the football team won the cup final.",
    ]
    vectors = real_encoder.encode(texts)
    assert vectors.shape == (3, real_encoder.dimension) == (3, 384)
    assert vectors.dtype == np.float32 and vectors.flags["C_CONTIGUOUS"]
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    again = real_encoder.encode(list(reversed(texts)), batch_size=2)[::-1]
    np.testing.assert_allclose(again, vectors, atol=1e-5)  # deterministic, batch-independent
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] + 0.2
    assert sims[0, 1] > sims[1, 2] + 0.2
