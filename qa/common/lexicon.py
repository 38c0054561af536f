"""Word lists shared by the reader's training (:mod:`qa.reader.perturb`) and the calibrator.

SQuAD 2.0's unanswerable questions are mostly an answerable question with one thing
changed (Rajpurkar, Jia and Liang, ACL 2018, table 3): a word replaced by its opposite,
a negation put in, a name or number swapped. The reader's training makes such twins
from these lists, and the calibrator's features (:mod:`qa.answer.features`) look for
the same changes between a question and the sentence its answer comes from.
"""

from __future__ import annotations

import re

_PAIRS = (
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("most", "least"),
    ("highest", "lowest"),
    ("first", "last"),
    ("earliest", "latest"),
    ("maximum", "minimum"),
    ("more", "less"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("before", "after"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("older", "younger"),
    ("oldest", "youngest"),
    ("longest", "shortest"),
    ("best", "worst"),
    ("won", "lost"),
    ("win", "lose"),
    ("began", "ended"),
    ("start", "end"),
    ("major", "minor"),
    ("positive", "negative"),
    ("large", "small"),
    ("high", "low"),
    ("early", "late"),
    ("top", "bottom"),
    ("inside", "outside"),
    ("above", "below"),
    ("accepted", "rejected"),
    ("allowed", "banned"),
    ("success", "failure"),
    ("successful", "unsuccessful"),
    ("common", "rare"),
    ("public", "private"),
    ("internal", "external"),
    ("upper", "lower"),
    ("modern", "ancient"),
    ("male", "female"),
    ("rich", "poor"),
    ("strong", "weak"),
    ("supported", "opposed"),
    ("entered", "left"),
    ("born", "died"),
)
# Lower-case word -> its opposite, both ways ("largest" <-> "smallest").
ANTONYMS: dict[str, str] = {a: b for a, b in _PAIRS} | {b: a for a, b in _PAIRS}

_NEGATION = re.compile(
    r"\b(?:not|never|no|none|nor|neither|without|cannot)\b|n't\b|\bnon-", re.IGNORECASE
)
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+|\n\s*\n")
# A number written in digits ("1959", "1,200", "3.5").
NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")


def negates(text: str) -> bool:
    """Whether ``text`` holds a negation ("not", "never", "no", "n't", "non-", ...)."""
    return _NEGATION.search(text) is not None


def numbers_in(text: str) -> set[str]:
    """The numbers written in digits in ``text``, without thousands separators."""
    return {m.group().replace(",", "") for m in NUMBER.finditer(text)}


def sentence_bounds(text: str, start: int, end: int, reach: int = 600) -> tuple[int, int]:
    """Offsets of the sentence(s) of ``text`` that hold ``text[start:end]``.

    A sentence ends at ".", "!" or "?" followed by a space (closing quotes and brackets
    go with it) or at a blank line; at most ``reach`` characters are looked at on
    either side. Abbreviations ("U.S. troops") may end a sentence early: good enough
    for comparing a question's words with those around its answer.
    """
    lo = max(0, start - reach)
    begin = lo
    for m in _SENTENCE_END.finditer(text, lo, start):
        begin = m.end()
    found = _SENTENCE_END.search(text, end, min(len(text), end + reach))
    finish = found.start() + 1 if found is not None else min(len(text), end + reach)
    return begin, max(finish, end)
