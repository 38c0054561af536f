"""NeuralReader: article offsets, one batched pass, scores in [0, 1]."""

from types import SimpleNamespace

import pytest
import torch

from qa.extract.neural import NeuralReader
from qa.reader.artifact import ArtifactError
from qa.reader.model import load_tokenizer
from qa.reader.runtime import ReadConfig, ReaderRuntime
from qa.types import Article, Chunk, Hit


class PeakModel:
    def __init__(self, start_id: int, end_id: int) -> None:
        self.start_id, self.end_id = start_id, end_id
        self.calls = 0

    def __call__(self, input_ids, token_type_ids, attention_mask):  # noqa: ARG002
        self.calls += 1
        s = torch.where(input_ids == self.start_id, 6.0, -4.0).float()
        e = torch.where(input_ids == self.end_id, 6.0, -4.0).float()
        s[:, 0] = 1.0
        e[:, 0] = 1.0
        return SimpleNamespace(start_logits=s, end_logits=e)


@pytest.fixture(scope="module")
def reader():
    tok = load_tokenizer()
    s_id = tok("takehiro", add_special_tokens=False)["input_ids"][0]
    e_id = tok("funakoshi", add_special_tokens=False)["input_ids"][-1]
    rt = ReaderRuntime(
        PeakModel(s_id, e_id), tok, ReadConfig(max_length=64, stride=24), calibration=(0.5, -1.0)
    )
    return NeuralReader(runtime=rt)


def _hits():
    text = (
        "Tokyo, March 3. Japan named a new envoy on Monday. "
        "The envoy, Takehiro  Funakoshi, will travel to Seoul. "
        + "Filler words. " * 40
        + "Officials said Takehiro Funakoshi had long experience."
    )
    art = Article("a1", "Envoy named", text, "2022-03-03", "Kyodo")
    i = text.index("The envoy")
    j = text.index("Officials") - 30
    c1 = Chunk(1, "a1", 0, i, i + 60, text[i : i + 60])
    c2 = Chunk(2, "a1", 1, j, len(text), text[j:])
    other = Article("a2", "Weather", "Sunny skies over Osaka today.", "2022-03-04", "NHK")
    c3 = Chunk(3, "a2", 0, 0, len(other.text), other.text)
    return [Hit(c1, art, 0.9, 0), Hit(c2, art, 0.7, 1), Hit(c3, other, 0.2, 2)]


def test_extract_article_offsets_hold(reader):
    hits = _hits()
    spans = reader.extract("Who is the envoy?", hits)
    assert reader.name == "neural"
    assert spans
    for sp in spans:
        assert sp.hit.article.text[sp.start : sp.end] == sp.text
        assert 0.0 <= sp.score <= 1.0
    assert spans[0].text in ("Takehiro  Funakoshi", "Takehiro Funakoshi")
    assert {spans[0].hit.chunk.chunk_id, spans[1].hit.chunk.chunk_id} <= {1, 2}
    assert [s.score for s in spans] == sorted((s.score for s in spans), reverse=True)


def test_one_forward_pass_for_all_hits(reader):
    before = reader.runtime.model.calls
    reader.extract("Who is the envoy?", _hits())
    assert reader.runtime.model.calls - before == 1


def test_empty_inputs(reader):
    assert reader.extract("Who?", []) == []
    assert reader.extract("  ", _hits()) == []


def test_read_passage(reader):
    ctx = "Yesterday Takehiro Funakoshi arrived."
    text, start, end, score = reader.read_passage("Who arrived?", ctx)
    assert text == "Takehiro Funakoshi" == ctx[start:end]
    assert 0 < score < 1
    many = reader.read_passages(["Who arrived?", "Who?"], [ctx, "No names here."])
    assert many[0][0] == "Takehiro Funakoshi"


def test_missing_artifact_is_a_clear_error(tmp_path):
    r = NeuralReader(artifact=tmp_path / "nope")
    assert not NeuralReader.available(tmp_path / "nope")
    with pytest.raises(ArtifactError, match="no reader artifact"):
        r.extract("Who?", _hits())
