"""Provenance for summary.json: git state, index manifest, extractor, corpus hash."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from qa.eval.datasets import EvalSet, iter_records


def _git_state() -> dict[str, Any]:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--untracked-files=no"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
        )
        return {"commit": head, "dirty": dirty}
    except (OSError, subprocess.SubprocessError):
        return {}


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(obj).items()}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


def _index_manifest(assistant: Any, index_dir: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"path": str(index_dir)}
    try:
        out["info"] = _jsonable(assistant.info())
        manifest = getattr(assistant, "manifest", None)
        if manifest is not None:
            out["manifest"] = _jsonable(manifest)
    except Exception as exc:  # noqa: BLE001 - recorded, not fatal
        out["error"] = f"{type(exc).__name__}: {exc}"
    return out


def _extractor_info(assistant: Any) -> dict[str, Any]:
    """Record which extractor ran (and, for the neural reader, which artifact)."""
    try:
        ext = assistant.extractor
        info: dict[str, Any] = {"name": getattr(ext, "name", type(ext).__name__)}
        artifact = getattr(ext, "artifact_dir", None)
        if artifact is not None:
            info["artifact"] = str(artifact)
            info["manifest"] = _jsonable(getattr(ext, "manifest", None))
        return info
    except Exception as exc:  # noqa: BLE001 - recorded, not fatal
        return {"error": f"{type(exc).__name__}: {exc}"}


def _corpus_hash(eval_set: EvalSet) -> str:
    digest = hashlib.sha256()
    for rec in iter_records(eval_set):
        digest.update(json.dumps(rec, sort_keys=True).encode())
    return digest.hexdigest()
