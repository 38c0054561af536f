"""Read article dates reliably: record fields, datelines, URLs; never guess.

Every function here returns an ISO date (``YYYY-MM-DD``) or ``None``. A value
that cannot be read, that lacks a year, or that lies outside ``1900-01-01 ..
today + 2 days`` gives ``None``; the caller then falls back to other evidence
and finally leaves the article undated. Time zones are never converted: the
calendar date is taken as written.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

# record fields that may hold the publication date, in order of preference (lower case)
DATE_FIELDS = (
    "date",
    "published",
    "published_at",
    "publish_date",
    "publishedat",
    "pubdate",
    "datepublished",
    "dateline",
    "created_at",
    "timestamp",
    "time",
    "datetime",
)

EARLIEST = date(1900, 1, 1)
FUTURE_SLACK = timedelta(days=2)
# Unix seconds below this (1973-03-03) are read as "not a timestamp" (ids, years, ...)
_MIN_TIMESTAMP = 100_000_000
_WEEKDAYS = {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_MONTHS = {
    name: n
    for n, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_ISO = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_TIMESTAMP_TEXT = re.compile(r"\d{9,10}(?:\.\d+)?")
# " date 2025-11-07 A senior ..." (the sample corpus's inline dateline)
_DATE_DATELINE = re.compile(r"\s*date:?\s+(\d{4}-\d{2}-\d{2})\b\s*", re.IGNORECASE)
# "SEOUL, Nov. 7 (Yonhap) -- ", "WASHINGTON, March 3, 2024 (AP) — ", "PARIS (AFP) - ",
# "NEW YORK — ", "Tokyo, 7 November 2025 – " (wire-service datelines)
_WIRE_DATELINE = re.compile(
    rf"""
    \s*
    (?P<city>[A-Z][A-Za-z.'-]*(?:[ ][A-Z][A-Za-z.'-]*){{0,3}})
    (?:,[ ][A-Z][A-Za-z.]*(?:[ ][A-Z][A-Za-z.]*)?)?
    (?:,[ ](?:(?P<m1>{_MONTH})[ ](?P<d1>\d{{1,2}})(?!\d)(?:,?[ ](?P<y1>\d{{4}}))?
            |(?P<d2>\d{{1,2}})[ ](?P<m2>{_MONTH})(?:,?[ ](?P<y2>\d{{4}}))?))?
    (?:[ \t]*\((?P<source>[^()\n]{{2,40}})\))?
    (?P<pre>[ \t]*)(?:-{{1,3}}|[—–])(?P<post>\s*)
    """,
    re.VERBOSE,
)
# a full date (day, month and year) written in running text
_FULL_DATE = re.compile(
    rf"""
    \b{_MONTH}[ ]\d{{1,2}}(?!\d),?[ ](?P<y1>\d{{4}})(?!\d)
    |\b\d{{1,2}}[ ]{_MONTH}[ ](?P<y2>\d{{4}})(?!\d)
    |\b(?P<y3>\d{{4}})-\d{{2}}-\d{{2}}(?!\d)
    """,
    re.VERBOSE,
)
# "/2022/06/12/" or "/2022-06-12/" in a URL path
_URL_DATE = re.compile(r"/(\d{4})([/-])(\d{1,2})\2(\d{1,2})(?=$|[/._-])")


@dataclass(frozen=True)
class Dateline:
    """An inline dateline at the start of an article's text.

    Attributes:
        start: Offset where the dateline begins (after an optional title line).
        end: Offset where the body begins (just after the dateline).
        date: The dateline's date when it has a year (and is plausible), else ``None``.
        month: Month of a year-less dateline ("Nov. 7"), else ``None``.
        day: Day of a year-less dateline, else ``None``.
        source: The credited source ("Yonhap", "AP"), if any.

    """

    start: int
    end: int
    date: str | None
    month: int | None
    day: int | None
    source: str | None


def plausible(value: date, today: date | None = None) -> bool:
    """Whether ``value`` lies between 1900-01-01 and ``today`` + 2 days.

    Args:
        value: The date to check.
        today: The reference day (default: the local date today).

    """
    return EARLIEST <= value <= (today or date.today()) + FUTURE_SLACK


def _checked(year: int, month: int, day: int, today: date | None) -> str | None:
    try:
        value = date(year, month, day)
    except (ValueError, OverflowError):
        return None
    return value.isoformat() if plausible(value, today) else None


def _from_timestamp(seconds: float, today: date | None) -> str | None:
    if not math.isfinite(seconds) or seconds < _MIN_TIMESTAMP:
        return None
    try:
        value = datetime.fromtimestamp(seconds, tz=UTC).date()
    except (ValueError, OverflowError, OSError):
        return None
    return value.isoformat() if plausible(value, today) else None


def normalise_date(value: Any, *, today: date | None = None) -> str | None:
    """Turn a date-ish value into ``YYYY-MM-DD`` (``None`` if it cannot be read).

    Reads ISO dates and datetimes, RFC 2822 ("Fri, 07 Nov 2025 09:15:00 +0900"),
    "November 7, 2025", "7 Nov 2025", "2025/11/07", a month and year ("November
    2025" gives the 1st), ``date``/``datetime`` objects, Unix seconds (numbers, or
    strings of 9-10 digits) and ``YYYYMMDD`` integers. Time zones are not
    converted: the date is the one written. Values without a year ("Nov. 7") or
    without a month ("2025"), dicts and lists, and dates outside
    ``1900-01-01 .. today + 2 days`` give ``None``.

    Args:
        value: The raw value from a record or page.
        today: The reference day for the future limit (default: today).

    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat() if plausible(value, today) else None
    if isinstance(value, int) and 19000101 <= value <= 99991231:
        return _checked(value // 10000, value // 100 % 100, value % 100, today)
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an int past 1e308 (JSON allows any length)
            return None
        return _from_timestamp(seconds, today)
    if not isinstance(value, str):
        return None  # dicts ({"$date": ...}), lists, other objects
    text = value.strip()
    if not text:
        return None
    if _TIMESTAMP_TEXT.fullmatch(text):
        return _from_timestamp(float(text), today)
    match = _ISO.match(text)
    if match:
        return _checked(int(match[1]), int(match[2]), int(match[3]), today)
    from dateutil import parser as date_parser

    try:
        # two different defaults reveal a missing year or month: such values give None
        first = date_parser.parse(text, default=datetime(2000, 1, 1), ignoretz=True)
        second = date_parser.parse(text, default=datetime(2004, 2, 1), ignoretz=True)
    except (ValueError, ArithmeticError, TypeError):
        # ArithmeticError: OverflowError, and decimal.InvalidOperation on a seconds
        # field of 29+ digits ("01p15:0222...", found by benchmarks/fuzz_ingest.py)
        return None
    if (first.year, first.month) != (second.year, second.month):
        return None
    return _checked(first.year, first.month, first.day, today)


def date_from_fields(record: Mapping[str, Any], *, today: date | None = None) -> str | None:
    """The first readable date among the record's date fields.

    Field names are matched case-insensitively in the order of ``DATE_FIELDS``;
    a field whose value cannot be read is skipped, not fatal.

    Args:
        record: A JSON-like record.
        today: The reference day for the future limit (default: today).

    """
    lowered = {str(k).lower(): v for k, v in record.items()}
    for name in DATE_FIELDS:
        found = normalise_date(lowered.get(name), today=today)
        if found:
            return found
    return None


def date_from_url(url: str | None, *, today: date | None = None) -> str | None:
    """The date in a URL path such as ``/2022/06/12/`` or ``/2022-06-12/``.

    Args:
        url: The article's URL (``None`` gives ``None``).
        today: The reference day for the future limit (default: today).

    """
    if not url:
        return None
    try:
        path = urlsplit(url).path
    except ValueError:
        return None
    for match in _URL_DATE.finditer(path):
        found = _checked(int(match[1]), int(match[3]), int(match[4]), today)
        if found:
            return found
    return None


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _month_number(name: str) -> int:
    return _MONTHS[name[:3].lower()]


def _wire_at(text: str, pos: int, today: date | None) -> Dateline | None:
    match = _WIRE_DATELINE.match(text, pos)
    if match is None:
        return None
    city = match["city"]
    month_name = match["m1"] or match["m2"]
    source = match["source"].strip() if match["source"] else None
    if city.lower() in _WEEKDAYS:
        return None
    if city != city.upper() and month_name is None:
        return None  # "Tokyo, 7 November 2025 –" needs its date, "PARIS (AFP) -" its capitals
    if month_name is None and source is None and not (match["pre"] and match["post"]):
        return None  # a bare "NEW YORK — " needs spaces around the dash ("US-China" is no dateline)
    start = _skip_space(text, pos)
    if month_name is None:
        return Dateline(start, match.end(), None, None, None, source)
    month = _month_number(month_name)
    day = int(match["d1"] or match["d2"])
    year = match["y1"] or match["y2"]
    if year:
        return Dateline(
            start, match.end(), _checked(int(year), month, day, today), None, None, source
        )
    if _checked(2000, month, day, today) is None:
        return Dateline(start, match.end(), None, None, None, source)  # "Feb. 30"
    return Dateline(start, match.end(), None, month, day, source)


def _after_title(text: str) -> int | None:
    """Offset of the line after a short headline line, if the text starts with one."""
    lead = _skip_space(text, 0)
    newline = text.find("\n", lead)
    if newline < 0:
        return None
    head = text[lead:newline].strip()
    if 0 < len(head) <= 150 and not head.endswith((".", "?", "!", ":")):
        return newline + 1
    return None


def find_dateline(text: str, *, today: date | None = None) -> Dateline | None:
    """The dateline at the start of ``text`` (after an optional title line).

    Recognises ``date 2025-11-07`` and wire datelines ("SEOUL, Nov. 7 (Yonhap) --",
    "WASHINGTON, March 3, 2024 (AP) —", "PARIS (AFP) -", "NEW YORK — ",
    "Tokyo, 7 November 2025 –"). A text that is only a dateline has an empty body.

    Args:
        text: The article text (not modified; offsets point into it).
        today: The reference day for the future limit (default: today).

    """
    positions = [0]
    after = _after_title(text)
    if after is not None:
        positions.append(after)
    for pos in positions:
        found: Dateline | None = None
        match = _DATE_DATELINE.match(text, pos)
        if match:
            day = normalise_date(match[1], today=today)
            found = Dateline(_skip_space(text, pos), match.end(), day, None, None, None)
        else:
            found = _wire_at(text, pos, today)
        if found is not None:
            return found
    return None


def year_in_text(text: str) -> int | None:
    """The year of the first full date (day, month and year) written in ``text``."""
    match = _FULL_DATE.search(text)
    if match is None:
        return None
    return int(match["y1"] or match["y2"] or match["y3"])


def complete_dateline(
    dateline: Dateline | None, text: str, *, today: date | None = None, window: int = 600
) -> str | None:
    """Date a year-less dateline ("Nov. 7") with the year of a full date in the body.

    Only the first ``window`` characters of the body (after the dateline) are
    searched; without a full date there the result is ``None`` (today's year is
    never assumed).

    Args:
        dateline: The article's dateline, if any.
        text: The article text.
        today: The reference day for the future limit (default: today).
        window: How many body characters to search for a full date.

    """
    if dateline is None or dateline.month is None or dateline.day is None:
        return None
    year = year_in_text(text[dateline.end : dateline.end + window])
    if year is None:
        return None
    return _checked(year, dateline.month, dateline.day, today)
