"""Metric functions against the official SQuAD definitions and hand-computed values."""

from __future__ import annotations

import collections
import math
import random
import re
import string

import pytest

from qa.common import metrics as m
from qa.common import selective as sv


# --- Reference: the official evaluate-v1.1.py / evaluate-v2.0.py functions, verbatim logic ---
def ref_normalize_answer(s):
    def remove_articles(text):
        return re.sub(r"\b(a|an|the)\b", " ", text)

    def white_space_fix(text):
        return " ".join(text.split())

    def remove_punc(text):
        exclude = set(string.punctuation)
        return "".join(ch for ch in text if ch not in exclude)

    def lower(text):
        return text.lower()

    return white_space_fix(remove_articles(remove_punc(lower(s))))


def ref_f1_v1(prediction, ground_truth):
    prediction_tokens = ref_normalize_answer(prediction).split()
    ground_truth_tokens = ref_normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def ref_em_v1(prediction, ground_truth):
    return ref_normalize_answer(prediction) == ref_normalize_answer(ground_truth)


def ref_max_v1(fn, prediction, ground_truths):
    return max(fn(prediction, gt) for gt in ground_truths)


def ref_f1_v2(a_gold, a_pred):
    gold_toks = ref_normalize_answer(a_gold).split() if a_gold else []
    pred_toks = ref_normalize_answer(a_pred).split() if a_pred else []
    common = collections.Counter(gold_toks) & collections.Counter(pred_toks)
    num_same = sum(common.values())
    if len(gold_toks) == 0 or len(pred_toks) == 0:
        return int(gold_toks == pred_toks)
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(pred_toks)
    recall = 1.0 * num_same / len(gold_toks)
    return (2 * precision * recall) / (precision + recall)


def ref_find_best_thresh(preds, scores, na_probs, qid_to_has_ans):
    num_no_ans = sum(1 for k in qid_to_has_ans if not qid_to_has_ans[k])
    cur_score = num_no_ans
    best_score = cur_score
    best_thresh = 0.0
    qid_list = sorted(na_probs, key=lambda k: na_probs[k])
    for qid in qid_list:
        if qid not in scores:
            continue
        if qid_to_has_ans[qid]:
            diff = scores[qid]
        elif preds[qid]:
            diff = -1
        else:
            diff = 0
        cur_score += diff
        if cur_score > best_score:
            best_score = cur_score
            best_thresh = na_probs[qid]
    return 100.0 * best_score / len(scores), best_thresh


# --- Hand-made cases -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Denver Broncos", "denver broncos"),
        ("  an  apple, a pear!  ", "apple pear"),
        ("Levi's Stadium.", "levis stadium"),
        ("Theatre of the absurd", "theatre of absurd"),  # "the" inside a word stays
        ("A", ""),
        ("“Squid Game”", "“squid game”"),  # typographic quotes are not ASCII punctuation
        ("U.S.-based", "usbased"),
    ],
)
def test_normalize_matches_official(text, expected):
    assert m.normalize_answer(text) == expected
    assert m.normalize_answer(text) == ref_normalize_answer(text)


def test_exact_and_f1_hand_values():
    assert m.exact_match("the Denver Broncos!", "Denver Broncos") == 1.0
    assert m.exact_match("Broncos", "Denver Broncos") == 0.0
    # pred 1 token, gold 2 tokens, 1 common: P=1, R=0.5, F1=2/3
    assert m.token_f1("Broncos", "Denver Broncos") == pytest.approx(2 / 3)
    # repeated tokens count with multiplicity
    assert m.token_f1("x y y", "y y z") == pytest.approx(2 / 3)
    assert m.token_f1("nothing", "Denver Broncos") == 0.0


def test_multiple_golds_take_max():
    golds = ["Denver Broncos", "The Denver Broncos", "Broncos"]
    assert m.max_exact("broncos", golds) == 1.0
    assert m.max_f1("the Broncos team", golds) == pytest.approx(2 * (1 / 2) * 1 / (1 / 2 + 1))
    assert m.max_exact("Carolina", golds) == 0.0


def test_unanswerable_empty_gold():
    assert not m.is_answerable([])
    assert m.max_exact(None, []) == 1.0
    assert m.max_exact("", []) == 1.0
    assert m.max_f1(None, []) == 1.0
    assert m.max_exact("Normans", []) == 0.0
    assert m.max_f1("Normans", []) == 0.0
    # an answerable question with no prediction scores 0
    assert m.max_exact(None, ["Normandy"]) == 0.0
    assert m.max_f1(None, ["Normandy"]) == 0.0
    # golds that normalise to nothing are dropped, as in the v2 script
    assert not m.is_answerable(["the", "!"])


def test_random_cases_agree_with_official_scripts():
    rng = random.Random(7)
    vocab = [
        "the",
        "a",
        "an",
        "Denver",
        "broncos",
        "Broncos,",
        "2016",
        "7",
        "Feb.",
        "Levi's",
        "x",
        "y",
    ]
    for _ in range(2000):
        pred = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 5)))
        golds = [" ".join(rng.choice(vocab) for _ in range(rng.randint(1, 4))) for _ in range(3)]
        golds = [g for g in golds if ref_normalize_answer(g)] or ["Denver"]
        assert m.max_exact(pred, golds) == float(ref_max_v1(ref_em_v1, pred, golds))
        assert m.max_f1(pred, golds) == pytest.approx(ref_max_v1(ref_f1_v1, pred, golds))
        assert m.max_f1(pred, golds) == pytest.approx(max(ref_f1_v2(g, pred) for g in golds))


def test_best_threshold_matches_official():
    rng = random.Random(3)
    for _ in range(200):
        n = rng.randint(1, 12)
        preds, golds, scores = [], [], []
        for _ in range(n):
            has = rng.random() < 0.5
            golds.append(["Paris"] if has else [])
            preds.append(rng.choice(["Paris", "London", ""]))
            scores.append(rng.random())  # distinct scores: no ties
        exact = {i: m.max_exact(p, g) for i, (p, g) in enumerate(zip(preds, golds, strict=True))}
        na = {i: 1 - s for i, s in enumerate(scores)}
        has_ans = {i: bool(g) for i, g in enumerate(golds)}
        ref_best, ref_thresh = ref_find_best_thresh(dict(enumerate(preds)), exact, na, has_ans)
        res = m.best_threshold(preds, golds, scores)
        assert res.exact == pytest.approx(ref_best)
        # applying our threshold reproduces the best score
        applied = m.apply_threshold(
            list(exact.values()), scores, list(has_ans.values()), res.threshold
        )
        assert 100 * sum(applied) / n == pytest.approx(ref_best)


def test_best_threshold_with_ties_is_reproducible():
    rng = random.Random(4)
    for _ in range(200):
        n = rng.randint(1, 12)
        golds = [["Paris"] if rng.random() < 0.5 else [] for _ in range(n)]
        preds = [rng.choice(["Paris", "London", ""]) for _ in range(n)]
        scores = [rng.choice([0.2, 0.5, 0.8]) for _ in range(n)]
        res = m.best_threshold(preds, golds, scores)
        exact = [m.max_exact(p, g) for p, g in zip(preds, golds, strict=True)]
        applied = m.apply_threshold(exact, scores, [bool(g) for g in golds], res.threshold)
        assert 100 * sum(applied) / n == pytest.approx(res.exact)
        for t in (0.2, 0.5, 0.8, math.inf):  # no threshold does better
            other = m.apply_threshold(exact, scores, [bool(g) for g in golds], t)
            assert 100 * sum(other) / n <= res.exact + 1e-9


def test_best_threshold_hand_case():
    preds = ["Paris", "London", "Rome", "Oslo"]
    golds = [["Paris"], [], ["Rome"], []]
    scores = [0.9, 0.8, 0.6, 0.2]
    res = m.best_threshold(preds, golds, scores)
    # keep Paris (+1), London is a wrong answer to an unanswerable (-1), Rome +1:
    # withhold all = 2/4; keep 0.9 = 3/4; keep 0.8 = 2/4; keep 0.6 = 3/4; keep 0.2 = 2/4
    assert res.exact == 75.0
    assert res.threshold == 0.9  # first time the best is reached


def test_retrieval_recall_and_mrr():
    ranks = [0, 2, None, 7, 19, 25]
    assert m.recall_at_k(ranks, 1) == pytest.approx(1 / 6)
    assert m.recall_at_k(ranks, 5) == pytest.approx(2 / 6)
    assert m.recall_at_k(ranks, 10) == pytest.approx(3 / 6)
    assert m.recall_at_k(ranks, 20) == pytest.approx(4 / 6)
    assert m.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 1 / 8 + 1 / 20 + 1 / 26) / 6)
    assert m.recall_at_k([], 5) == 0.0


def test_contains_answer_token_boundaries():
    assert m.contains_answer("The Denver Broncos won.", ["denver broncos"])
    assert not m.contains_answer("Boston 1976", ["97"])
    assert m.contains_answer("It cost $42 million.", ["42 million"])
    assert not m.contains_answer("anything", [])


def test_risk_coverage_toy():
    scores = [0.9, 0.8, 0.7, 0.6]
    correct = [True, False, True, True]
    rc = sv.risk_coverage(scores, correct)
    assert rc.coverage == [0.25, 0.5, 0.75, 1.0]
    assert rc.risk == pytest.approx([0.0, 0.5, 1 / 3, 0.25])
    assert rc.aurc == pytest.approx((0 + 0.5 + 1 / 3 + 0.25) / 4)
    assert rc.thresholds == [0.9, 0.8, 0.7, 0.6]
    perfect = sv.risk_coverage([0.3, 0.2], [True, True])
    assert perfect.aurc == 0.0


def test_risk_coverage_ties_are_one_point():
    rc = sv.risk_coverage([0.5, 0.5, 0.1], [True, False, True])
    assert rc.coverage == pytest.approx([2 / 3, 1.0])
    assert rc.risk == pytest.approx([0.5, 1 / 3])
    # tie group counts at its group risk for both positions
    assert rc.aurc == pytest.approx((0.5 + 0.5 + 1 / 3) / 3)


def test_threshold_for_risk_and_selective():
    scores = [0.9, 0.8, 0.7, 0.6, 0.5]
    correct = [True, True, False, True, False]
    assert sv.threshold_for_risk(scores, correct, 0.0) == 0.8
    assert sv.threshold_for_risk(scores, correct, 0.25) == 0.6
    assert math.isinf(sv.threshold_for_risk([0.9], [False], 0.1))
    sel = sv.selective(scores, correct, [True, True, True, True, False], 0.6)
    assert sel.coverage == pytest.approx(0.8)
    assert sel.risk == pytest.approx(0.25)
    # 3 right answers + the withheld unanswerable one
    assert sel.accuracy == pytest.approx(4 / 5)


def test_split_halves_seeded_and_disjoint():
    a, b = sv.split_halves(11, seed=5)
    assert sorted(a + b) == list(range(11))
    assert len(a) == 5
    assert sv.split_halves(11, seed=5) == (a, b)
    assert sv.split_halves(11, seed=6) != (a, b)


def test_latency_stats():
    stats = m.latency_stats([0.1, 0.2, 0.3, 0.4])
    assert stats["p50_ms"] == pytest.approx(250.0)
    assert stats["p95_ms"] == pytest.approx(385.0)
    assert stats["questions_per_s"] == pytest.approx(4.0)
    assert m.percentile([], 50) == 0.0
