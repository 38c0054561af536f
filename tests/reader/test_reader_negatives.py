"""Training mix: every gold answer, same-article and retrieved negatives, mixed held-out."""

import json

from qa.common.selective import auc
from qa.reader.config import TrainConfig
from qa.reader.data import Example, load_squad
from qa.reader.negatives import NegativeConfig, distinct_answers, expand_training
from qa.reader.train import train


def _ex(qid, q, ctx, answers, title="t"):
    return Example(qid, q, ctx, tuple((a, ctx.index(a)) for a in answers), title)


def test_distinct_answers_one_per_span_and_offsets_hold():
    ctx = "Takehiro Funakoshi met Kenji Harada in Seoul."
    ex = Example(
        "q",
        "Who met Harada?",
        ctx,
        (("Takehiro Funakoshi", 0), ("Takehiro Funakoshi", 0), ("Funakoshi", 9), ("bad", 3)),
    )
    out = distinct_answers(ex)
    assert [a for e in out for a in e.answers] == [("Takehiro Funakoshi", 0), ("Funakoshi", 9)]
    for e in out:
        text, start = e.answers[0]
        assert e.context[start : start + len(text)] == text


def test_negatives_never_hold_an_answer_and_come_from_the_pool():
    paras = [
        ("The bank in Madrid raised rates to 4.5 percent.", "What rate did the bank set?", "4.5"),
        ("Rain flooded Mumbai on Tuesday.", "Which city flooded?", "Mumbai"),
        ("Mumbai schools reopened after the rain.", "What reopened?", "schools"),
        ("The bank governor Maria Lopez spoke in Madrid.", "Who is the governor?", "Maria Lopez"),
    ]
    exs = [_ex(f"q{i}", q, c, [a], title="same") for i, (c, q, a) in enumerate(paras)]
    out = expand_training(
        exs, all_answers=True, negatives=NegativeConfig(same_article=1.0, retrieved=1.0), seed=0
    )
    negs = [e for e in out if not e.answers]
    assert negs, "no negatives made"
    by_q = {e.question: e for e in exs}
    contexts = {e.context for e in exs}
    for n in negs:
        src = by_q[n.question]
        assert n.context in contexts and n.context != src.context
        assert src.answers[0][0].lower() not in n.context.lower()
    # "Which city flooded?" must not get the other Mumbai paragraph as a negative
    assert all("Mumbai" not in n.context for n in negs if n.question == "Which city flooded?")
    # deterministic
    again = expand_training(
        exs, all_answers=True, negatives=NegativeConfig(same_article=1.0, retrieved=1.0), seed=0
    )
    assert again == out


def test_auc():
    assert auc([5.0, 3.0], [4.0, -1.0]) == 0.75
    assert auc([1.0], [1.0]) == 0.5


def test_training_with_negatives_logs_mixed_heldout(tiny_squad, tiny_base, tmp_path):
    cfg = TrainConfig(
        train_path=str(tiny_squad),
        out_dir=str(tmp_path / "run"),
        batch_size=2,
        max_length=64,
        stride=16,
        max_steps=2,
        warmup_steps=1,
        heldout_fraction=0.5,
        eval_every=0,
        save_every=1,
        threads=1,
        progress=False,
        base_dir=str(tiny_base),
        bf16=False,
        all_answers=True,
        neg_same_article=1.0,
        neg_retrieved=1.0,
        select_metric="mixed_f1",
    )
    result = train(cfg)
    assert "mixed_f1" in result["heldout"] and "noans_auc" in result["heldout"]
    manifest = json.loads((tmp_path / "run" / "final" / "manifest.json").read_text())
    assert manifest["training"]["negatives"] > 0
    assert manifest["training"]["items"] > manifest["training"]["negatives"]
    assert len(load_squad(tiny_squad)) == 10
