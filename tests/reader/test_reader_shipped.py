"""The shipped artifact loads against the installed base and reads a news sentence."""

import json

import pytest

from qa.common.basemodel import base_model_sha256
from qa.extract.neural import NeuralReader
from qa.reader.artifact import find_artifact, read_manifest

SHIPPED = find_artifact()
pytestmark = pytest.mark.skipif(SHIPPED is None, reason="no reader artifact shipped")


def test_manifest_is_complete_and_small():
    m = read_manifest(SHIPPED)
    assert m["base_model"]["sha256"] == base_model_sha256()
    assert m["training"]["data"]["sha256"] and m["training"]["steps"] > 0
    assert {"a", "b"} <= set(m["calibration"])
    assert "heldout" in m["scores"]
    assert (SHIPPED / "reader.safetensors").stat().st_size <= 25_000_000
    json.dumps(m)


def test_reads_the_sample_question():
    reader = NeuralReader(threads=1)
    ctx = (
        "Japan on Monday appointed Takehiro Funakoshi, director general of the Asian and "
        "Oceanian Affairs Bureau, as its new special envoy for North Korea, the foreign "
        "ministry said in Tokyo."
    )
    text, start, end, score = reader.read_passage(
        "Who did Japan appoint as special envoy for North Korea?", ctx
    )
    assert text == "Takehiro Funakoshi" == ctx[start:end]
    assert score > 0.5
    _, _, _, off_topic = reader.read_passage("Who won the 1998 World Cup final?", ctx)
    assert off_topic < score


def test_the_shipped_calibrator_was_fitted_for_the_shipped_weights():
    from qa.answer.calibration import Calibrator
    from qa.reader.artifact import CALIBRATOR_FILE

    path = SHIPPED / CALIBRATOR_FILE
    if not path.is_file():
        pytest.skip("no calibrator shipped with this reader")
    sha = read_manifest(SHIPPED)["weights"]["sha256"]
    calibrator = Calibrator.load(path, reader_sha256=sha)
    provenance = calibrator.provenance
    assert provenance["calibrated_out_of_fold"]["ece"] <= 0.05
    assert "heldout" in provenance and "command" in provenance
