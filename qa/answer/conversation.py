"""Multi-turn questions: resolve follow-ups through the conversation so far.

A :class:`Conversation` holds the state of one chat session (one browser tab).
It keeps a *focus*: the articles cited by the latest found answer and the most
recent answer that looks like a name. A follow-up question is one that refers
back with a pronoun ("What did **he** hope to build on?"). For a follow-up:

1. personal pronouns (he/him/his/she/her/hers) are rewritten to the focus
   entity when there is one ("What did Takehiro Funakoshi hope to build on?");
   ``it``/``they`` are left alone (too ambiguous to rewrite);
2. retrieval is restricted to the focus articles with
   ``Filters(article_ids=...)``, so the answer comes from the same article;
3. when that finds nothing, the (rewritten) question is asked of the whole
   index, so a follow-up never does worse than a fresh question.

Everything here is pure logic over :class:`qa.types.Answer`; the assistant
is anything with ``ask(question, *, top_k=None, filters=None) -> Answer``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from qa.common.question import find_pronouns, is_follow_up, resolve_pronouns
from qa.types import Answer, Filters

__all__ = [
    "Asker",
    "Conversation",
    "Focus",
    "Turn",
    "find_pronouns",
    "is_follow_up",
    "looks_like_name",
    "resolve_pronouns",
]


class Asker(Protocol):
    """What a conversation needs from the assistant."""

    def ask(
        self, question: str, *, top_k: int | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer one question."""
        ...


# Lower-case words allowed inside a name ("Bank of Korea", "Yoon Suk Yeol").
_NAME_PARTICLES = frozenset(["of", "the", "de", "van", "von", "der", "al", "bin", "da", "and", "-"])


def looks_like_name(text: str | None) -> bool:
    """Whether an answer looks like a named entity a pronoun can stand for.

    Short (1-6 words), starts with a capital letter, every other word
    capitalised or a name particle, no digits, no sentence punctuation.
    """
    if not text:
        return False
    text = text.strip()
    words = text.split()
    if not 1 <= len(words) <= 6 or any(ch.isdigit() for ch in text):
        return False
    if re.search(r"[.!?;:\"()\[\]]", text.rstrip(".")):
        return False
    if not words[0][:1].isupper():
        return False
    return all(w[:1].isupper() or w.lower() in _NAME_PARTICLES for w in words)


@dataclass(frozen=True)
class Focus:
    """What the conversation is about, for resolving the next follow-up.

    Attributes:
        entity: The latest answer that looks like a name, or ``None``.
        article_ids: Articles cited by the latest found answer.

    """

    entity: str | None = None
    article_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Turn:
    """One question and its answer.

    Attributes:
        question: The question as the person typed it.
        asked: The question as sent to the assistant (pronouns resolved).
        answer: The answer.
        follow_up: Whether the question was read as a follow-up.
        scoped: Whether the answer came from retrieval restricted to the
            articles of the previous turns.
        fell_back: Whether a follow-up found nothing in those articles and
            was asked of the whole index instead.
        seconds: Wall time spent asking.

    """

    question: str
    asked: str
    answer: Answer
    follow_up: bool = False
    scoped: bool = False
    fell_back: bool = False
    seconds: float = 0.0


class Conversation:
    """The state of one chat session: its turns and current focus.

    Not thread-safe by itself: one conversation belongs to one session, and
    the assistant underneath does its own locking.
    """

    def __init__(
        self,
        assistant: Asker,
        *,
        filters: Filters | None = None,
        top_k: int | None = None,
        max_turns: int = 50,
    ) -> None:
        """Start an empty conversation.

        Args:
            assistant: Anything with ``ask(question, *, top_k, filters)``.
            filters: Filters applied to every question (the follow-up
                restriction is added on top).
            top_k: Passed through to ``ask``.
            max_turns: How many turns to keep (older ones are dropped).

        """
        self.assistant = assistant
        self.filters = filters
        self.top_k = top_k
        self.max_turns = max_turns
        self.turns: list[Turn] = []
        self.focus = Focus()

    def reset(self) -> None:
        """Forget all turns and the focus."""
        self.turns.clear()
        self.focus = Focus()

    def resolve(self, question: str) -> tuple[str, tuple[str, ...]]:
        """How ``question`` would be asked: ``(rewritten question, article ids)``.

        Article ids are empty when the question is not a follow-up or there is
        nothing to follow up on.
        """
        question = question.strip()
        if not is_follow_up(question) or not (self.focus.entity or self.focus.article_ids):
            return question, ()
        return resolve_pronouns(question, self.focus.entity), self.focus.article_ids

    def ask(self, question: str) -> Turn:
        """Answer ``question`` in the context of the turns so far and record it."""
        started = time.perf_counter()
        question = question.strip()
        asked, article_ids = self.resolve(question)
        follow_up = asked != question or bool(article_ids)
        base = self.filters if self.filters is not None else Filters()
        scoped = fell_back = False
        if article_ids:
            answer = self.assistant.ask(
                asked, top_k=self.top_k, filters=replace(base, article_ids=article_ids)
            )
            scoped = True
            if not answer.found:
                whole = self.assistant.ask(asked, top_k=self.top_k, filters=self.filters)
                fell_back = True
                scoped = False
                if whole.found or not answer.related:
                    answer = whole
                else:
                    scoped = True  # keep the scoped "related" passages
        else:
            answer = self.assistant.ask(asked, top_k=self.top_k, filters=self.filters)
        turn = Turn(
            question=question,
            asked=asked,
            answer=answer,
            follow_up=follow_up,
            scoped=scoped,
            fell_back=fell_back,
            seconds=time.perf_counter() - started,
        )
        self._record(turn)
        return turn

    def _record(self, turn: Turn) -> None:
        self.turns.append(turn)
        del self.turns[: -self.max_turns]
        answer = turn.answer
        if not answer.found:
            return  # a miss keeps the previous focus
        ids = _unique(c.article_id for c in answer.citations)
        if looks_like_name(answer.text):
            entity: str | None = answer.text
        elif turn.follow_up:
            entity = self.focus.entity  # same topic: "he" still means the same person
        else:
            entity = None  # a new topic: do not carry an old name into it
        self.focus = Focus(entity=entity, article_ids=ids or self.focus.article_ids)

    @property
    def last(self) -> Turn | None:
        """The latest turn, if any."""
        return self.turns[-1] if self.turns else None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return tuple(seen)
