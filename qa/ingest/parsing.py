"""Read news articles from files and records into :class:`~qa.types.Article`.

Supported inputs: ``.txt``/``.md`` (one article per file), ``.json`` (one
record, a list of records, or ``{"articles": [...]}``), ``.jsonl`` (one record
per line) and ``.html``/``.htm`` pages (article text extracted with
trafilatura). Problems are reported per file (or per JSON record / JSONL line)
as :class:`~qa.types.Rejection` values; they never abort a batch. The limits of
:mod:`qa.ingest.limits` apply: archives, degenerate texts and records past
``max_articles_per_file`` are refused (docs/reliability.md).
"""

from __future__ import annotations

import hashlib
import json
import os
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
from qa.ingest.limits import (
    archive_kind,
    archive_message,
    binary_problem,
    degenerate,
    json_problem,
    too_many_records,
    walk_folder,
)
from qa.settings import LimitSettings
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
    record: Mapping[str, Any],
    origin: str,
    *,
    key: str | None = None,
    limits: LimitSettings | None = None,
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

    With ``limits``, a degenerate text (:func:`qa.ingest.limits.degenerate`) is
    refused too.

    Raises:
        InputError: If no usable text field is present, or the text is degenerate.

    """
    if not isinstance(record, Mapping):
        raise InputError(f"expected a JSON object, got {type(record).__name__}")
    text = _first(record, _TEXT_FIELDS)
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"missing text field (one of: {', '.join(_TEXT_FIELDS)})")
    if "\x00" in text:
        raise InputError("text contains NUL bytes (binary data?)")
    problem = degenerate(text, limits) if limits is not None else None
    if problem is not None:
        raise InputError(problem)
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
    data = b""
    try:
        size = path.stat().st_size
        if 0 < size <= max_bytes:
            with path.open("rb") as handle:
                data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError(f"cannot read file ({exc.strerror or exc})") from exc
    if size == 0:
        raise InputError("empty file")
    size = max(size, len(data))  # a file may grow after stat; the read stops past the limit
    if size > max_bytes:
        raise InputError(f"file is {size:,} bytes, over the {max_bytes:,}-byte limit")
    problem = binary_problem(path, data)
    if problem is not None:
        raise InputError(problem)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{path.name} is not valid UTF-8 (byte {exc.start}: "
            f"{data[exc.start : exc.start + 1]!r}): save it as UTF-8"
        ) from exc
    if not text.strip():
        raise InputError("file holds only whitespace")
    return text


def _read_html(text: str) -> dict[str, Any]:
    import trafilatura

    try:
        # no extensive date search: it turns a footer's "Copyright 2024" into 2024-01-01
        doc = trafilatura.bare_extraction(
            text,
            with_metadata=True,
            include_comments=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception as exc:  # a third-party parser on arbitrary markup
        raise InputError(f"cannot parse the HTML page ({type(exc).__name__})") from exc
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


def read_path(
    path: Path, max_bytes: int, limits: LimitSettings | None = None
) -> Iterator[Article | Rejection]:
    """Read one file into articles, yielding a :class:`Rejection` per problem.

    Nothing raises for bad content: unreadable, oversized, archived, binary or
    non-UTF-8 files, malformed records and degenerate texts each become a
    rejection naming the file (``path:line`` for JSONL, ``path[n]`` for JSON lists).

    Args:
        path: The file.
        max_bytes: Larger files are refused (``settings.ingest.max_file_bytes``).
        limits: The limits in force (default: ``LimitSettings()``).
    """
    limits = limits if limits is not None else LimitSettings()
    origin = str(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        kind = archive_kind(path, b"")
        supported = ", ".join(SUPPORTED)
        unsupported = f"unsupported file type '{suffix or '(none)'}' (supported: {supported})"
        yield Rejection(origin, archive_message(kind) if kind else unsupported)
        return
    try:
        text = _read_text(path, max_bytes)
    except InputError as exc:
        yield Rejection(origin, str(exc))
        return
    try:
        key = str(path.resolve())
    except (OSError, RuntimeError):
        key = os.path.abspath(path)
    if suffix in (".txt", ".md"):
        yield _build({"text": text}, origin, limits, key)
    elif suffix in (".html", ".htm"):
        try:
            page = _read_html(text)
        except InputError as exc:
            yield Rejection(origin, str(exc))
            return
        yield _build(page, origin, limits, key)
    elif suffix == ".json":
        yield from _read_json(text, origin, limits)
    else:
        yield from _read_jsonl(text, origin, limits)


def _read_json(text: str, origin: str, limits: LimitSettings) -> Iterator[Article | Rejection]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        yield Rejection(origin, f"malformed JSON: {json_problem(exc)}")
        return
    records = data.get("articles", data) if isinstance(data, dict) else data
    items = records if isinstance(records, list) else [records]
    if not items:
        yield Rejection(origin, "the JSON holds no records")
    cap = max(0, limits.max_articles_per_file)
    for n, record in enumerate(items[:cap]):
        where = f"{origin}[{n}]" if len(items) > 1 else origin
        yield _build(record, where, limits)
    if len(items) > cap:
        yield Rejection(f"{origin}[{cap}]", too_many_records(cap, len(items) - cap))


def _read_jsonl(text: str, origin: str, limits: LimitSettings) -> Iterator[Article | Rejection]:
    cap = max(0, limits.max_articles_per_file)
    # split on "\n" only: U+2028 and friends are legal inside JSON strings
    lines = text.split("\n")
    seen = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{origin}:{lineno}"
        if seen == cap:
            skipped = sum(1 for rest in lines[lineno - 1 :] if rest.strip())
            yield Rejection(where, too_many_records(cap, skipped))
            return
        seen += 1
        try:
            record = json.loads(line)
        except (ValueError, RecursionError) as exc:
            yield Rejection(where, f"malformed JSON line: {json_problem(exc)}")
            continue
        yield _build(record, where, limits)


def _build(
    record: Any, origin: str, limits: LimitSettings, key: str | None = None
) -> Article | Rejection:
    """An article from ``record``, or the rejection saying why not."""
    try:
        return article_from_record(record, origin, key=key, limits=limits)
    except InputError as exc:
        return Rejection(origin, str(exc))


def iter_files(paths: Iterable[str | Path]) -> Iterator[Path | Rejection]:
    """Expand files and folders (recursively, sorted) into files to read.

    Dot-files and anything inside dot-folders (``.git``, checkpoints) are skipped.
    Linked folders are followed once; a link looping back, a broken link, an
    unreadable folder or a pipe/device become rejections, never errors.
    """
    for raw in paths:
        path = Path(raw)
        try:
            is_dir, is_file, is_link = path.is_dir(), path.is_file(), path.is_symlink()
            exists = is_link or path.exists()
        except OSError as exc:
            yield Rejection(str(path), f"cannot read ({exc.strerror or exc})")
            continue
        if is_dir:
            files, problems = walk_folder(path)
            yield from sorted(files)
            yield from problems
        elif is_file:
            yield path
        elif is_link:
            yield Rejection(str(path), "broken link, or a link that loops")
        elif exists:
            yield Rejection(str(path), "not a regular file (a pipe, socket or device)")
        else:
            yield Rejection(str(path), "no such file or folder")
