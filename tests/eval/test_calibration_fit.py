"""Fitting the answer calibrator: out-of-fold quality, the recommended threshold, ablations."""

from __future__ import annotations

import random

from qa.answer.features import FEATURES
from qa.eval.calibration_fit import ABLATIONS, fit_calibrator


def synthetic_rows(n_questions: int = 300, seed: int = 0) -> list[dict]:
    """Reads whose right candidates have a higher margin and a better type fit."""
    rng = random.Random(seed)
    rows = []
    for q in range(n_questions):
        for setting in ("open", "closed-other"):
            for rank in range(3):
                right = setting == "open" and rank == 0 and rng.random() < 0.7
                feats = [rng.gauss(0, 1) for _ in FEATURES]
                feats[FEATURES.index("margin")] += 2.5 if right else 0.0
                feats[FEATURES.index("type_fit")] = 1.0 if right or rng.random() < 0.3 else 0.0
                rows.append(
                    {
                        "qid": f"q{q}",
                        "setting": setting,
                        "rank": rank,
                        "label": int(right),
                        "raw": rng.random(),
                        "features": feats,
                    }
                )
    return rows


def test_fit_is_calibrated_out_of_fold_and_beats_the_raw_score() -> None:
    calibrator, report = fit_calibrator(synthetic_rows(), reader_sha256="sha", risk=0.2)
    cal, raw = report["calibrated_out_of_fold"], report["uncalibrated_raw_score"]
    assert cal["reads"] == raw["reads"] == 600
    assert cal["ece"] < 0.08 and cal["aurc"] < raw["aurc"]
    assert cal["risk_at_threshold"] is None or cal["risk_at_threshold"] <= 0.2
    assert set(report["ablations_out_of_fold"]) == set(ABLATIONS)
    # dropping the type fit, which carries signal here, makes ranking worse
    assert report["ablations_out_of_fold"]["without type fit"]["aurc"] >= cal["aurc"] - 1e-9
    assert calibrator.reader_sha256 == "sha" and calibrator.features == FEATURES
    # the boosted alternative sees the same signal (it ranks far better than the raw score)
    boosted = report["gradient_boosting_out_of_fold"]
    assert set(boosted) == {"ece", "aurc", "risk_at_50_coverage", "accuracy", "aurc_by_setting"}
    assert set(boosted["aurc_by_setting"]) == {"open", "closed-other"}
    assert boosted["aurc"] < raw["aurc"]
    weights = report["weights"]
    assert weights["margin"] > 0 and weights["type_fit"] > 0
    assert set(report["by_setting"]) == {"open", "closed-other"}
