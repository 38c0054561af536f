"""Follow-up resolution in qa.answer.conversation, against a scripted fake assistant."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from qa.answer.conversation import (
    Conversation,
    Focus,
    find_pronouns,
    is_follow_up,
    looks_like_name,
    resolve_pronouns,
)
from qa.types import Answer, Citation, Filters

KOREA = (
    "First Vice Foreign Minister Park Yoon-joo made the remark during the 16th strategic "
    "dialogue with his Japanese counterpart, Takehiro Funakoshi. Funakoshi, in turn, expressed "
    "hope to work closely with Seoul to build on the outcome of the recent summit talks."
)
OTHER = "Apple said on Tuesday it would open a new store in Seoul. The store opens in March."


def cite(article_id: str, text: str, quote: str, score: float = 0.9) -> Citation:
    start = text.index(quote)
    return Citation(
        article_id=article_id,
        title=f"title {article_id}",
        date="2025-11-07",
        source="Yonhap",
        url=None,
        start=start,
        end=start + len(quote),
        quote=quote,
        passage=text,
        passage_start=0,
        passage_end=len(text),
        score=score,
    )


@dataclass
class Scripted:
    """Answers by (keyword, allowed article ids) rules; records every call."""

    calls: list[tuple[str, Filters | None]] = field(default_factory=list)

    ARTICLES = {"korea": KOREA, "apple": OTHER}
    RULES = [
        # (keywords that must all be in the question, article, quote)
        (("counterpart",), "korea", "Takehiro Funakoshi"),
        (("takehiro funakoshi", "build on"), "korea", "the outcome of the recent summit talks"),
        (("build on",), "apple", "a new store"),  # the decoy for an unresolved "he"
        (("store", "open"), "apple", "in March"),
        (("which company",), "apple", "Apple"),
        (("who made the remark",), "korea", "Park Yoon-joo"),
    ]

    def ask(self, question, *, top_k=None, filters=None):
        self.calls.append((question, filters))
        allowed = set(filters.article_ids) if filters and filters.article_ids else None
        q = question.lower()
        for keys, art, quote in self.RULES:
            if all(k in q for k in keys) and (allowed is None or art in allowed):
                c = cite(art, self.ARTICLES[art], quote)
                return Answer(question, quote, 0.9, citations=(c,), extractor="fake")
        related = ()
        if allowed:
            a = sorted(allowed)[0]
            related = (cite(a, self.ARTICLES[a], self.ARTICLES[a][:20], 0.2),)
        return Answer(question, None, 0.1, related=related, extractor="fake")


def test_find_pronouns_and_follow_up():
    assert find_pronouns("What did he hope to build on?") == ["he"]
    assert find_pronouns("Where did His team and THEY go?") == ["his", "they"]
    assert is_follow_up("When did it happen?")
    assert not is_follow_up("Who is Japan's counterpart in the dialogue?")
    # pronouns inside words do not count
    assert not is_follow_up("Where is the theatre? The hero? Shell? Items?")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("Takehiro Funakoshi", True),
        ("Park Yoon-joo", True),
        ("Bank of Korea", True),
        ("Seoul", True),
        ("the outcome of the recent summit talks", False),
        ("16th", False),
        ("2025-11-07", False),
        ("", False),
        (None, False),
        ("He said so. Then left", False),
        ("A Very Long Name With Far Too Many Words", False),
    ],
)
def test_looks_like_name(text, expected):
    assert looks_like_name(text) is expected


@pytest.mark.parametrize(
    "question,expected",
    [
        ("What did he hope to build on?", "What did Takehiro Funakoshi hope to build on?"),
        ("Who did she meet?", "Who did Takehiro Funakoshi meet?"),
        ("What is his title?", "What is Takehiro Funakoshi's title?"),
        ("What did her ministry say?", "What did Takehiro Funakoshi's ministry say?"),
        ("Who told her about it?", "Who told Takehiro Funakoshi about it?"),
        ("Who met her?", "Who met Takehiro Funakoshi?"),
        ("When did it start?", "When did it start?"),
        ("What did they agree?", "What did they agree?"),
        ("He said what?", "Takehiro Funakoshi said what?"),
    ],
)
def test_resolve_pronouns(question, expected):
    assert resolve_pronouns(question, "Takehiro Funakoshi") == expected


def test_resolve_pronouns_possessive_of_s_name_and_no_entity():
    assert resolve_pronouns("What is his job?", "James") == "What is James' job?"
    assert resolve_pronouns("What did he say?", None) == "What did he say?"


def test_follow_up_answers_from_the_same_article():
    fake = Scripted()
    conv = Conversation(fake)
    first = conv.ask("Who is Japan's counterpart in the dialogue?")
    assert first.answer.text == "Takehiro Funakoshi"
    assert not first.follow_up and not first.scoped
    assert conv.focus == Focus("Takehiro Funakoshi", ("korea",))

    second = conv.ask("What did he hope to build on?")
    assert second.follow_up and second.scoped and not second.fell_back
    assert second.asked == "What did Takehiro Funakoshi hope to build on?"
    assert second.answer.text == "the outcome of the recent summit talks"
    assert second.answer.citations[0].article_id == "korea"
    question, filters = fake.calls[-1]
    assert filters.article_ids == ("korea",)
    # a non-name answer keeps the entity of the same topic
    assert conv.focus == Focus("Takehiro Funakoshi", ("korea",))


def test_without_the_conversation_the_decoy_wins():
    """Sanity check of the fake: the unresolved question goes to the other article."""
    answer = Scripted().ask("What did he hope to build on?")
    assert answer.citations[0].article_id == "apple"


def test_follow_up_falls_back_to_the_whole_index():
    fake = Scripted()
    conv = Conversation(fake)
    conv.ask("Who is Japan's counterpart in the dialogue?")
    turn = conv.ask("When will its store open?")  # "its": no rewrite, scoped first
    assert turn.follow_up and turn.fell_back and not turn.scoped
    assert turn.answer.text == "in March"
    assert [f.article_ids if f else () for _, f in fake.calls[-2:]] == [("korea",), ()]
    # the focus moves to the new article; "in March" is not a name
    assert conv.focus.article_ids == ("apple",)


def test_fallback_miss_keeps_scoped_related_passages():
    fake = Scripted()
    conv = Conversation(fake)
    conv.ask("Who is Japan's counterpart in the dialogue?")
    turn = conv.ask("What is his favourite food?")
    assert not turn.answer.found and turn.fell_back and turn.scoped
    assert turn.answer.related[0].article_id == "korea"
    assert conv.focus == Focus("Takehiro Funakoshi", ("korea",))  # a miss keeps the focus


def test_new_topic_drops_old_entity():
    fake = Scripted()
    conv = Conversation(fake)
    conv.ask("Who is Japan's counterpart in the dialogue?")
    conv.ask("When does the store open?")  # not a follow-up, non-name answer
    assert conv.focus == Focus(None, ("apple",))
    turn = conv.ask("What did he say?")
    assert turn.asked == "What did he say?" and turn.follow_up
    assert fake.calls[-2][1].article_ids == ("apple",)


def test_pronoun_without_history_is_a_plain_question():
    fake = Scripted()
    conv = Conversation(fake)
    turn = conv.ask("  What did he hope to build on?  ")
    assert not turn.follow_up and turn.asked == "What did he hope to build on?"
    assert fake.calls == [("What did he hope to build on?", None)]


def test_base_filters_are_kept_and_combined():
    fake = Scripted()
    base = Filters(date_from="2025-01-01", sources=("Yonhap",))
    conv = Conversation(fake, filters=base, top_k=3)
    conv.ask("Who is Japan's counterpart in the dialogue?")
    conv.ask("What did he hope to build on?")
    assert fake.calls[0][1] == base
    assert fake.calls[1][1] == Filters(
        date_from="2025-01-01", sources=("Yonhap",), article_ids=("korea",)
    )


def test_turns_are_capped_and_reset():
    conv = Conversation(Scripted(), max_turns=2)
    for _ in range(3):
        conv.ask("Who made the remark?")
    assert len(conv.turns) == 2 and conv.last.answer.text == "Park Yoon-joo"
    conv.reset()
    assert conv.turns == [] and conv.focus == Focus() and conv.last is None


def test_separate_conversations_do_not_share_state():
    fake = Scripted()
    a, b = Conversation(fake), Conversation(fake)
    a.ask("Who is Japan's counterpart in the dialogue?")
    turn = b.ask("What did he hope to build on?")
    assert not turn.follow_up
    assert turn.answer.citations[0].article_id == "apple"
