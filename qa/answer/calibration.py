"""The answer calibrator: candidate features -> probability that the answer is right.

A logistic model over standardised :data:`~qa.answer.features.FEATURES`, fitted by
``python -m qa.eval.calibrate`` on held-out *training* questions (never on an
evaluation set) and shipped as JSON next to the reader it was fitted for
(``qa/reader_artifacts/<version>/calibrator.json``). Applying it is a dot product:
no scikit-learn at run time, no pickles.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa.answer.features import FEATURES
from qa.common.files import atomic_write_text

FORMAT = "newsqa-calibrator"
FORMAT_VERSION = 1
FILENAME = "calibrator.json"


class CalibratorError(RuntimeError):
    """The calibrator file is missing, damaged, or fitted for another reader."""


@dataclass(frozen=True)
class Calibrator:
    """A fitted logistic calibrator.

    Attributes:
        features: Feature names, in the order of the weights (must equal ``FEATURES``).
        mean: Per-feature mean used to standardise.
        scale: Per-feature scale used to standardise.
        coef: Logistic weights.
        intercept: Logistic intercept.
        reader_sha256: sha256 of the reader weights it was fitted with.
        provenance: How it was fitted (command, data, scores), recorded in the file.
    """

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    reader_sha256: str = ""
    provenance: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n = len(self.features)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == n):
            raise CalibratorError("calibrator arrays differ in length")

    def probability(self, values: Sequence[float]) -> float:
        """The probability that a candidate with these feature ``values`` is right."""
        z = self.intercept
        for x, m, s, w in zip(values, self.mean, self.scale, self.coef, strict=True):
            z += w * (x - m) / s
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        ez = math.exp(z)
        return ez / (1.0 + ez)

    def save(self, path: str | Path) -> Path:
        """Write the calibrator as JSON (atomically)."""
        data = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "features": list(self.features),
            "mean": list(self.mean),
            "scale": list(self.scale),
            "coef": list(self.coef),
            "intercept": self.intercept,
            "reader_sha256": self.reader_sha256,
            "provenance": dict(self.provenance),
        }
        return atomic_write_text(path, json.dumps(data, indent=2) + "\n")

    @classmethod
    def load(cls, path: str | Path, *, reader_sha256: str | None = None) -> Calibrator:
        """Read a calibrator written by :meth:`save`.

        Args:
            path: The JSON file.
            reader_sha256: When given, the reader weights' sha256 the calibrator must
                have been fitted with.

        Raises:
            CalibratorError: If the file is unreadable, of another format or feature
                set, or fitted for other reader weights.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CalibratorError(f"{path}: unreadable calibrator ({exc})") from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise CalibratorError(f"{path}: not a {FORMAT} file")
        if data.get("format_version") != FORMAT_VERSION:
            raise CalibratorError(
                f"{path}: calibrator format {data.get('format_version')}, "
                f"this version reads {FORMAT_VERSION}"
            )
        if tuple(data.get("features", ())) != FEATURES:
            raise CalibratorError(
                f"{path}: fitted on other features than this version computes; refit it "
                "with python -m qa.eval.calibrate"
            )
        if reader_sha256 is not None and data.get("reader_sha256") != reader_sha256:
            raise CalibratorError(
                f"{path}: fitted for reader weights {data.get('reader_sha256')}, "
                f"but the reader loaded has {reader_sha256}; refit it"
            )
        try:
            return cls(
                features=tuple(data["features"]),
                mean=tuple(float(x) for x in data["mean"]),
                scale=tuple(float(x) for x in data["scale"]),
                coef=tuple(float(x) for x in data["coef"]),
                intercept=float(data["intercept"]),
                reader_sha256=str(data.get("reader_sha256", "")),
                provenance=dict(data.get("provenance", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise CalibratorError(f"{path}: damaged calibrator ({exc!r})") from exc
