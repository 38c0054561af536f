"""Training smoke run on a tiny fixture: checkpoints, exact resume, exported artifact."""

import json

import pytest
import torch
from click.testing import CliRunner

from qa.extract.neural import NeuralReader
from qa.reader.cli import train_reader_command
from qa.reader.config import TrainConfig
from qa.reader.data import bucketed_batches, featurize, load_squad
from qa.reader.model import load_tokenizer
from qa.reader.train import train


def _cfg(tiny_squad, base, out, **kw):
    base_kw = dict(
        train_path=str(tiny_squad),
        out_dir=str(out),
        batch_size=2,
        max_length=64,
        stride=16,
        lr=1e-3,
        warmup_steps=1,
        heldout_fraction=0.25,
        eval_every=0,
        save_every=1,
        threads=1,
        progress=False,
        base_dir=str(base),
        bf16=True,
    )
    base_kw.update(kw)
    return TrainConfig(**base_kw)


def _weights(out):
    from safetensors.torch import load_file

    return load_file(str(out / "final" / "reader.safetensors"))


def test_featurize_labels_point_at_answer(tiny_squad):
    tok = load_tokenizer()
    ex = load_squad(tiny_squad)
    feats = featurize(tok, ex, max_length=32, stride=8)
    assert len(feats) > len(ex)  # long passages split into windows
    hits = 0
    for i in range(len(feats)):
        s, e = feats.start_positions[i], feats.end_positions[i]
        if s == 0:
            continue
        hits += 1
        ctx = ex[feats.example_index[i]].context
        text = ctx[feats.offsets[i][s][0] : feats.offsets[i][e][1]]
        assert text == ex[feats.example_index[i]].answers[0][0]
    assert hits >= len(ex)


def test_bucketed_batches_deterministic_and_complete():
    lengths = [(i * 7) % 50 for i in range(103)]
    a = bucketed_batches(lengths, 4, seed=1, epoch=0, bucket_batches=3)
    assert a == bucketed_batches(lengths, 4, seed=1, epoch=0, bucket_batches=3)
    assert a != bucketed_batches(lengths, 4, seed=1, epoch=1, bucket_batches=3)
    assert sorted(i for b in a for i in b) == list(range(103))


def test_train_resume_matches_uninterrupted(tiny_squad, tiny_base, tmp_path):
    straight = train(_cfg(tiny_squad, tiny_base, tmp_path / "a", max_steps=3))
    assert straight["step"] == 3 and "final" in straight
    first = train(_cfg(tiny_squad, tiny_base, tmp_path / "b", max_steps=2))
    assert first["step"] == 2
    ckpts = sorted((tmp_path / "b" / "checkpoints").glob("step-*.pt"))
    assert ckpts[-1].name == "step-0000002.pt"
    resumed = train(_cfg(tiny_squad, tiny_base, tmp_path / "b", max_steps=3))
    assert resumed["step"] == 3
    wa, wb = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.allclose(wa[k].float(), wb[k].float(), atol=1e-3), k

    manifest = json.loads((tmp_path / "b" / "final" / "manifest.json").read_text())
    assert manifest["training"]["steps"] == 3
    assert manifest["training"]["data"]["sha256"]
    assert set(manifest["calibration"]) >= {"a", "b"}
    assert "heldout" in manifest["scores"]

    reader = NeuralReader(artifact=tmp_path / "b" / "final", base_dir=tiny_base)
    ctx = "The Eiffel Tower in Paris was completed in 1889."
    text, start, end, score = reader.read_passage("When was it completed?", ctx)
    assert ctx[start:end] == text and 0.0 <= score <= 1.0


def test_cli_runs_and_refuses_mismatched_resume(tiny_squad, tiny_base, tmp_path):
    args = [
        "--train",
        str(tiny_squad),
        "--out",
        str(tmp_path / "c"),
        "--max-steps",
        "1",
        "--batch-size",
        "2",
        "--max-length",
        "64",
        "--stride",
        "16",
        "--eval-every",
        "0",
        "--threads",
        "1",
        "--no-progress",
        "--heldout-fraction",
        "0.25",
    ]
    # the tiny base is passed through the config; the CLI itself uses the installed base,
    # so only check argument handling and the resume guard with a pre-made checkpoint
    train(_cfg(tiny_squad, tiny_base, tmp_path / "c", max_steps=1))
    res = CliRunner().invoke(
        train_reader_command, [*args[:-2], "--batch-size", "4", "--heldout-fraction", "0.25"]
    )
    assert res.exit_code != 0
    assert "cannot resume" in res.output


def test_init_from_artifact(tiny_squad, tiny_base, tmp_path):
    train(_cfg(tiny_squad, tiny_base, tmp_path / "a", max_steps=1))
    art = tmp_path / "a" / "final"
    res = train(
        _cfg(tiny_squad, tiny_base, tmp_path / "d", max_steps=1, lr=0.0, init_from=str(art))
    )
    assert res["step"] == 1
    wa, wd = _weights(tmp_path / "a"), _weights(tmp_path / "d")
    for k in wa:  # lr 0: the new run's weights are the artifact's
        assert torch.allclose(wa[k].float(), wd[k].float(), atol=1e-3), k


def test_batch_seed_changes_the_order_not_the_heldout_split(tiny_squad, tiny_base, tmp_path):
    from qa.reader.train import Trainer

    a = Trainer(_cfg(tiny_squad, tiny_base, tmp_path / "a", max_steps=2))
    b = Trainer(_cfg(tiny_squad, tiny_base, tmp_path / "b", max_steps=2, batch_seed=99))
    a.prepare()
    b.prepare()
    assert [e.qid for e in a.heldout] == [e.qid for e in b.heldout]
    train(a.cfg)
    train(b.cfg)
    wa, wb = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert any(not (wa[k] == wb[k]).all() for k in wa)
    with pytest.raises(ValueError, match="batch_seed"):  # resume guard covers the order too
        train(_cfg(tiny_squad, tiny_base, tmp_path / "a", max_steps=3, batch_seed=5))
