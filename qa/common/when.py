"""Time expressions in news text, resolved against the article's date.

News is dated: "on Tuesday" in an article of Friday 7 November 2025 is 4 November
2025. These pure functions find time expressions, resolve them with news
conventions (past by default, future when the sentence is), label them, and turn
the time in a question into a date filter or a preference for the latest news.

Common forms use the fast rules below; other explicit dates ("11/07/2025",
"7th of November, 2025") fall back to ``dateparser``, imported lazily.
"""

from __future__ import annotations

import datetime as dt
import re

from qa.types import TimeScope, When

_MONTH_WORDS = (
    "January February March April May June July August September October November December"
)
_MONTHS = _MONTH_WORDS.split()
_WEEKDAY_WORDS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday"
_WEEKDAYS = _WEEKDAY_WORDS.split()
_MONTH_NUM = {m.lower(): i for i, m in enumerate(_MONTHS, 1)}
_MONTH_NUM.update({m.lower()[:3]: i for i, m in enumerate(_MONTHS, 1)})
_MONTH_NUM["sept"] = 9
_NUMBER_WORDS = "a an one two three four five six seven eight nine ten eleven twelve"
_NUMBERS = _NUMBER_WORDS.split()
_NUM_VALUE = {w: max(i - 1, 1) for i, w in enumerate(_NUMBERS)}

_FULL = "|".join(_MONTHS)
_MON = rf"(?:{_FULL}|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\b\.?)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?\b"
_YEAR = r"(?:19|20)\d{2}\b"
_WD = "|".join(_WEEKDAYS)
_PRE = r"(?:(?i:in|on)\s+)?"
_DMY = rf"{_DAY}\s+(?:of\s+)?{_MON}(?:,?\s+{_YEAR})?"
_MDY = rf"{_MON}\s+{_DAY}(?:,?\s+{_YEAR})?"
_MAY_AFTER = "|".join(
    rf"(?<=\b{w} )" for w in ("in", "In", "by", "of", "since", "until", "early", "late")
)
_FIND = [
    re.compile(p)
    for p in (
        rf"\b{_PRE}\d{{4}}-\d{{2}}-\d{{2}}\b",
        rf"\b{_PRE}{_DMY}",
        rf"\b{_PRE}{_MDY}",
        rf"\b{_PRE}{_MON},?\s+{_YEAR}",
        rf"\b(?:(?i:in|last|next|this)\s+)?(?:(?!May\b)(?:{_FULL})\b|(?:{_MAY_AFTER})May\b)",
        rf"\b(?:(?i:on|last|next|this coming|this past|this|coming|past)\s+)?(?:{_WD})\b"
        rf"(?:,?\s+(?:{_DMY}|{_MDY}))?",
        r"\b(?i:today|yesterday|tomorrow|tonight)\b",
        r"\b(?i:(?:earlier|later)\s+this|this|last|next)\s+(?i:week|month|year|quarter)\b",
        rf"\b(?i:(?:\d+|{'|'.join(_NUMBERS)})\s+(?:day|week|month|year)s?\s+ago)\b",
        rf"\b{_PRE}(?<![$£€.,\w])(?<!\d,){_YEAR}(?![%‰]|[.,]\d|-\d\d-)",
        rf"\b{_PRE}(?:(?i:the)\s+)?(?i:first|second|third|fourth|final|last|1st|2nd|3rd|4th)"
        rf"[-\s](?i:quarter)(?:\s+(?i:of)\s+{_YEAR})?",
        rf"\b{_PRE}Q[1-4](?:\s+{_YEAR})?\b",
    )
]


def find_time_expressions(text: str) -> list[tuple[int, int, str]]:
    """Time expressions in ``text``: non-overlapping ``(start, end, phrase)`` in order.

    ``text[start:end] == phrase``. At a position, the longest expression wins, so
    "in March 2024" is one expression, not "in March" and "2024".
    """
    found = sorted(
        {(m.start(), m.end()) for pattern in _FIND for m in pattern.finditer(text)},
        key=lambda se: (se[0], -se[1]),
    )
    spans: list[tuple[int, int, str]] = []
    for start, end in found:
        if not spans or start >= spans[-1][1]:
            spans.append((start, end, text[start:end]))
    return spans


_FUTURE = re.compile(
    r"\b(?:will|shall|won't|(?:is|are) (?:due|expected|set|going|poised) to|"
    r"(?:due|scheduled|slated|planned) (?:for|on|in)|(?:scheduled|slated) to|set for|"
    r"plans? to|planning to|"
    r"intends? to|aims? to|to be held|next|upcoming|coming)\b|['’]ll\b",
    re.IGNORECASE,
)


def _is_future(phrase: str, context: str) -> bool:
    """Whether ``context`` before ``phrase`` is in the future tense."""
    at = context.lower().find(phrase.lower())
    return bool(_FUTURE.search(context[:at] if at >= 0 else context))


def _as_date(value: dt.date | str) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def _month_end(year: int, month: int) -> dt.date:
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def _period(kind: str, d: dt.date) -> tuple[dt.date, dt.date]:
    """The calendar week (Monday-Sunday), month, quarter or year containing ``d``."""
    if kind == "day":
        return d, d
    if kind == "week":
        monday = d - dt.timedelta(days=d.weekday())
        return monday, monday + dt.timedelta(days=6)
    if kind == "month":
        return d.replace(day=1), _month_end(d.year, d.month)
    if kind == "quarter":
        first = 3 * ((d.month - 1) // 3) + 1
        return dt.date(d.year, first, 1), _month_end(d.year, first + 2)
    return dt.date(d.year, 1, 1), dt.date(d.year, 12, 31)


def _shift(kind: str, d: dt.date, n: int) -> dt.date:
    """A day in the period ``n`` periods of ``kind`` from the one containing ``d``."""
    if kind in ("day", "week"):
        return d + dt.timedelta(days=n * (7 if kind == "week" else 1))
    months = {"month": 1, "quarter": 3, "year": 12}[kind] * n
    index = d.year * 12 + d.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _weekday(name: str, mode: str, anchor: dt.date) -> dt.date:
    """The weekday ``name`` on or before (``past``), before (``last``) or after (``next``)."""
    target = _WEEKDAYS.index(name.capitalize())
    back = (anchor.weekday() - target) % 7
    if mode == "next":
        return anchor + dt.timedelta(days=7 - back if back else 7)
    return anchor - dt.timedelta(days=back or (7 if mode == "last" else 0))


def _day_in_year(month: int, day: int, anchor: dt.date, future: bool) -> dt.date | None:
    """The most recent ``month``/``day`` on or before ``anchor`` (first on or after if future)."""
    step = 1 if future else -1
    for offset in range(9):  # nine years always include a 29 February
        try:
            d = dt.date(anchor.year + step * offset, month, day)
        except ValueError:
            continue
        if (d >= anchor) if future else (d <= anchor):
            return d
    return None


_Range = tuple[dt.date, dt.date, str]
_R_REL_DAY = re.compile(r"today|tonight|yesterday|tomorrow")
_R_REL = re.compile(r"(earlier this|later this|this|last|next) (week|month|year|quarter)")
_R_AGO = re.compile(rf"(\d+|{'|'.join(_NUMBERS)}) (day|week|month|year)s? ago")
_R_WD = re.compile(rf"(?:(last|next|this coming|this past|this|coming|past) )?({_WD.lower()})")
_R_WD_DATE = re.compile(rf"(?:{_WD.lower()}),? (.+)")
_R_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_MON_L = r"([a-z]{3,9})\.?"
_R_DMY = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MON_L}(?:,? (\d{{4}}))?")
_R_MDY = re.compile(rf"{_MON_L} (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?")
_R_MY = re.compile(rf"{_MON_L},? (\d{{4}})")
_R_MONTH = re.compile(rf"(?:(last|next|this|early|late|mid-?) ?)?{_MON_L}")
_R_YEAR = re.compile(r"(?:19|20)\d\d")
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3}
_ORDINAL.update({"fourth": 4, "4th": 4, "final": 4, "last": 4})
_R_QUARTER = re.compile(rf"(?:({'|'.join(_ORDINAL)})[- ]quarter|q([1-4]))(?:,? (?:of )?(\d{{4}}))?")
_R_NUMERIC = re.compile(r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")


def _explicit(p: str, a: dt.date, future: bool) -> _Range | None:
    """A written-out date or month: ISO, "5 March [2024]", "March 5[, 2024]", "March 2024"."""
    if m := _R_ISO.fullmatch(p):
        day, name, year = m[3], m[2], m[1]
    elif m := _R_DMY.fullmatch(p):
        day, name, year = m[1], m[2], m[3]
    elif m := _R_MDY.fullmatch(p):
        day, name, year = m[2], m[1], m[3]
    elif m := _R_MY.fullmatch(p):
        day, name, year = "", m[1], m[2]
    else:
        return None
    month = int(name) if name.isdigit() else _MONTH_NUM.get(name, 0)
    if not 1 <= month <= 12:
        return None
    if not day:
        return dt.date(int(year), month, 1), _month_end(int(year), month), "month"
    d = dt.date(int(year), month, int(day)) if year else _day_in_year(month, int(day), a, future)
    return (d, d, "day") if d else None


def _rules(p: str, a: dt.date, future: bool) -> _Range | None:
    """Resolve the normalised (lower-case, no leading "in"/"on"/"the") phrase ``p``."""
    if _R_REL_DAY.fullmatch(p):
        d = a + dt.timedelta(days={"yesterday": -1, "tomorrow": 1}.get(p, 0))
        return d, d, "day"
    if m := _R_REL.fullmatch(p):
        which, kind = m.groups()
        start, end = _period(kind, _shift(kind, a, {"last": -1, "next": 1}.get(which, 0)))
        if which != "this" and which.endswith("this"):
            start, end = (start, a) if which.startswith("earlier") else (a, end)
        return start, end, kind
    if m := _R_AGO.fullmatch(p):
        n = int(m[1]) if m[1].isdigit() else _NUM_VALUE[m[1]]
        return (*_period(m[2], _shift(m[2], a, -n)), m[2])
    if m := _R_WD.fullmatch(p):
        mod = m[1] or "this"
        if mod == "this":
            mode = "next" if future else "past"
        else:
            mode = "next" if mod in ("next", "coming", "this coming") else "last"
        d = _weekday(m[2], mode, a)
        return d, d, "day"
    if (m := _R_WD_DATE.fullmatch(p)) and (span := _rules(m[1], a, future)):
        return span
    if span := _explicit(p, a, future):
        return span
    if (m := _R_MONTH.fullmatch(p)) and (month := _MONTH_NUM.get(m[2])):
        mod = m[1] or ""
        if mod == "last" or (mod != "next" and not future):
            year = a.year - (month > a.month or (mod == "last" and month == a.month))
        else:
            year = a.year + (month < a.month or (mod == "next" and month == a.month))
        return dt.date(year, month, 1), _month_end(year, month), "month"
    if _R_YEAR.fullmatch(p):
        return (*_period("year", dt.date(int(p), 1, 1)), "year")
    if m := _R_QUARTER.fullmatch(p):
        q = _ORDINAL[m[1]] if m[1] else int(m[2])
        if m[3]:
            year = int(m[3])
        else:
            aq = (a.month - 1) // 3 + 1
            year = a.year + (q < aq if future else -(q > aq))
        return (*_period("quarter", dt.date(year, 3 * q - 2, 1)), "quarter")
    return None


def _dateparser(p: str, a: dt.date, future: bool) -> _Range | None:
    """Explicit dates outside the rules ("11/07/2025", "November the 7th"), via dateparser."""
    if not (_R_NUMERIC.search(p) or any(w.strip(".,") in _MONTH_NUM for w in p.split())):
        return None
    from dateparser.date import DateDataParser  # lazy: importing costs a quarter second

    settings = {
        "RELATIVE_BASE": dt.datetime(a.year, a.month, a.day),
        "PREFER_DATES_FROM": "future" if future else "past",
    }
    data = DateDataParser(languages=["en"], settings=settings).get_date_data(p)
    if data.date_obj is None:
        return None
    kind = data.period if data.period in ("week", "month", "year") else "day"
    return (*_period(kind, data.date_obj.date()), kind)


_LEAD = re.compile(r"^(?:(?:in|on|during|the)\s+)+", re.IGNORECASE)


def resolve(phrase: str, anchor: dt.date | str, context: str = "") -> When | None:
    """Resolve one time expression against the article date ``anchor``.

    Past by default: "on Tuesday", "in March", "March 5" are the most recent such
    day or month on or before the anchor ("last Tuesday" strictly before it);
    "next Tuesday", or ``context`` in the future tense before the phrase ("will",
    "is due to", "plans to"), gives the first one after it.

    Args:
        phrase: The expression ("on Friday", "last month", "Nov. 7, 2025", "Q3").
        anchor: The article date (``date`` or ISO string).
        context: The sentence it appears in, for its tense.

    Returns:
        The resolved time, or ``None`` when the phrase or anchor is not understood.
    """
    a = _as_date(anchor)
    p = _LEAD.sub("", " ".join(phrase.lower().split())).rstrip(",;:")
    if a is None or not p:
        return None
    future = _is_future(phrase, context)
    try:
        span = _rules(p, a, future) or _dateparser(p, a, future)
    except (ValueError, OverflowError):
        return None
    if span is None:
        return None
    start, end, kind = span
    return When(phrase, start.isoformat(), end.isoformat(), a.isoformat(), kind)


def resolve_in(
    text: str, start: int, end: int, anchor: dt.date | str, sentence: str = ""
) -> When | None:
    """The time the answer span ``text[start:end]`` names: its first time expression, resolved.

    ``sentence`` (the span's sentence) gives the tense; without it, the span's own
    text does.
    """
    for _s, _e, phrase in find_time_expressions(text[start:end]):
        if when := resolve(phrase, anchor, sentence or text[start:end]):
            return when
    return None


def label_beside(when: When, answer: str) -> str:
    """The label shown beside an answer: :func:`format_when` without what it repeats.

    "Friday" gets "7 November 2025", "Takehiro Funakoshi" gets "Friday, 7 November 2025".
    """
    label = format_when(when)
    weekday, sep, rest = label.partition(", ")
    if sep and weekday.lower() in answer.lower():
        return rest
    return label


def format_when(when: When) -> str:
    """A human label: "Friday, 7 November 2025", "March 2025", "Q1 2025", "week of ..."."""
    start, end = dt.date.fromisoformat(when.start), dt.date.fromisoformat(when.end)

    def day(d: dt.date) -> str:
        return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"

    if start == end:
        return f"{_WEEKDAYS[start.weekday()]}, {day(start)}"
    if when.granularity == "year" and start.year == end.year:
        return str(start.year)
    if when.granularity == "month" and (start.year, start.month) == (end.year, end.month):
        return f"{_MONTHS[start.month - 1]} {start.year}"
    if when.granularity == "quarter" and _period("quarter", start) == (start, end):
        return f"Q{(start.month - 1) // 3 + 1} {start.year}"
    if when.granularity == "week" and (end - start).days < 7:
        return f"week of {day(_period('week', start)[0])}"
    return f"{day(start)} to {day(end)}"


_LATEST = re.compile(
    r"\b(?:who(?: is|'s|’s| are)|current(?:ly)?|now|nowadays|latest|most recent|still|"
    r"today|at present|presently|these days|at the moment)\b",
    re.IGNORECASE,
)
# a question in the present tense asks about the present state ("how many ferries does
# it operate?"); one in the past ("when did", "who was") does not
_PRESENT = re.compile(
    r"^\s*(?:who|what|which|where|how (?:many|much|big|large|old))\b[^?]*?"
    r"\b(?:is|are|does|do|has|have)\b",
    re.IGNORECASE,
)
_BOUND = re.compile(
    r"\b(as of|by|until|till|through|before|prior to|after|since|from|between)\s+$",
    re.IGNORECASE,
)
_JOIN = re.compile(r"\s*(?:and|to|until|through|-|–)\s*$", re.IGNORECASE)


def question_scope(question: str, today: dt.date | str) -> TimeScope:
    """The time scope of ``question``, relative to ``today`` for "last month" and the like.

    "in 2024" and "who was X in March 2024" filter to that period; "as of June
    2024" / "before 2023" bound it above, "since 2022" / "after 2022" below;
    "who is", "current", "now", "latest", or a question in the present tense, with
    no period, prefer the latest news; so does "as of" a date (the latest up to then).
    A year naming a thing ("the 2022 FIFA World Cup") is not a scope.
    """
    spans = [
        (s, e, p)
        for s, e, p in find_time_expressions(question)
        if p.lower().strip() not in ("today", "tonight")
        and not re.fullmatch(r"(?:\w+\s+)?\d{4}\s+[A-Z]", question[s : e + 2])
    ]
    for i, (s, e, phrase) in enumerate(spans):
        when = resolve(phrase, today, question)
        if when is None:
            continue
        bound = _BOUND.search(question[:s])
        word = bound[1].lower() if bound else ""
        text = question[bound.start() : e] if bound else phrase
        if word in ("between", "from") and i + 1 < len(spans):
            s2, e2, p2 = spans[i + 1]
            other = resolve(p2, today, question)
            if other and _JOIN.fullmatch(question[e:s2]):
                return TimeScope(when.start, other.end, False, text + question[e:e2])
        if word in ("as of", "by", "until", "till", "through"):
            return TimeScope(None, when.end, True, text)  # the latest news up to then
        if word in ("before", "prior to"):
            start = dt.date.fromisoformat(when.start) - dt.timedelta(days=1)
            return TimeScope(None, start.isoformat(), False, text)
        if word in ("after", "since"):
            return TimeScope(when.start, None, False, text)
        return TimeScope(when.start, when.end, False, phrase)
    if latest := _LATEST.search(question) or _PRESENT.search(question):
        return TimeScope(None, None, True, latest[0])
    return TimeScope(None, None, False, None)
