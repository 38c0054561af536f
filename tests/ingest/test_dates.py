"""Unit tests for article dates at ingest: fields, formats, datelines, URLs, precedence."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from qa.ingest.dates import date_from_url, find_dateline, normalise_date
from qa.ingest.parsing import article_from_record, body_start, infer_metadata, read_path
from qa.types import Article

SAMPLE = Path(__file__).resolve().parents[2] / "qa" / "sample" / "000_6c212dc43d020d0e.txt"
MAX = 10_000_000
BODY = "South Korea's exports rose 5 percent in October. Chip sales led the gains."


def _article(record: dict[str, Any]) -> Article:
    """Parse ``record`` and check the text is kept verbatim."""
    article = article_from_record(record, "test")
    text = next(v for k, v in record.items() if k in ("text", "body"))
    assert article.text == text  # never modified: offsets point into it
    return article


def _body_at(text: str, body: str) -> None:
    """``body_start`` lands exactly where ``body`` begins."""
    assert text[body_start(text) :].startswith(body), repr(text[body_start(text) :][:40])


def _one(path: Path) -> Article:
    out = list(read_path(path, MAX))
    assert len(out) == 1 and isinstance(out[0], Article), out
    return out[0]


# ---------------------------------------------------------------- field names
@pytest.mark.parametrize(
    "field",
    [
        "date",
        "published",
        "published_at",
        "publish_date",
        "publishedAt",
        "pubDate",
        "datePublished",
        "dateline",
        "created_at",
        "timestamp",
        "time",
        "datetime",
        "DATE",
        "PublishedAt",
    ],
)
def test_date_field_names(field: str) -> None:
    article = _article({"text": BODY, field: "2025-11-07"})
    assert article.date == "2025-11-07"
    _body_at(article.text, BODY)


def test_unreadable_field_falls_through_to_the_next_one() -> None:
    record = {"text": BODY, "date": {"$date": "2025-11-01"}, "pubDate": "7 Nov 2025"}
    assert _article(record).date == "2025-11-07"
    record = {"text": BODY, "date": "sometime", "published": "2099-01-01", "time": 1762506900}
    assert _article(record).date == "2025-11-07"


# -------------------------------------------------------------- value formats
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-07", "2025-11-07"),
        ("2025-11-07T09:15:00Z", "2025-11-07"),
        ("2025/11/07", "2025-11-07"),
        ("November 7, 2025", "2025-11-07"),
        ("7 Nov 2025", "2025-11-07"),
        ("Friday, November 7, 2025 9:15 AM EST", "2025-11-07"),
        ("November 2025", "2025-11-01"),  # month precision: the 1st, as before
        # time zones are not converted: the calendar date is the one written
        ("Fri, 07 Nov 2025 09:15:00 +0900", "2025-11-07"),
        ("Sat, 08 Nov 2025 01:00:00 +0900", "2025-11-08"),  # 2025-11-07 in UTC
        ("2025-11-07T23:30:00-05:00", "2025-11-07"),  # 2025-11-08 in UTC
        # Unix seconds (numbers or digit strings), YYYYMMDD integers
        (1762506900, "2025-11-07"),
        (1762506900.5, "2025-11-07"),
        ("1762506900", "2025-11-07"),
        (20251107, "2025-11-07"),
        (datetime(2025, 11, 7, 9, 15), "2025-11-07"),
        (date(2025, 11, 7), "2025-11-07"),
        # no year, no month: never completed with a default year
        ("Nov. 7", None),
        ("November 7", None),
        ("7 Nov", None),
        ("2025", None),
        ("10:30", None),
        # absurd timestamps: milliseconds, tiny, negative, NaN, booleans
        (1762506900000, None),
        (2025, None),
        (-5, None),
        (float("nan"), None),
        (True, None),
        # out of range, unreadable, dicts and lists
        ("2099-01-01", None),
        ("1899-12-31", None),
        ("2025-02-30", None),
        ("next Tuesday", None),
        ({"$date": "2025-11-07"}, None),
        (["2025-11-07"], None),
    ],
)
def test_date_values(value: object, expected: str | None) -> None:
    assert normalise_date(value) == expected
    article = _article({"text": BODY, "date": value})
    assert article.date == expected
    _body_at(article.text, BODY)


def test_future_limit_is_today_plus_two_days() -> None:
    today = date(2025, 11, 7)
    assert normalise_date("2025-11-09", today=today) == "2025-11-09"
    assert normalise_date("2025-11-10", today=today) is None
    assert normalise_date("1900-01-01", today=today) == "1900-01-01"


def test_future_date_is_ignored_not_kept() -> None:
    assert _article({"text": BODY, "date": "2099-01-01"}).date is None
    text = " date 2099-01-01 " + BODY
    article = _article({"text": text})
    assert article.date is None
    _body_at(text, BODY)  # still a dateline: the body starts after it


# ------------------------------------------------------------------ datelines
@pytest.mark.parametrize(
    ("dateline", "expected_date", "expected_source"),
    [
        (" date 2025-11-07 ", "2025-11-07", None),
        ("Date: 2024-02-29\n\n", "2024-02-29", None),
        ("SEOUL, Nov. 7 (Yonhap) -- ", None, "Yonhap"),
        ("WASHINGTON, March 3, 2024 (AP) — ", "2024-03-03", "AP"),
        ("WASHINGTON, D.C., March 3, 2024 (AP) — ", "2024-03-03", "AP"),
        ("LONDON, Jan 5 (Reuters) - ", None, "Reuters"),
        ("PARIS (AFP) - ", None, "AFP"),
        ("SAN FRANCISCO, Calif. (AP) — ", None, "AP"),
        ("NEW YORK — ", None, None),
        ("Tokyo, 7 November 2025 – ", "2025-11-07", None),
        ("Headline about exports\n\nSEOUL, Nov. 7 (Yonhap) -- ", None, "Yonhap"),
        ("Headline about exports\nWASHINGTON, March 3, 2024 (AP) — ", "2024-03-03", "AP"),
    ],
)
def test_datelines(dateline: str, expected_date: str | None, expected_source: str | None) -> None:
    text = dateline + BODY
    assert infer_metadata(text) == (expected_date, expected_source)
    article = _article({"text": text})
    assert article.date == expected_date  # year-less with no other evidence: undated
    assert article.source == expected_source
    _body_at(text, BODY)


def test_headline_before_a_dateline_is_the_title() -> None:
    text = "Exports rise for a third month\nSEOUL, Nov. 7 (Yonhap) -- " + BODY
    article = _article({"text": text})
    assert article.title == "Exports rise for a third month"
    _body_at(text, BODY)


@pytest.mark.parametrize(
    "text",
    [
        "US-China talks resumed on Friday in Geneva. Both sides were upbeat.",
        "Monday, Nov. 7 — the council met again. Nothing was decided.",
        "Apple (AAPL) - shares fell 3 percent. Analysts shrugged.",
        "The mayor - who was re-elected - spoke first. Then the crowd left.",
    ],
)
def test_not_datelines(text: str) -> None:
    assert find_dateline(text) is None
    assert body_start(text) == 0
    assert _article({"text": text}).date is None


def test_text_that_is_only_a_dateline_has_an_empty_body() -> None:
    text = "SEOUL, Nov. 7 (Yonhap) --\n"
    assert body_start(text) == len(text)
    assert infer_metadata(text) == (None, "Yonhap")


def test_sample_file_keeps_its_dateline_date() -> None:
    article = _one(SAMPLE)
    text = SAMPLE.read_text(encoding="utf-8")
    assert article.text == text
    assert article.date == "2025-11-07"
    _body_at(text, "A senior South Korean diplomat")


# ------------------------------------------------------- year-less datelines
YEARLESS = "SEOUL, Nov. 7 (Yonhap) -- " + BODY


def test_yearless_dateline_with_record_date() -> None:
    article = _article({"text": YEARLESS, "date": "2025-11-07"})
    assert (article.date, article.source) == ("2025-11-07", "Yonhap")
    _body_at(YEARLESS, BODY)


def test_yearless_dateline_prefers_a_different_metadata_date() -> None:
    article = _article({"text": YEARLESS, "published": "2025-11-08T01:00:00+09:00"})
    assert article.date == "2025-11-08"


def test_yearless_dateline_with_url_date() -> None:
    record = {"text": YEARLESS, "url": "https://en.yna.co.kr/2025/11/07/exports"}
    assert _article(record).date == "2025-11-07"


def test_yearless_dateline_without_other_evidence_is_undated() -> None:
    article = _article({"text": YEARLESS})
    assert article.date is None
    assert article.source == "Yonhap"
    _body_at(YEARLESS, BODY)


def test_yearless_dateline_takes_the_year_of_a_full_date_in_the_body() -> None:
    for later in ("Nov. 7, 2025", "7 November 2025", "2025-10-31"):
        text = YEARLESS + f" The data were released on {later}, officials said."
        article = _article({"text": text})
        assert article.date == "2025-11-07", later
        _body_at(text, BODY)
    text = "LONDON, Jan 5 (Reuters) - Markets opened lower on March 2, 2024 and stayed down."
    assert _article({"text": text}).date == "2024-01-05"


def test_yearless_dateline_ignores_dates_past_the_first_600_body_characters() -> None:
    text = YEARLESS + " " + "Filler sentence here. " * 30 + "It was Nov. 7, 2025."
    assert text.index("Nov. 7, 2025") - body_start(text) > 600
    assert _article({"text": text}).date is None


def test_yearless_feb_29_needs_a_leap_year() -> None:
    leap = "ROME, Feb. 29 (ANSA) - Rain fell all day. It was Feb. 29, 2024 in the capital."
    assert _article({"text": leap}).date == "2024-02-29"
    plain = "ROME, Feb. 29 (ANSA) - Rain fell all day. A year later, on March 1, 2025, it did not."
    assert _article({"text": plain}).date is None


# ----------------------------------------------------------------------- URLs
@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://edition.cnn.com/2022/06/12/politics/story/index.html", "2022-06-12"),
        ("https://example.com/news/2022-06-12/story", "2022-06-12"),
        ("https://example.com/2022/6/12/story", "2022-06-12"),
        ("https://example.com/2022/06/12", "2022-06-12"),
        ("https://example.com/2024/02/rates", None),  # no day: not a date
        ("https://example.com/2022/13/40/x", None),
        ("https://example.com/2099/01/01/x", None),
        ("https://example.com/story?d=/2022/06/12/", None),  # the path only
        (None, None),
    ],
)
def test_url_dates(url: str | None, expected: str | None) -> None:
    assert date_from_url(url) == expected
    record: dict[str, Any] = {"text": BODY}
    if url:
        record["url"] = url
    assert _article(record).date == expected


# ----------------------------------------------------------------- precedence
def test_precedence_field_over_dateline_over_url_over_yearless() -> None:
    dated = "WASHINGTON, March 3, 2024 (AP) — " + BODY
    url = "https://example.com/2023/05/06/story"
    assert _article({"text": dated, "date": "2024-03-01", "url": url}).date == "2024-03-01"
    assert _article({"text": dated, "url": url}).date == "2024-03-03"
    completed = YEARLESS + " Figures for Nov. 1, 2024 were revised."
    assert _article({"text": completed}).date == "2024-11-07"
    assert _article({"text": completed, "url": url}).date == "2023-05-06"
    assert _article({"text": BODY, "date": "not a date", "url": url}).date == "2023-05-06"
    assert _article({"text": BODY}).date is None


PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Central bank raises rates again | Example News</title>
<meta property="og:site_name" content="Example News">
{meta}
</head><body>
<article>
<h1>Central bank raises rates again</h1>
<p>STOCKHOLM, March 3, 2024 (AP) — The central bank raised its benchmark interest rate by a
quarter point on Saturday, the third increase this year, citing persistent inflation.</p>
<p>Governor Maria Lindqvist told reporters that further increases were possible if wage growth
did not slow in the coming months.</p>
<p>Markets had largely expected the move, and the currency was little changed after the
announcement.</p>
</article>
<footer>Copyright 2023 Example News. All rights reserved.</footer>
</body></html>
"""


def test_html_metadata_date_wins_over_the_dateline(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(meta='<meta name="date" content="2024-02-03">'), encoding="utf-8")
    article = _one(path)
    assert article.date == "2024-02-03"
    _body_at(article.text, "The central bank raised")


def test_html_without_metadata_date_uses_the_dateline_not_the_copyright(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE.format(meta=""), encoding="utf-8")
    article = _one(path)
    assert article.date == "2024-03-03"  # not 2023-01-01 from "Copyright 2023"
    assert article.title == "Central bank raises rates again"


def test_json_file_dates(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    records = [
        {"id": "a", "text": YEARLESS, "pubDate": "Fri, 07 Nov 2025 09:15:00 +0900"},
        {"id": "b", "text": YEARLESS},
        {"id": "c", "text": BODY, "publishedAt": "2099-01-01T00:00:00Z"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    out = list(read_path(path, MAX))
    assert all(isinstance(a, Article) for a in out), out
    assert [a.date for a in out if isinstance(a, Article)] == ["2025-11-07", None, None]
    for article, record in zip(out, records, strict=True):
        assert isinstance(article, Article) and article.text == record["text"]
        _body_at(article.text, BODY)
