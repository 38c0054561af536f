"""Property tests of ingest: arbitrary texts, records, files and date strings never crash it."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from qa.ingest.chunking import chunk_article, count_tokens
from qa.ingest.dates import (
    complete_dateline,
    date_from_fields,
    date_from_url,
    find_dateline,
    normalise_date,
    year_in_text,
)
from qa.ingest.limits import degenerate, safe_name
from qa.ingest.parsing import (
    InputError,
    article_from_record,
    body_start,
    infer_metadata,
    read_path,
)
from qa.settings import LimitSettings
from qa.types import Article, Rejection

# Keep hypothesis's files out of the repository: no example database, and its home
# (where it would put one) in a temporary folder.
set_hypothesis_home_dir(tempfile.mkdtemp(prefix="hypothesis-ingest-"))


def _fast(examples: int) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")

# pieces that make news-like and awkward texts: words, datelines, sentence ends,
# CRLF, NUL, emoji, combining characters, odd spaces, very long words
_PIECES = st.sampled_from(
    [
        "The",
        "minister",
        "said",
        "Mr.",
        "U.S.",
        "on Friday.",
        "SEOUL, Nov. 7 (Yonhap) --",
        "date 2025-11-07",
        "WASHINGTON —",
        "!?",
        "...",
        "…",
        "\r\n",
        "\n\n",
        "\x00",
        "\t",
        "\u2028",
        "\u00a0",
        "🙂",
        "e\u0301",
        "\u0301",
        "北京",
        '"Quote."',
        "(AP)",
        "x" * 300,
        "2024",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=" \t\r\n\x0b\x0c\u2028\u3000", max_size=50),
    st.lists(st.one_of(_PIECES, st.text(max_size=12)), max_size=80).map(" ".join),
    st.lists(_PIECES, max_size=120).map("".join),
)


def _article(text: str) -> Article:
    return Article(article_id="a" * 16, title="t", text=text, origin="prop")


# ------------------------------------------------------------------ chunking
@_fast(250)
@given(text=TEXTS, max_tokens=st.integers(1, 60), overlap=st.integers(0, 30))
def test_chunk_article_invariants(text: str, max_tokens: int, overlap: int) -> None:
    article = _article(text)
    chunks = chunk_article(article, max_tokens, overlap)
    start = body_start(text)
    covered = [False] * len(text)
    for n, chunk in enumerate(chunks):
        assert chunk.ordinal == n and chunk.article_id == article.article_id
        assert text[chunk.start : chunk.end] == chunk.text  # the offset invariant
        assert start <= chunk.start < chunk.end <= len(text)  # only the body, never empty
        assert chunk.text == chunk.text.strip()
        # within budget, except a chunk that is one over-long word
        assert count_tokens(chunk.text) <= max_tokens or len(chunk.text.split()) == 1
        for i in range(chunk.start, chunk.end):
            covered[i] = True
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert before.start < after.start and before.end < after.end  # in order
    # every non-space character of the body is in some chunk
    assert all(covered[i] or text[i].isspace() for i in range(start, len(text)))


# ------------------------------------------------------------------- records
_SCALARS = st.one_of(
    st.none(),
    st.text(max_size=60),
    TEXTS,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers().map(lambda n: n * 10**320),  # past what a float holds
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=4))
_KEYS = st.one_of(
    st.sampled_from(
        [
            "text",
            "body",
            "Content",
            "title",
            "headline",
            "date",
            "published",
            "timestamp",
            "dateline",
            "url",
            "link",
            "id",
            "guid",
            "source",
            "site",
        ]
    ),
    st.text(max_size=10),
)
RECORDS = st.dictionaries(_KEYS, _VALUES, max_size=8)


@_fast(300)
@given(record=RECORDS, checked=st.booleans())
@example(record={"text": "A story.", "date": "01p15:0" + "2" * 40}, checked=True)
@example(record={"text": "A story.", "timestamp": 10**400}, checked=False)
def test_article_from_record_returns_article_or_input_error(
    record: dict[str, Any], checked: bool
) -> None:
    limits = LimitSettings(repeat_min_words=5) if checked else None
    try:
        article = article_from_record(record, "prop", limits=limits)
    except InputError as exc:
        assert str(exc)
        return
    assert isinstance(article, Article) and article.text.strip()
    assert article.date is None or _ISO.fullmatch(article.date)


@_fast(200)
@given(text=TEXTS, share=st.floats(0.0, 1.0), words=st.integers(0, 300))
def test_degenerate_returns_none_or_message(text: str, share: float, words: int) -> None:
    reason = degenerate(text, LimitSettings(max_repeat_share=share, repeat_min_words=words))
    assert reason is None or reason.startswith("degenerate text: ")


@_fast(300)
@given(name=st.text(max_size=300))
def test_safe_name_is_always_safe(name: str) -> None:
    safe = safe_name(name)
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert not safe.startswith(".") and safe not in (".", "..")
    assert len(safe) <= 120 and len(safe.encode()) <= 240
    assert all(ch.isprintable() or ch == " " for ch in safe)


# ------------------------------------------------------------------- files
_JSONISH = st.lists(
    st.sampled_from(
        [
            '{"text": ',
            '"A story."',
            '"date": "2024-01-02"',
            "}",
            "[",
            "]",
            ",",
            '{"articles": ',
            "\n",
            "1e999",
            "NaN",
            '"\\ud800"',
            "null",
            ": ",
        ]
    ),
    max_size=30,
).map("".join)
_HTMLISH = st.lists(
    st.sampled_from(
        [
            "<html>",
            "<body>",
            "<p>",
            "</p>",
            "<article>",
            "Some words here.",
            "<script>",
            "<meta name='date' content='2024-02-03'>",
            "&amp;",
            "<!--",
            "<title>T</title>",
            "\x00",
            "</html>",
        ]
    ),
    max_size=30,
).map("".join)
FILE_BYTES = st.one_of(
    st.binary(max_size=600),
    TEXTS.map(lambda t: t.encode("utf-8", "surrogatepass")),
    _JSONISH.map(str.encode),
    _HTMLISH.map(str.encode),
)


@_fast(60)
@given(data=FILE_BYTES, suffix=st.sampled_from([".txt", ".md", ".json", ".jsonl", ".html"]))
def test_read_path_yields_only_articles_and_rejections(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"input{suffix}"
        path.write_bytes(data)
        out = list(read_path(path, 10_000, LimitSettings(max_articles_per_file=5)))
    assert out  # every file gives at least one answer
    for item in out:
        assert isinstance(item, Article | Rejection)
        assert item.origin is not None and item.origin.startswith(str(path))
    assert len(out) <= 6  # five records and one rejection for the rest


# -------------------------------------------------------------------- dates
DATEISH = st.one_of(
    st.text(max_size=80),
    st.lists(
        st.sampled_from(
            [
                "2024",
                "-",
                "/",
                "Nov.",
                "7",
                ",",
                " ",
                "March",
                "31",
                "99999",
                "12:00",
                "+0900",
                "T",
                "Friday",
                "1700000000",
                "0",
                "BC",
                "AD",
            ]
        ),
        max_size=12,
    ).map("".join),
)


# found by benchmarks/fuzz_ingest.py: dateutil raised decimal.InvalidOperation
FUZZ_DATE = "01p15:0" + "2" * 40


@_fast(300)
@given(value=DATEISH)
@example(value=FUZZ_DATE)
@example(value="Fri, 14 01:15 01p15:0" + "2" * 100)
def test_date_functions_never_raise(value: str) -> None:
    results = [
        normalise_date(value),
        date_from_url(value),
        date_from_url("https://x.example/" + value),
        date_from_fields({"date": value, "published": value}),
    ]
    dateline = find_dateline(value)
    if dateline is not None:
        assert 0 <= dateline.start <= dateline.end <= len(value)
        results.append(dateline.date)
    results.append(complete_dateline(dateline, value))
    results.append(infer_metadata(value)[0])
    for found in results:
        assert found is None or _ISO.fullmatch(found)
    year = year_in_text(value)
    assert year is None or 0 <= year <= 9999


@_fast(150)
@given(
    value=st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(st.text(), _SCALARS))
)
def test_normalise_date_never_raises_on_json_values(value: Any) -> None:
    found = normalise_date(value)
    assert found is None or _ISO.fullmatch(found)
