"""Read news articles from files and records into :class:`~qa.types.Article`.

Supported inputs: ``.txt``/``.md`` (one article per file), ``.json`` (one
record, a list of records, or ``{"articles": [...]}``), ``.jsonl`` (one record
per line) and ``.html``/``.htm`` pages (article text extracted with
trafilatura). Problems are reported per file (or per JSONL line) as
:class:`~qa.types.Rejection` values; they never abort a batch.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from qa.ingest.dates import (
    complete_dateline,
    date_from_fields,
    date_from_url,
    find_dateline,
)
from qa.ingest.dates import normalise_date as normalise_date
from qa.types import Article, Rejection

SUPPORTED = (".txt", ".md", ".json", ".jsonl", ".html", ".htm")

_TEXT_FIELDS = ("text", "body", "content", "article", "story")
_TITLE_FIELDS = ("title", "headline", "name")
_SOURCE_FIELDS = ("source", "publisher", "site", "sitename", "outlet", "question_source")
_URL_FIELDS = ("url", "link", "href")
_ID_FIELDS = ("id", "article_id", "guid", "uid")

# "... past two years. (Yonhap)" (source credit at the very end)
_CREDIT = re.compile(r"\(([A-Z][A-Za-z&.' -]{1,40})\)\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"“‘(]?[A-Z0-9])")


class InputError(ValueError):
    """An input cannot be read as an article; the message names the problem."""


def hash_text(*parts: str | None) -> str:
    """Stable hex digest of the given parts."""
    digest = hashlib.blake2b(digest_size=16)
    for part in parts:
        digest.update((part if part is not None else "").encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


def _first(record: Mapping[str, Any], names: Iterable[str]) -> Any:
    lowered = {str(k).lower(): v for k, v in record.items()}
    for name in names:
        value = lowered.get(name)
        if value not in (None, "", []):
            return value
    return None


def lead_sentence(text: str, limit: int = 200) -> str:
    """The first sentence of ``text`` (at most ``limit`` characters)."""
    stripped = text.strip()
    first_para = stripped.split("\n", 1)[0].strip()
    match = _SENTENCE_END.search(first_para)
    sentence = first_para[: match.start()] if match else first_para
    sentence = sentence.strip()
    if len(sentence) > limit:
        cut = sentence[:limit].rsplit(" ", 1)[0]
        sentence = cut + "…"
    return sentence


def body_start(text: str) -> int:
    """Offset where the article body starts.

    That is just after an inline dateline (``date 2025-11-07``, ``SEOUL, Nov. 7
    (Yonhap) --``; see :func:`qa.ingest.dates.find_dateline`), which may follow a
    title line; without a dateline, after the leading whitespace.
    """
    dateline = find_dateline(text)
    if dateline is not None:
        return dateline.end
    return len(text) - len(text.lstrip())


def infer_metadata(text: str) -> tuple[str | None, str | None]:
    """Date and source found in the text itself (dateline, closing credit).

    The date is a dateline's date only when it has a year; a year-less one
    ("Nov. 7") gives ``None`` here (see :func:`article_from_record`).
    """
    dateline = find_dateline(text)
    found_date = dateline.date if dateline else None
    source = dateline.source if dateline else None
    credit = _CREDIT.search(text[-80:])
    if credit and source is None:
        source = credit[1].strip()
    return found_date, source


def _title_line(text: str) -> str | None:
    """A headline on the first line (short, unpunctuated, followed by a blank line)."""
    head, sep, _ = text.lstrip().partition("\n")
    head = head.strip()
    if (
        sep
        and 0 < len(head) <= 150
        and not head.endswith((".", "?", "!", ":"))
        and (text.lstrip()[len(head) :].startswith(("\n\n", "\r\n\r\n", "\n \n")))
    ):
        return head
    return None


def article_from_record(
    record: Mapping[str, Any], origin: str, *, key: str | None = None
) -> Article:
    """Build an :class:`Article` from a JSON-like record.

    The date is, in order of precedence: the first readable date field (for an
    HTML page, the date trafilatura found in its metadata), a dateline with a
    year, a date in the URL path (``/2022/06/12/``), a year-less dateline ("Nov.
    7") completed with the year of a full date in the first 600 characters of
    the body; else ``None`` (undated). Unreadable, pre-1900 and future dates
    (after today + 2 days) are ignored, never guessed.

    The id is derived from the record's identity: its ``id`` or ``url``, else
    ``key`` (e.g. the file path), else its title and date, else its text. The
    content hash covers title, text, date, source and url, so re-ingesting the
    same record is a no-op and a changed one replaces the old version.

    Raises:
        InputError: If no usable text field is present.

    """
    if not isinstance(record, Mapping):
        raise InputError(f"expected a JSON object, got {type(record).__name__}")
    text = _first(record, _TEXT_FIELDS)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"missing text field (one of: {', '.join(_TEXT_FIELDS)})")
    if "\x00" in text:
        raise InputError("text contains NUL bytes (binary data?)")
    dateline = find_dateline(text)
    _, inline_source = infer_metadata(text)
    title_value = _first(record, _TITLE_FIELDS)
    headline = text[: dateline.start].strip() if dateline else ""
    title = (
        str(title_value).strip()
        if title_value
        else (headline or _title_line(text) or lead_sentence(text[body_start(text) :]))
    )
    source_value = _first(record, _SOURCE_FIELDS)
    source = str(source_value).strip() if source_value else inline_source
    url_value = _first(record, _URL_FIELDS)
    url = str(url_value).strip() if url_value else None
    date = (
        date_from_fields(record)
        or (dateline.date if dateline else None)
        or date_from_url(url)
        or complete_dateline(dateline, text)
    )
    rid = _first(record, _ID_FIELDS)
    if rid is not None:
        identity = f"id:{rid}"
    elif url:
        identity = f"url:{url}"
    elif key is not None:
        identity = f"key:{key}"
    elif title_value:
        identity = f"title:{title}|{date}"
    else:
        identity = f"text:{hash_text(text)}"
    return Article(
        article_id=hash_text(identity)[:16],
        title=title,
        text=text,
        date=date,
        source=source,
        url=url,
        origin=origin,
        content_hash=hash_text(title, text, date, source, url),
    )


def _read_text(path: Path, max_bytes: int) -> str:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror})") from exc
    if size == 0:
        raise InputError("empty file")
    if size > max_bytes:
        raise InputError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise InputError("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"not valid UTF-8 (byte {exc.start}: {data[exc.start : exc.start + 1]!r})"
        ) from exc
    if not text.strip():
        raise InputError("file holds only whitespace")
    return text


def _read_html(text: str, origin: str) -> dict[str, Any]:
    import trafilatura

    # no extensive date search: it turns a footer's "Copyright 2024" into 2024-01-01
    doc = trafilatura.bare_extraction(
        text,
        with_metadata=True,
        include_comments=False,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    if doc is None:
        raise InputError("no article text found in the HTML page")
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    body = data.get("text") or ""
    if not body.strip():
        raise InputError("no article text found in the HTML page")
    return {
        "text": body,
        "title": data.get("title"),
        "date": data.get("date"),
        "source": data.get("sitename") or data.get("hostname"),
        "url": data.get("url"),
    }


def read_path(path: Path, max_bytes: int) -> Iterator[Article | Rejection]:
    """Read one file into articles, yielding a :class:`Rejection` per problem."""
    origin = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        yield Rejection(
            origin,
            f"unsupported file type '{suffix or '(none)'}' (supported: {', '.join(SUPPORTED)})",
        )
        return
    try:
        text = _read_text(path, max_bytes)
    except InputError as exc:
        yield Rejection(origin, str(exc))
        return
    key = str(path.resolve())
    if suffix in (".txt", ".md"):
        yield _safe(lambda: article_from_record({"text": text}, origin, key=key), origin)
    elif suffix in (".html", ".htm"):
        yield _safe(lambda: article_from_record(_read_html(text, origin), origin, key=key), origin)
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Rejection(
                origin, f"malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            )
            return
        records = data.get("articles", data) if isinstance(data, dict) else data
        items = records if isinstance(records, list) else [records]
        if not items:
            yield Rejection(origin, "the JSON holds no records")
        for n, record in enumerate(items):
            where = f"{origin}[{n}]" if len(items) > 1 else origin
            yield _safe(lambda r=record, w=where: article_from_record(r, w), where)
    else:
        # split on "\n" only: U+2028 and friends are legal inside JSON strings
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            where = f"{origin}:{lineno}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Rejection(where, f"malformed JSON line: {exc.msg} at column {exc.colno}")
                continue
            yield _safe(lambda r=record, w=where: article_from_record(r, w), where)


def _safe(build: Any, origin: str) -> Article | Rejection:
    try:
        article: Article = build()
    except InputError as exc:
        return Rejection(origin, str(exc))
    return article


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path | Rejection]:
    """Expand files and folders (recursively, sorted) into files to read."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                # skip dot-files and anything inside dot-folders (.git, checkpoints)
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                yield child
        elif path.is_file():
            yield path
        else:
            yield Rejection(str(path), "no such file or folder")
