"""Windows with stride map back to the right characters (fake model, real tokenizer)."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from qa.reader.model import load_tokenizer
from qa.reader.runtime import ReadConfig, ReaderRuntime


class PeakModel:
    """Puts the start logit on token ``start_id`` and the end logit on ``end_id``."""

    def __init__(self, start_id: int, end_id: int) -> None:
        self.start_id, self.end_id = start_id, end_id
        self.calls = 0
        self.batch_sizes: list[int] = []

    def __call__(self, input_ids, token_type_ids, attention_mask):  # noqa: ARG002
        self.calls += 1
        self.batch_sizes.append(int(input_ids.shape[0]))
        s = torch.where(input_ids == self.start_id, 5.0, -5.0).float()
        e = torch.where(input_ids == self.end_id, 5.0, -5.0).float()
        s[:, 0] = 0.0
        e[:, 0] = 0.0
        return SimpleNamespace(start_logits=s, end_logits=e)


@pytest.fixture(scope="module")
def tok():
    return load_tokenizer()


def _ids(tok, word):
    ids = tok(word, add_special_tokens=False)["input_ids"]
    return ids[0], ids[-1]


FILLER = " ".join(f"word{i} is here." for i in range(60))
PASSAGE = FILLER + " The envoy was Takehiro Funakoshi, officials said. " + FILLER


def test_stride_windows_map_to_passage_chars(tok):
    s_id, _ = _ids(tok, "takehiro")
    _, e_id = _ids(tok, "funakoshi")
    model = PeakModel(s_id, e_id)
    rt = ReaderRuntime(model, tok, ReadConfig(max_length=48, stride=16, batch_size=8))
    spans = rt.read(["Who was the envoy?"], [PASSAGE])[0]
    best = spans[0]
    assert PASSAGE[best.start : best.end] == "Takehiro Funakoshi"
    assert model.calls > 1  # many windows, several batches
    text, start, end, score = rt.read_passage("Who was the envoy?", PASSAGE)
    assert (text, PASSAGE[start:end]) == ("Takehiro Funakoshi", "Takehiro Funakoshi")
    assert 0.0 <= score <= 1.0


def test_duplicate_spans_from_overlapping_windows_merge(tok):
    s_id, _ = _ids(tok, "takehiro")
    _, e_id = _ids(tok, "funakoshi")
    rt = ReaderRuntime(PeakModel(s_id, e_id), tok, ReadConfig(max_length=48, stride=40))
    spans = rt.read(["q"], [PASSAGE], n_best=20)[0]
    keys = [(sp.start, sp.end) for sp in spans]
    assert len(keys) == len(set(keys))


def test_one_forward_pass_for_many_passages(tok):
    s_id, _ = _ids(tok, "takehiro")
    _, e_id = _ids(tok, "funakoshi")
    model = PeakModel(s_id, e_id)
    rt = ReaderRuntime(model, tok, ReadConfig(max_length=256, stride=128, batch_size=64))
    passages = ["Takehiro Funakoshi met them.", "Nobody here.", "They met Takehiro Funakoshi."]
    out = rt.read(["Who?"] * 3, passages)
    assert model.calls == 1 and model.batch_sizes == [3]
    assert passages[0][out[0][0].start : out[0][0].end] == "Takehiro Funakoshi"
    assert passages[2][out[2][0].start : out[2][0].end] == "Takehiro Funakoshi"
    # scores are comparable across passages: the passage without the name scores lower
    assert out[0][0].margin > (out[1][0].margin if out[1] else -np.inf)
