"""Question analysis, in one place.

Cleaning, specific terms, the answer type it asks for, and the pronouns that make
it a follow-up.

Used by the extractors (answer type), answer composition (specific terms),
the conversation (pronouns) and the assistant (cleaning).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


def clean_question(question: str) -> str:
    """``question`` with whitespace collapsed.

    Raises:
        ValueError: If it is not a string or holds only whitespace.
    """
    if not isinstance(question, str) or not question.strip():
        raise ValueError("the question is empty")
    return " ".join(question.split())


_TERM = re.compile(r"[A-Za-z0-9][\w-]*")


def specific_terms(question: str) -> frozenset[str]:
    """Numbers and capitalised names in the question (not its first word), lower-cased.

    "Who won the 2022 FIFA World Cup?" gives {"2022", "fifa", "world", "cup"}.
    """
    words = _TERM.findall(question)
    return frozenset(
        w.lower()
        for i, w in enumerate(words)
        if any(c.isdigit() for c in w) or (i > 0 and w[0].isupper() and len(w) > 1)
    )


# ---------------------------------------------------------------------------
# The answer type: which spaCy entity labels an answer should carry

ANSWER_TYPES: list[tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]]] = [
    # (pattern, preferred labels, acceptable labels)
    (
        re.compile(r"\bhow (many|much)\b|\bwhat (percentage|percent|number|amount)\b"),
        ("CARDINAL", "QUANTITY", "MONEY", "PERCENT"),
        ("DATE", "TIME", "ORDINAL"),
    ),
    (
        re.compile(r"\bhow (long|old|far|often)\b"),
        ("DATE", "TIME", "QUANTITY", "CARDINAL"),
        ("PERCENT",),
    ),
    (
        re.compile(
            r"\bwhen\b|\bwhat (year|date|day|month|time|century|decade)\b"
            r"|\bwhich (year|day|month)\b"
        ),
        ("DATE", "TIME"),
        ("CARDINAL", "EVENT"),
    ),
    (
        re.compile(
            r"\bwhere\b|\bwhat (country|city|place|state|region|town|nation)\b"
            r"|\bwhich (country|city)\b"
        ),
        ("GPE", "LOC", "FAC"),
        ("ORG", "NORP"),
    ),
    (
        re.compile(r"\bwho(m|se)?\b|\bwhat (company|organi[sz]ation|group|team|party|firm)\b"),
        ("PERSON", "ORG"),
        ("NORP", "GPE"),
    ),
]

_ANY_LABEL = (
    "PERSON",
    "ORG",
    "GPE",
    "NORP",
    "EVENT",
    "WORK_OF_ART",
    "PRODUCT",
    "LAW",
    "FAC",
    "LOC",
    "DATE",
    "MONEY",
    "CARDINAL",
    "QUANTITY",
    "PERCENT",
    "LANGUAGE",
)


@dataclass(frozen=True)
class AnswerType:
    """What kind of answer a question asks for.

    Attributes:
        kind: ``number``, ``measure`` (how long/old/far/often), ``time``, ``place``,
            ``agent`` (who, which company) or ``thing`` (anything else).
        preferred: Entity labels that fit best.
        acceptable: Entity labels that may fit.
    """

    kind: str
    preferred: tuple[str, ...]
    acceptable: tuple[str, ...]

    @property
    def open(self) -> bool:
        """True for what/which questions with no specific type (noun phrases fit)."""
        return self.kind == "thing"


_KINDS = ("number", "measure", "time", "place", "agent")


def answer_type(question: str) -> AnswerType:
    """The answer type of ``question`` (the first pattern that matches wins)."""
    lowered = question.lower()
    for kind, (pattern, preferred, acceptable) in zip(_KINDS, ANSWER_TYPES, strict=True):
        if pattern.search(lowered):
            return AnswerType(kind, preferred, acceptable)
    return AnswerType("thing", (), _ANY_LABEL)


# ---------------------------------------------------------------------------
# Pronouns: follow-up questions

# Pronouns that make a question depend on the previous turns.
_PERSONAL = {"he", "him", "his", "she", "her", "hers", "himself", "herself"}
_OTHER = {"they", "them", "their", "theirs", "it", "its", "themselves", "itself"}
PRONOUNS = frozenset(_PERSONAL | _OTHER)
_PRONOUN_RE = re.compile(r"\b(" + "|".join(sorted(PRONOUNS, key=len, reverse=True)) + r")\b", re.I)

# Words after which "her" is an object pronoun, not a possessive ("told her about").
_NOT_A_NOUN = frozenset(
    re.findall(
        r"\w+",
        """a an the to and or but in on at about of for with from by as than that this these
        those is was were are be been if when where why how what who whom which so then after
        before during into over under again also""",
    )
)


def find_pronouns(question: str) -> list[str]:
    """Return the pronouns in ``question``, lower-cased, in order of appearance."""
    return [m.group(1).lower() for m in _PRONOUN_RE.finditer(question)]


def is_follow_up(question: str) -> bool:
    """Whether ``question`` refers back to earlier turns (it holds a pronoun)."""
    return bool(_PRONOUN_RE.search(question))


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def resolve_pronouns(question: str, entity: str | None) -> str:
    """Rewrite personal pronouns in ``question`` to ``entity``.

    ``he/him/she/himself/herself`` become the entity, ``his/hers`` its
    possessive, ``her`` the possessive before a noun and the entity otherwise.
    ``it`` and ``they`` are never rewritten. With no entity the question is
    returned unchanged.
    """
    if not entity:
        return question
    entity = entity.strip()

    def substitute(match: re.Match[str]) -> str:
        word = match.group(1).lower()
        if word not in _PERSONAL:
            return match.group(0)
        if word in ("his", "hers"):
            return _possessive(entity)
        if word == "her":
            rest = question[match.end() :]
            nxt = re.match(r"\s+([A-Za-z][\w'-]*)", rest)
            if nxt and nxt.group(1).lower() not in _NOT_A_NOUN:
                return _possessive(entity)
        return entity

    return _PRONOUN_RE.sub(substitute, question)
