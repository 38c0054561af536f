"""Unit tests for qa.parsing: file formats, metadata inference, rejections, ids."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.ingest.parsing import (
    InputError,
    article_from_record,
    body_start,
    infer_metadata,
    iter_files,
    lead_sentence,
    normalise_date,
    read_path,
)
from qa.types import Article, Rejection

SAMPLE = Path(__file__).resolve().parents[2] / "qa" / "sample" / "000_6c212dc43d020d0e.txt"
MAX = 10_000_000

BBC_STYLE = (
    "Ad sales boost Time Warner profit\n"
    "\n"
    "Quarterly profits at US media giant TimeWarner jumped 76% to $1.13bn for the three months "
    "to December. The firm benefited from sales of high-speed internet connections.\n"
    "\n"
    "Time Warner said on Friday that it now owns 8% of search-engine Google.\n"
)


def _read(path: Path, max_bytes: int = MAX) -> list[Article | Rejection]:
    return list(read_path(path, max_bytes))


def _one_article(path: Path) -> Article:
    out = _read(path)
    assert len(out) == 1, out
    assert isinstance(out[0], Article), out[0]
    return out[0]


def _one_rejection(path: Path, max_bytes: int = MAX) -> Rejection:
    out = _read(path, max_bytes)
    assert len(out) == 1, out
    assert isinstance(out[0], Rejection), out[0]
    assert out[0].origin == str(path)
    return out[0]


# --------------------------------------------------------------- sample article
def test_sample_article_dateline_source_title_body() -> None:
    article = _one_article(SAMPLE)
    text = SAMPLE.read_text(encoding="utf-8")
    assert article.text == text  # the original text is kept verbatim (offsets point into it)
    assert article.date == "2025-11-07"
    assert article.source == "Yonhap"
    assert article.url is None
    assert article.origin == str(SAMPLE)
    # the title is the lead sentence of the body, not the dateline
    assert article.title.startswith("A senior South Korean diplomat on Friday called on Japan")
    assert "date" not in article.title.lower().split()[:2]
    assert "2025-11-07" not in article.title
    assert len(article.title) <= 201
    # body_start skips " date 2025-11-07 "
    start = body_start(text)
    assert text[start:].startswith("A senior South Korean diplomat")
    assert "2025-11-07" not in text[start : start + 200]
    assert len(article.article_id) == 16 and int(article.article_id, 16) >= 0
    assert len(article.content_hash) == 32


def test_lead_sentence_and_truncation() -> None:
    assert lead_sentence("First sentence here. Second one follows.") == "First sentence here."
    assert lead_sentence("  Only a line\nSecond line. More.") == "Only a line"
    long = " ".join(["word"] * 100) + "."
    short = lead_sentence(long, limit=50)
    assert short.endswith("…")
    assert len(short) <= 51
    assert long.startswith(short[:-1])


def test_dateline_variants() -> None:
    text = "Date: 2024-02-29\n\nThe leap day story begins here. It continues."
    assert infer_metadata(text) == ("2024-02-29", None)
    assert text[body_start(text) :].startswith("The leap day story")
    wire = (
        "SEOUL, Nov. 7 (Yonhap) -- South Korea's exports rose 5 percent in October. More follows."
    )
    date, source = infer_metadata(wire)
    assert date is None and source == "Yonhap"
    assert wire[body_start(wire) :].startswith("South Korea's exports")
    article = article_from_record({"text": wire}, "t")
    assert article.source == "Yonhap"
    assert article.title == "South Korea's exports rose 5 percent in October."
    # no dateline: body_start only skips leading whitespace
    plain = "  \n Plain text starts here."
    assert plain[body_start(plain) :] == "Plain text starts here."


def test_trailing_credit_is_source_only_at_the_end() -> None:
    assert infer_metadata("Prices rose sharply. (AFP)")[1] == "AFP"
    assert infer_metadata("Prices rose sharply. (AFP)  \n")[1] == "AFP"
    assert (
        infer_metadata(
            "The agency (AFP) said prices rose sharply in the third quarter of the year."
        )[1]
        is None
    )


# ------------------------------------------------------------------- txt / md
def test_bbc_style_txt_headline_becomes_title(tmp_path: Path) -> None:
    path = tmp_path / "bbc.txt"
    path.write_text(BBC_STYLE, encoding="utf-8")
    article = _one_article(path)
    assert article.title == "Ad sales boost Time Warner profit"
    assert article.text == BBC_STYLE
    assert article.date is None and article.source is None


def test_headline_with_crlf_line_endings(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes(BBC_STYLE.replace("\n", "\r\n").encode("utf-8"))
    article = _one_article(path)
    assert article.title == "Ad sales boost Time Warner profit"


def test_txt_without_headline_uses_lead_sentence(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text(
        "The mayor opened a new bridge on Monday. Traffic was heavy.\n", encoding="utf-8"
    )
    assert _one_article(path).title == "The mayor opened a new bridge on Monday."


def test_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf" + BBC_STYLE.encode("utf-8"))
    article = _one_article(path)
    assert not article.text.startswith("\ufeff")
    assert article.title == "Ad sales boost Time Warner profit"


def test_markdown_file(tmp_path: Path) -> None:
    path = tmp_path / "note.MD"
    path.write_text(
        "Markets rally on rate hopes\n\nStocks rose 2% on Tuesday. Bonds fell.\n", encoding="utf-8"
    )
    article = _one_article(path)
    assert article.title == "Markets rally on rate hopes"
    assert "Stocks rose 2% on Tuesday." in article.text


# ----------------------------------------------------------------------- json
RECORD = {
    "id": "r1",
    "title": "Rates rise",
    "text": "The bank raised rates on Monday.",
    "date": "2024-01-08",
}


def test_json_single_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(RECORD), encoding="utf-8")
    article = _one_article(path)
    assert (article.title, article.text, article.date) == (
        "Rates rise",
        RECORD["text"],
        "2024-01-08",
    )
    assert article.origin == str(path)


def test_json_list_and_articles_wrapper(tmp_path: Path) -> None:
    second = {"title": "Snow in Paris", "text": "Snow fell in Paris on Sunday.", "source": "AFP"}
    for name, payload in (
        ("list.json", [RECORD, second]),
        ("wrapped.json", {"articles": [RECORD, second]}),
    ):
        path = tmp_path / name
        path.write_text(json.dumps(payload), encoding="utf-8")
        out = [x for x in _read(path) if isinstance(x, Article)]
        assert len(out) == 2
        assert [a.title for a in out] == ["Rates rise", "Snow in Paris"]
        assert [a.origin for a in out] == [f"{path}[0]", f"{path}[1]"]
        assert out[1].source == "AFP"


def test_json_list_with_a_bad_item_keeps_the_others(tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([RECORD, {"title": "no text"}, "just a string"]), encoding="utf-8")
    out = _read(path)
    assert isinstance(out[0], Article)
    assert isinstance(out[1], Rejection) and out[1].origin == f"{path}[1]"
    assert "missing text field" in out[1].reason
    assert isinstance(out[2], Rejection) and out[2].origin == f"{path}[2]"
    assert "expected a JSON object" in out[2].reason and "str" in out[2].reason


def test_malformed_json_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"title": "x",\n "text": }', encoding="utf-8")
    rejection = _one_rejection(path)
    assert "malformed JSON" in rejection.reason and "line 2" in rejection.reason


# ---------------------------------------------------------------------- jsonl
def test_jsonl_malformed_line_rejected_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"id": "1", "text": "First story text."}),
        "",
        '{"id": "2", "text": "broken',
        json.dumps({"id": "3", "text": "Third story text."}),
        json.dumps({"id": "4", "title": "no body"}),
        json.dumps(["not", "an", "object"]),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _read(path)
    articles = [x for x in out if isinstance(x, Article)]
    rejections = {x.origin: x.reason for x in out if isinstance(x, Rejection)}
    assert [a.text for a in articles] == ["First story text.", "Third story text."]
    assert [a.origin for a in articles] == [f"{path}:1", f"{path}:4"]
    assert set(rejections) == {f"{path}:3", f"{path}:5", f"{path}:6"}
    assert "malformed JSON line" in rejections[f"{path}:3"]
    assert "missing text field" in rejections[f"{path}:5"]
    assert "expected a JSON object" in rejections[f"{path}:6"]


def test_jsonl_line_separator_inside_string_is_not_a_line_break(tmp_path: Path) -> None:
    path = tmp_path / "u2028.jsonl"
    first = json.dumps(
        {"id": "x", "text": "Line one\u2028line two. More text."}, ensure_ascii=False
    )
    second = json.dumps({"id": "y", "text": "Second record."})
    path.write_text(first + "\n" + second + "\n", encoding="utf-8")
    out = _read(path)
    assert all(isinstance(x, Article) for x in out), out
    assert [a.origin for a in out] == [f"{path}:1", f"{path}:2"]


# -------------------------------------------------------------- field aliases
def test_field_aliases() -> None:
    record = {
        "Headline": "Storm hits coast",
        "body": "A storm hit the coast on Tuesday. Thousands lost power.",
        "published": "2023-09-12T08:30:00Z",
        "publisher": " Reuters ",
        "link": "https://example.com/storm",
    }
    article = article_from_record(record, "api")
    assert article.title == "Storm hits coast"
    assert article.text == record["body"]
    assert article.date == "2023-09-12"
    assert article.source == "Reuters"
    assert article.url == "https://example.com/storm"
    assert article.origin == "api"


def test_empty_fields_fall_through_to_the_next_alias() -> None:
    article = article_from_record(
        {"text": "", "body": "Real body. Here.", "date": "", "published": "2020-1-2"}, "o"
    )
    assert article.text == "Real body. Here."
    assert article.date == "2020-01-02"


def test_record_date_wins_over_inline_dateline() -> None:
    article = article_from_record(
        {"text": " date 2025-11-07 Body text here.", "date": "2024-05-06"}, "o"
    )
    assert article.date == "2024-05-06"
    assert (
        article_from_record({"text": " date 2025-11-07 Body text here."}, "o").date == "2025-11-07"
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2025-11-07", "2025-11-07"),
        ("2025/1/5", "2025-01-05"),
        ("2025.11.07", "2025-11-07"),
        ("2025-11-07T23:59:59+09:00", "2025-11-07"),
        ("7 November 2025", "2025-11-07"),
        ("Nov 7, 2025", "2025-11-07"),
        ("Fri, 07 Nov 2025 10:00:00 GMT", "2025-11-07"),
        ("2025-13-40", None),
        ("2025-02-30", None),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_date(value: object, expected: str | None) -> None:
    assert normalise_date(value) == expected


def test_invalid_date_is_dropped_not_fatal() -> None:
    article = article_from_record({"text": "Body text.", "date": "sometime last week"}, "o")
    assert article.date is None


# ----------------------------------------------------------------------- html
ARTICLE_PAGE = """<!DOCTYPE html>
<html lang="en"><head>
<meta charset="utf-8">
<title>Central bank raises rates again | Example News</title>
<meta property="og:title" content="Central bank raises rates again">
<meta property="og:site_name" content="Example News">
<meta name="date" content="2024-02-03">
<link rel="canonical" href="https://news.example.com/2024/02/rates">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav>
<article>
<h1>Central bank raises rates again</h1>
<p>The central bank raised its benchmark interest rate by a quarter point on Saturday, the third
increase this year, citing persistent inflation in services.</p>
<p>Governor Maria Lindqvist told reporters that further increases were possible if wage growth did
not slow in the coming months.</p>
<p>Markets had largely expected the move, and the currency was little changed after the
announcement.</p>
</article>
<footer>Copyright 2024 Example News. All rights reserved. Subscribe to our newsletter.</footer>
</body></html>
"""


def test_html_article_page(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(ARTICLE_PAGE, encoding="utf-8")
    article = _one_article(path)
    assert article.title == "Central bank raises rates again"
    assert "Governor Maria Lindqvist told reporters" in article.text
    assert "Markets had largely expected the move" in article.text
    assert "Home" not in article.text and "newsletter" not in article.text
    assert article.date == "2024-02-03"
    assert article.source == "Example News"
    assert article.url == "https://news.example.com/2024/02/rates"


# ----------------------------------------------------------------- bad inputs
def test_empty_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert _one_rejection(path).reason == "empty file"


def test_whitespace_only_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "blank.md"
    path.write_text(" \n\t\n", encoding="utf-8")
    assert "whitespace" in _one_rejection(path).reason


def test_binary_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "image.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    reason = _one_rejection(path).reason
    assert "binary" in reason and "NUL" in reason


def test_latin1_bytes_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Caf\u00e9 owners protest new rules.".encode("latin-1"))
    reason = _one_rejection(path).reason
    assert "not valid UTF-8" in reason
    assert "byte 3" in reason and "xe9" in reason


def test_missing_text_field_rejected(tmp_path: Path) -> None:
    path = tmp_path / "notext.json"
    path.write_text(json.dumps({"title": "Headline only", "date": "2024-01-01"}), encoding="utf-8")
    reason = _one_rejection(path).reason
    assert "missing text field" in reason and "text" in reason and "body" in reason


def test_nul_in_record_text_rejected() -> None:
    with pytest.raises(InputError, match="NUL"):
        article_from_record({"text": "abc\x00def"}, "o")


def test_non_string_text_rejected() -> None:
    with pytest.raises(InputError, match="missing text field"):
        article_from_record({"text": 42}, "o")
    with pytest.raises(InputError, match="expected a JSON object"):
        article_from_record(["text"], "o")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["report.pdf", "data.csv", "README"])
def test_unsupported_extension_rejected(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text("Some text.", encoding="utf-8")
    reason = _one_rejection(path).reason
    assert "unsupported file type" in reason
    suffix = Path(name).suffix or "(none)"
    assert f"'{suffix}'" in reason and ".txt" in reason


def test_file_over_size_limit_rejected(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("A" * 101, encoding="utf-8")
    reason = _one_rejection(path, max_bytes=100).reason
    assert "101" in reason and "100" in reason and "limit" in reason
    path.write_text("A sentence.", encoding="utf-8")
    assert isinstance(_read(path, max_bytes=11)[0], Article)  # exactly at the limit is fine


def test_read_path_missing_file_is_rejected_not_raised(tmp_path: Path) -> None:
    reason = _one_rejection(tmp_path / "gone.txt").reason
    assert "cannot read file" in reason


def test_iter_files_nonexistent_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    out = list(iter_files([missing]))
    assert out == [Rejection(str(missing), "no such file or folder")]


# ---------------------------------------------------------------------- ids
def test_same_record_same_id_and_hash() -> None:
    a = article_from_record(dict(RECORD), "first")
    b = article_from_record(dict(RECORD), "second")
    assert a.article_id == b.article_id
    assert a.content_hash == b.content_hash


def test_changed_text_keeps_id_changes_hash() -> None:
    a = article_from_record(RECORD, "o")
    b = article_from_record({**RECORD, "text": RECORD["text"] + " Markets fell."}, "o")
    assert a.article_id == b.article_id
    assert a.content_hash != b.content_hash
    for field in ("title", "date", "source", "url"):
        c = article_from_record(
            {**RECORD, field: "2001-01-01" if field == "date" else "changed"}, "o"
        )
        assert c.article_id == a.article_id and c.content_hash != a.content_hash, field


def test_identity_precedence() -> None:
    base = {"text": "Body one.", "title": "T", "date": "2024-01-01"}
    by_id = article_from_record({**base, "id": 7, "url": "https://x"}, "o")
    assert by_id.article_id == article_from_record({"text": "Other.", "id": 7}, "o").article_id
    by_url = article_from_record({**base, "url": "https://x"}, "o")
    assert (
        by_url.article_id
        == article_from_record({"text": "Other.", "link": "https://x"}, "o").article_id
    )
    by_key = article_from_record(base, "o", key="/some/file.txt")
    assert (
        by_key.article_id
        == article_from_record({"text": "Other."}, "o", key="/some/file.txt").article_id
    )
    by_title = article_from_record(base, "o")
    assert by_title.article_id == article_from_record({**base, "text": "Other."}, "o").article_id
    assert (
        by_title.article_id != article_from_record({**base, "date": "2024-01-02"}, "o").article_id
    )
    by_text = article_from_record({"text": "Body one."}, "o")
    assert by_text.article_id != article_from_record({"text": "Body two."}, "o").article_id
    ids = {
        by_id.article_id,
        by_url.article_id,
        by_key.article_id,
        by_title.article_id,
        by_text.article_id,
    }
    assert len(ids) == 5


def test_txt_file_id_follows_path_not_content(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_text(BBC_STYLE, encoding="utf-8")
    first = _one_article(path)
    assert _one_article(path) == first  # deterministic
    path.write_text(BBC_STYLE + "\nA late update.\n", encoding="utf-8")
    second = _one_article(path)
    assert second.article_id == first.article_id
    assert second.content_hash != first.content_hash
    other = tmp_path / "copy.txt"
    other.write_text(BBC_STYLE, encoding="utf-8")
    copy = _one_article(other)
    assert copy.article_id != first.article_id and copy.content_hash == first.content_hash


# ------------------------------------------------------------------- folders
def test_folders_read_recursively_and_sorted(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for rel in ("b.txt", "a/z.md", "a/b/c.json", "c.jsonl", ".hidden.txt", "a/.DS_Store"):
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x", encoding="utf-8")
    loose = tmp_path / "loose.txt"
    loose.write_text("x", encoding="utf-8")
    out = list(iter_files([root, loose]))
    assert out == [root / "a/b/c.json", root / "a/z.md", root / "b.txt", root / "c.jsonl", loose]


def test_folders_skip_files_in_hidden_folders(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / ".ipynb_checkpoints").mkdir(parents=True)
    (root / ".ipynb_checkpoints" / "story-checkpoint.txt").write_text("x", encoding="utf-8")
    (root / "story.txt").write_text("x", encoding="utf-8")
    assert list(iter_files([root])) == [root / "story.txt"]


def test_empty_json_list_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "empty.json"
    path.write_text("[]", encoding="utf-8")
    out = list(read_path(path, 1_000_000))
    assert len(out) == 1 and isinstance(out[0], Rejection) and "no records" in out[0].reason


def test_partial_dates_do_not_depend_on_today() -> None:
    assert normalise_date("November 2025") == "2025-11-01"
    # a missing year is never filled in (not 2000, not this year): the value is unreadable
    assert normalise_date("Nov. 7") is None
    assert normalise_date("7 November") is None
    assert normalise_date("Feb 29") is None


def test_wire_dateline_with_year_gives_the_date() -> None:
    text = "WASHINGTON, March 3, 2024 (AP) — The Senate passed the bill. More follows."
    assert infer_metadata(text) == ("2024-03-03", "AP")
    assert text[body_start(text) :].startswith("The Senate passed")
    article = article_from_record({"text": text}, "t")
    assert (article.date, article.source, article.text) == ("2024-03-03", "AP", text)
