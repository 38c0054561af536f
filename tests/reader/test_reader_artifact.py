"""Artifact round trip and the base-model hash check (tiny random base)."""

import json

import pytest
import torch

from qa.common.basemodel import base_model_sha256
from qa.reader.artifact import (
    ArtifactError,
    ArtifactMismatchError,
    find_artifact,
    load_artifact,
    save_artifact,
)
from qa.reader.model import WORD_EMBEDDINGS, build_model


def _trained_like(base):
    torch.manual_seed(3)
    model = build_model(base)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name != WORD_EMBEDDINGS:
                p.add_(0.01 * torch.randn_like(p))
    return model


def test_round_trip(tiny_base, tmp_path):
    model = _trained_like(tiny_base)
    out = save_artifact(model, tmp_path / "v1", {"reading": {"max_length": 64}}, base_dir=tiny_base)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["base_model"]["sha256"] == base_model_sha256(tiny_base)
    assert manifest["weights"]["dtype"] == "float16"
    assert manifest["reading"] == {"max_length": 64}
    from safetensors.torch import load_file

    shipped = load_file(str(out / "reader.safetensors"))
    assert WORD_EMBEDDINGS not in shipped  # only what differs from the base
    assert "qa_outputs.weight" in shipped

    loaded, tok, m2 = load_artifact(out, base_dir=tiny_base)
    assert not loaded.training
    ref = model.state_dict()
    for k, v in loaded.state_dict().items():
        tol = 0 if k == WORD_EMBEDDINGS else 2e-3
        assert torch.allclose(v, ref[k], atol=tol), k
    ids = tok("who?", "Takehiro Funakoshi came.", return_tensors="pt")
    model.eval()
    with torch.no_grad():
        a = model(**ids).start_logits
        b = loaded(**ids).start_logits
    assert torch.allclose(a, b, atol=1e-2)
    assert find_artifact(tmp_path) == out


def test_base_hash_mismatch_is_a_clear_error(tiny_base, other_tiny_base, tmp_path):
    out = save_artifact(_trained_like(tiny_base), tmp_path / "v1", {}, base_dir=tiny_base)
    with pytest.raises(ArtifactMismatchError, match="trained on base model .* sha256"):
        load_artifact(out, base_dir=other_tiny_base)


def test_tampered_weights_rejected(tiny_base, tmp_path):
    out = save_artifact(_trained_like(tiny_base), tmp_path / "v1", {}, base_dir=tiny_base)
    with open(out / "reader.safetensors", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ArtifactMismatchError, match="does not match"):
        load_artifact(out, base_dir=tiny_base)


def test_missing_artifact(tmp_path):
    with pytest.raises(ArtifactError, match="no reader artifact"):
        load_artifact(tmp_path)
    assert find_artifact(tmp_path) is None
    assert find_artifact(tmp_path / "absent") is None
