"""The calibrator: probabilities, save/load, clear errors, and its use in compose."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_compose import make_hit, span_of

from qa.answer.calibration import Calibrator, CalibratorError
from qa.answer.compose import compose
from qa.answer.features import FEATURES
from qa.settings import AnsweringSettings


def calibrator(weight_of: dict[str, float], intercept: float = 0.0, sha: str = "abc") -> Calibrator:
    n = len(FEATURES)
    return Calibrator(
        features=FEATURES,
        mean=(0.0,) * n,
        scale=(1.0,) * n,
        coef=tuple(weight_of.get(f, 0.0) for f in FEATURES),
        intercept=intercept,
        reader_sha256=sha,
        provenance={"command": "test"},
    )


def test_probability_is_the_logistic_of_the_weighted_features() -> None:
    cal = calibrator({"type_fit": 2.0}, intercept=-1.0)
    values = [0.0] * len(FEATURES)
    values[FEATURES.index("type_fit")] = 1.0
    assert cal.probability(values) == pytest.approx(1 / (1 + math.exp(-1.0)))
    values[FEATURES.index("type_fit")] = -400.0  # no overflow at the extremes
    assert 0.0 <= cal.probability(values) < 1e-100


def test_save_load_round_trip(tmp_path: Path) -> None:
    cal = calibrator({"margin": 0.5, "type_fit": 1.5}, intercept=0.25)
    path = cal.save(tmp_path / "calibrator.json")
    again = Calibrator.load(path, reader_sha256="abc")
    assert again == cal
    assert again.provenance == {"command": "test"}


def test_mismatched_or_damaged_files_are_clear_errors(tmp_path: Path) -> None:
    path = calibrator({}).save(tmp_path / "calibrator.json")
    with pytest.raises(CalibratorError, match="fitted for reader weights abc"):
        Calibrator.load(path, reader_sha256="other")
    data = json.loads(path.read_text())
    data["features"] = data["features"][:-1]
    path.write_text(json.dumps(data))
    with pytest.raises(CalibratorError, match="other features"):
        Calibrator.load(path)
    path.write_text("{not json")
    with pytest.raises(CalibratorError, match="unreadable"):
        Calibrator.load(path)
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(CalibratorError, match="not a newsqa-calibrator"):
        Calibrator.load(path)
    with pytest.raises(CalibratorError, match="unreadable"):
        Calibrator.load(tmp_path / "missing.json")


def test_compose_shows_the_calibrated_probability_and_picks_by_it() -> None:
    hit = make_hit("The talks were held in Seoul on Friday.")
    spans = [span_of(hit, "Friday", 0.9), span_of(hit, "Seoul", 0.3)]
    settings = AnsweringSettings(retrieval_weight=0.0, min_score=0.5, likely_score=0.8)
    # without a calibrator the higher raw score wins
    assert compose("Where were the talks held?", spans, [hit], "t", settings).text == "Friday"
    # a calibrator that trusts type fit picks the place, with its probability as the score
    cal = calibrator({"type_fit": 6.0}, intercept=-2.0)
    answer = compose("Where were the talks held?", spans, [hit], "t", settings, cal)
    assert answer.text == "Seoul"
    assert answer.score == pytest.approx(1 / (1 + math.exp(-4.0)))
    assert answer.likely  # 0.98 >= 0.8
    # below min_score: not found, related passages offered
    low = calibrator({}, intercept=-3.0)
    answer = compose("Where were the talks held?", spans, [hit], "t", settings, low)
    assert answer.text is None and answer.related and not answer.likely
