from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qa.common.lexicon import ANTONYMS, negates, numbers_in, sentence_bounds


def test_antonyms_go_both_ways() -> None:
    for a, b in ANTONYMS.items():
        assert a != b and b in ANTONYMS and a == a.lower()
    assert ANTONYMS["largest"] == "smallest" and ANTONYMS["highest"] == "lowest"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Who did not go?", True),
        ("Who didn't go?", True),
        ("What was never built?", True),
        ("What is the non-official ideology?", True),
        ("Who went without a visa?", True),
        ("Who knows the notary?", False),  # "not" inside a word
        ("Nobody came.", False),
        ("Who went?", False),
    ],
)
def test_negates(text: str, want: bool) -> None:
    assert negates(text) is want


def test_numbers_in_drops_thousands_separators() -> None:
    assert numbers_in("In 1995 it cost 1,200 won, or 3.5 per cent.") == {"1995", "1200", "3.5"}


def test_sentence_bounds_finds_the_sentence_of_a_span() -> None:
    text = 'First one. "Second one," he said! Third one?\n\nFourth one'
    start = text.index("he said")
    lo, hi = sentence_bounds(text, start, start + 7)
    assert text[lo:hi] == '"Second one," he said!'
    at = text.index("Fourth")
    assert text[slice(*sentence_bounds(text, at, at + 6))] == "Fourth one"
    assert text[slice(*sentence_bounds(text, 0, 5))] == "First one."


@given(st.text(alphabet="ab .!?\n", max_size=60), st.data())
def test_sentence_bounds_always_cover_the_span(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    lo, hi = sentence_bounds(text, start, end, reach=20)
    assert 0 <= lo <= start <= end <= hi <= len(text)
