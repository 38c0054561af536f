"""Checkpoint averaging: the element-wise mean, with frozen keys taken from the base."""

import pytest
import torch

from qa.reader.average import mean_state


def test_mean_of_states_and_missing_keys_from_base():
    base = {"w": torch.tensor([1.0, 1.0]), "frozen": torch.tensor([5.0])}
    a = {"w": torch.tensor([1.0, 3.0])}
    b = {"w": torch.tensor([3.0, 5.0]), "frozen": torch.tensor([7.0])}
    out = mean_state([a, b], base)
    assert torch.equal(out["w"], torch.tensor([2.0, 4.0]))
    assert torch.equal(out["frozen"], torch.tensor([6.0]))  # a lacks it: base's 5 counts
    assert torch.equal(mean_state([a], base)["frozen"], torch.tensor([5.0]))
    assert torch.equal(a["w"], torch.tensor([1.0, 3.0]))  # inputs untouched


def test_half_precision_inputs_average_in_float32():
    base = {"w": torch.tensor([0.1], dtype=torch.float16)}
    out = mean_state([base, {"w": torch.tensor([0.3])}], base)
    assert out["w"].dtype == torch.float32
    assert out["w"].item() == pytest.approx((float(torch.tensor(0.1).half()) + 0.3) / 2)


def test_nothing_to_average():
    with pytest.raises(ValueError):
        mean_state([], {"w": torch.zeros(1)})
