"""Unit tests for qa.chunking: exact offsets, sentence boundaries, budgets, overlap, ids."""

from __future__ import annotations

import bisect
import json
import random
import re
from pathlib import Path

import pytest

from qa.ingest.chunking import (
    chunk_article,
    chunk_id,
    chunk_spans,
    count_tokens,
    embedding_text,
    iter_chunks,
    sentence_spans,
)
from qa.ingest.parsing import article_from_record, body_start
from qa.settings import Settings
from qa.types import Article, Chunk

SETTINGS = Settings()
MAX, OVERLAP = SETTINGS.chunking.max_tokens, SETTINGS.chunking.overlap_tokens
SAMPLE = Path(__file__).resolve().parents[2] / "qa" / "sample" / "000_6c212dc43d020d0e.txt"
BBC = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "bbc_news"
    / "bbc_news_2004-2005.jsonl"
)


# ------------------------------------------------------------ random texts
_VOCAB = (
    "the a minister said on Friday talks would resume next week amid growing pressure from "
    "markets rose 3.5% to $1.13bn while analysts expected gains café Zürich naïve São Paulo "
    "北京 東京 Ελλάδα emoji🙂 well-known state-of-the-art e-mail 10,000 2004-05 it's "
    "internationalisation counterrevolutionaries pneumonoultramicroscopic"
)
_WORDS = _VOCAB.split()
_OPENERS = [
    "Mr. Smith",
    "Mrs. Jones",
    "Dr. Lee",
    "Prof. Kim",
    "Gov. Newsom",
    "Sen. Warren",
    "The U.S.",
    "The U.K. government",
    "J. K. Rowling",
    "George W. Bush",
    "President Lee Jae Myung",
    "St. Petersburg officials",
    "Acme Inc.",
    "At 5 p.m. officials",
    "On Jan. 3 the court",
    "\u201cWe will win,\u201d she said, and",
    '"No comment," he said, and',
    "In 2004 the firm",
]
_ENDS = [".", ".", ".", "?", "!", '."', ".\u201d", ")."]


def _sentence(rng: random.Random) -> str:
    n = rng.choice([3, 6, 10, 18, 30])
    words = [rng.choice(_WORDS) for _ in range(n)]
    if rng.random() < 0.15:
        words.insert(rng.randrange(len(words)), "(e.g. U.S. firms etc.)")
    return f"{rng.choice(_OPENERS)} {' '.join(words)}{rng.choice(_ENDS)}"


def _random_text(rng: random.Random) -> str:
    parts: list[str] = []
    if rng.random() < 0.2:
        parts.append(" date 2025-11-07 ")
    elif rng.random() < 0.2:
        parts.append("Random headline about things\n\n")
    for _ in range(rng.randint(1, 25)):
        roll = rng.random()
        if roll < 0.07:  # one very long sentence with no punctuation at all
            parts.append(" ".join(rng.choice(_WORDS) for _ in range(rng.randint(150, 500))))
        elif roll < 0.09:  # one enormous "word"
            parts.append("x" * rng.randint(100, 2500))
        else:
            parts.append(_sentence(rng))
        parts.append(rng.choice([" ", " ", "  ", "\n", "\n\n", " \n \n", "\t", "\r\n\r\n"]))
    if rng.random() < 0.3:
        parts.append("(Yonhap)")
    return "".join(parts)


def _random_articles(n: int, seed: int) -> list[Article]:
    rng = random.Random(seed)
    return [
        article_from_record({"id": f"rand-{seed}-{i}", "text": _random_text(rng)}, "test")
        for i in range(n)
    ]


# ------------------------------------------------------------ invariants
def check_chunks(
    article: Article, chunks: list[Chunk], max_tokens: int, overlap_tokens: int
) -> None:
    """Every property a chunking of ``article`` must have."""
    text = article.text
    begin = body_start(text)
    assert chunks, "a non-empty body gives at least one chunk"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for c in chunks:
        assert c.article_id == article.article_id
        assert text[c.start : c.end] == c.text
        assert begin <= c.start < c.end <= len(text)
        assert not c.text[0].isspace() and not c.text[-1].isspace(), repr(
            c.text[:20] + "…" + c.text[-20:]
        )
        # starts on a word boundary (sentence start, or a word of an over-long sentence)
        assert c.start == begin or text[c.start - 1].isspace(), repr(
            text[c.start - 10 : c.start + 10]
        )
        assert c.end == len(text) or text[c.end].isspace() or text[c.end - 1] in ".!?…\"'”’)]", (
            repr(text[c.end - 10 : c.end + 10])
        )
        tokens = count_tokens(c.text)
        assert tokens <= max_tokens or len(c.text.split()) == 1, (tokens, c.text[:80])
        assert c.chunk_id == chunk_id(article.article_id, c.start, c.end, c.text)
        assert 0 <= c.chunk_id < 2**63
    for prev, nxt in zip(chunks, chunks[1:], strict=False):
        assert nxt.start > prev.start, "chunks never go backwards"
        assert nxt.end >= prev.end, "chunks never go backwards"
        assert text[prev.end : nxt.start].strip() == "", "no gap between consecutive chunks"
        if nxt.start < prev.end:
            overlap = count_tokens(text[nxt.start : prev.end])
            assert overlap <= overlap_tokens, (overlap, overlap_tokens)
    # every non-space character of the body is inside some chunk (consecutive gaps checked above)
    assert text[begin : chunks[0].start].strip() == ""
    assert text[chunks[-1].end :].strip() == ""
    # every sentence that fits the budget lies whole inside one chunk
    starts = [c.start for c in chunks]
    for a, b in sentence_spans(text, begin):
        if count_tokens(text[a:b]) <= max_tokens:
            holder = chunks[
                bisect.bisect_right(starts, a) - 1
            ]  # last chunk starting at or before a
            assert holder.start <= a and b <= holder.end, repr(text[a:b][:80])
    assert len({c.chunk_id for c in chunks}) == len(chunks)


@pytest.mark.parametrize(
    ("max_tokens", "overlap_tokens"), [(MAX, OVERLAP), (40, 10), (12, 0), (25, 24), (8, 3)]
)
def test_random_texts_invariants(max_tokens: int, overlap_tokens: int) -> None:
    articles = _random_articles(60, seed=max_tokens * 100 + overlap_tokens)
    all_ids: set[int] = set()
    n_chunks = 0
    for article in articles:
        chunks = chunk_article(article, max_tokens, overlap_tokens)
        check_chunks(article, chunks, max_tokens, overlap_tokens)
        assert chunk_article(article, max_tokens, overlap_tokens) == chunks  # deterministic
        all_ids.update(c.chunk_id for c in chunks)
        n_chunks += len(chunks)
    assert len(all_ids) == n_chunks  # unique across articles too
    assert n_chunks > len(articles)  # the generator really produces multi-chunk articles


def test_sample_article_chunks() -> None:
    article = article_from_record(
        {"text": SAMPLE.read_text(encoding="utf-8")}, str(SAMPLE), key="sample"
    )
    chunks = chunk_article(article, MAX, OVERLAP)
    check_chunks(article, chunks, MAX, OVERLAP)
    assert chunks[0].text.startswith("A senior South Korean diplomat")  # dateline skipped
    assert chunks[-1].text.endswith("(Yonhap)")
    assert len(chunks) >= 2


def test_bbc_corpus_invariants() -> None:
    if not BBC.exists():
        pytest.skip(f"{BBC} not available")
    records = [
        json.loads(line) for line in BBC.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    assert len(records) > 2000
    articles = [article_from_record(r, f"bbc:{n}") for n, r in enumerate(records)]
    ids: set[int] = set()
    total = 0
    for article in articles:
        chunks = chunk_article(article, MAX, OVERLAP)
        check_chunks(article, chunks, MAX, OVERLAP)
        ids.update(c.chunk_id for c in chunks)
        total += len(chunks)
    assert len(ids) == total
    assert total > len(articles)


def test_iter_chunks_in_order() -> None:
    articles = _random_articles(5, seed=7)
    expected = [c for a in articles for c in chunk_article(a, 30, 5)]
    assert list(iter_chunks(articles, 30, 5)) == expected


def test_chunk_ids_depend_on_article_and_offsets() -> None:
    base = chunk_id("a" * 16, 0, 5, "Hello")
    assert base == chunk_id("a" * 16, 0, 5, "Hello")
    assert (
        len(
            {
                base,
                chunk_id("b" * 16, 0, 5, "Hello"),
                chunk_id("a" * 16, 1, 6, "Hello"),
                chunk_id("a" * 16, 0, 5, "Hellp"),
            }
        )
        == 4
    )


# --------------------------------------------------- redundant chunks (bug)
def test_each_chunk_adds_new_text() -> None:
    # costs: "Aa bb." 3, "Cc dd ee ff." 5, "Gg ... oo." 10 (budget 10, overlap 8)
    text = "Aa bb. Cc dd ee ff. Gg hh ii jj kk ll mm nn oo."
    spans = chunk_spans(text, 10, 8)
    for (_, b0), (_, b1) in zip(spans, spans[1:], strict=False):
        assert b1 > b0, spans  # actual: [(0, 19), (7, 19), (20, 47)]


# ------------------------------------------------------------ sentences
def _sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def test_sentence_spans_keep_abbreviations_and_initials() -> None:
    text = (
        "Mr. Smith met Dr. Jones in the U.S. capital. J. K. Rowling and George W. Bush did not. "
        "Talks (e.g. on trade) ended at 5 p.m. on Jan. 3 without a deal. "
        "Shares rose 3.5% to $1.13bn! Was it worth it? \u201cYes.\u201d She left."
    )
    assert _sentences(text) == [
        "Mr. Smith met Dr. Jones in the U.S. capital.",
        "J. K. Rowling and George W. Bush did not.",
        "Talks (e.g. on trade) ended at 5 p.m. on Jan. 3 without a deal.",
        "Shares rose 3.5% to $1.13bn!",
        "Was it worth it?",
        "\u201cYes.\u201d",
        "She left.",
    ]


@pytest.mark.parametrize(
    "abbr", ["Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Gen.", "Sen.", "St.", "Inc.", "vs."]
)
def test_no_split_after_abbreviation(abbr: str) -> None:
    text = f"He spoke with {abbr} Brown about it. Then he left."
    assert _sentences(text) == [f"He spoke with {abbr} Brown about it.", "Then he left."]


def test_sentence_spans_paragraphs_quotes_and_offsets() -> None:
    text = (
        '  He said: "We are done." Then he left\n\nNew paragraph without a stop\nstill going. End'
    )
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == [
        'He said: "We are done."',
        "Then he left",
        "New paragraph without a stop\nstill going.",
        "End",
    ]
    for a, b in spans:
        assert not text[a].isspace() and not text[b - 1].isspace()
    # lower-case after a full stop is not a sentence start
    assert _sentences("It cost 5 dollars. and more. Fine.") == [
        "It cost 5 dollars. and more.",
        "Fine.",
    ]


def test_sentence_spans_with_range() -> None:
    text = "IGNORED. First one. Second one. IGNORED TOO."
    start, end = text.index("First"), text.index("IGNORED TOO") - 1
    spans = sentence_spans(text, start, end)
    assert [text[a:b] for a, b in spans] == ["First one.", "Second one."]
    assert sentence_spans("   \n\n  ") == []


# ------------------------------------------------------------- budgets
def test_count_tokens() -> None:
    assert count_tokens("") == 0
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("internationalisation") == 1 + len("internationalisation") // 8
    assert count_tokens("a b") == count_tokens("a") + count_tokens("b")


def test_long_sentence_is_cut_at_word_boundaries() -> None:
    text = " ".join(f"w{i}" for i in range(100))  # 100 one-token words, no punctuation
    spans = chunk_spans(text, 30, 0)
    assert len(spans) == 4
    pieces = [text[a:b] for a, b in spans]
    assert all(count_tokens(p) <= 30 for p in pieces)
    assert " ".join(pieces) == text


def test_unsplittable_word_is_its_own_chunk() -> None:
    word = "y" * 400  # 51 tokens, over a budget of 20
    text = f"Short one. {word} Another short one."
    pieces = [text[a:b] for a, b in chunk_spans(text, 20, 5)]
    assert word in pieces
    assert all(count_tokens(p) <= 20 for p in pieces if p != word)


def test_overlap_is_whole_sentences() -> None:
    sentences = [f"Sentence number {i} is here." for i in range(12)]  # 7 tokens each
    assert {count_tokens(s) for s in sentences} == {7}
    text = " ".join(sentences)
    spans = chunk_spans(text, 21, 7)
    chunks = [text[a:b] for a, b in spans]
    assert chunks[0] == " ".join(sentences[0:3])
    assert chunks[1] == " ".join(sentences[2:5])  # one sentence (7 <= 7 tokens) carried over
    assert chunks[-1].endswith(sentences[-1])
    no_overlap = [text[a:b] for a, b in chunk_spans(text, 21, 0)]
    assert no_overlap == [" ".join(sentences[i : i + 3]) for i in range(0, 12, 3)]


def test_empty_body_has_no_chunks() -> None:
    article = Article("a" * 16, "t", " date 2025-11-07 ")
    assert chunk_article(article, MAX, OVERLAP) == []


# -------------------------------------------------------- embedding text
def test_embedding_text_prepends_title_and_date() -> None:
    article = Article(
        "a" * 16, "Rates rise", "The bank raised rates. It was expected.", date="2024-01-08"
    )
    chunk = chunk_article(article, MAX, OVERLAP)[0]
    assert embedding_text(article, chunk) == f"Rates rise (2024-01-08). {chunk.text}"
    undated = Article("a" * 16, "Rates rise", article.text)
    assert embedding_text(undated, chunk) == f"Rates rise. {chunk.text}"
    headed = Article(
        "b" * 16, "Rates rise", "Rates rise\n\nThe bank raised rates.", date="2024-01-08"
    )
    first = chunk_article(headed, MAX, OVERLAP)[0]
    assert embedding_text(headed, first) == first.text  # headline already in the chunk


@pytest.mark.slow
def test_embedding_text_fits_the_encoder_window(real_encoder) -> None:  # noqa: ANN001
    """Title + date + chunk stays within the model's 256 word pieces for >= 99% of BBC chunks."""
    if not BBC.exists():
        pytest.skip(f"{BBC} not available")
    records = [
        json.loads(line) for line in BBC.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    # BBC records carry no date; give every one a date so the worst case is measured
    articles = [article_from_record({**r, "date": "2005-03-14"}, "bbc") for r in records]
    texts = [embedding_text(a, c) for a in articles for c in chunk_article(a, MAX, OVERLAP)]
    tokenizer = real_encoder.tokenizer
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
    within = sum(n <= 256 for n in lengths) / len(lengths)
    print(
        f"\n{within:.2%} of {len(lengths)} BBC chunks fit in 256 word pieces (max {max(lengths)})"
    )
    assert within >= 0.99
    assert re.search(r"\(2005-03-14\)\. ", texts[0]) or texts[0].startswith(articles[0].title)
