from __future__ import annotations

import atexit
import datetime as dt
import shutil
import subprocess
import sys
import tempfile

import pytest

from qa.common.when import (
    find_time_expressions,
    format_when,
    question_scope,
    resolve,
    resolve_in,
)
from qa.types import TimeScope, When

FRI = "2025-11-07"  # a Friday


def span(phrase: str, anchor: str | dt.date, context: str = "") -> tuple[str, str, str]:
    when = resolve(phrase, anchor, context)
    assert when is not None, phrase
    return when.start, when.end, when.granularity


def day(phrase: str, anchor: str | dt.date, context: str = "") -> str:
    start, end, granularity = span(phrase, anchor, context)
    assert start == end and granularity == "day", (phrase, start, end)
    return start


# ---------------------------------------------------------------------------
# find_time_expressions


def phrases(text: str) -> list[str]:
    found = find_time_expressions(text)
    for start, end, phrase in found:
        assert text[start:end] == phrase
    assert all(a[1] <= b[0] for a, b in zip(found, found[1:], strict=False))
    return [p for _, _, p in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The minister resigned on Friday.", ["on Friday"]),
        ("Friday's vote was close.", ["Friday"]),
        ("He left last Monday and returns next Friday.", ["last Monday", "next Friday"]),
        ("It opens this Thursday.", ["this Thursday"]),
        ("It opens this coming Thursday.", ["this coming Thursday"]),
        ("Yesterday, today, tomorrow and tonight.", ["Yesterday", "today", "tomorrow", "tonight"]),
        (
            "Sales fell last week, rose this month and will rise next year.",
            ["last week", "this month", "next year"],
        ),
        ("Earlier this week the bank said so.", ["Earlier this week"]),
        ("It was signed 3 days ago and two weeks ago.", ["3 days ago", "two weeks ago"]),
        ("A year ago it was different.", ["A year ago"]),
        ("Prices rose in March.", ["in March"]),
        ("Prices rose in March 2024.", ["in March 2024"]),
        ("Talks began on March 5 and ended 5 March 2024.", ["on March 5", "5 March 2024"]),
        ("The deal closed Nov. 7 after a bid on Sept. 30, 2025.", ["Nov. 7", "on Sept. 30, 2025"]),
        ("It was dated 2025-11-07.", ["2025-11-07"]),
        ("Profit in the first quarter beat Q3 2024.", ["in the first quarter", "Q3 2024"]),
        ("Third-quarter profit rose.", ["Third-quarter"]),
        ("The fourth quarter of 2024 was weak.", ["The fourth quarter of 2024"]),
        ("The law passed in 2024 after the 1990s.", ["in 2024"]),
        ("He was born in 1999; she in 2001.", ["in 1999", "in 2001"]),
        ("On Friday, Nov. 7, the court ruled.", ["On Friday, Nov. 7"]),
        ("They met in May.", ["in May"]),
    ],
)
def test_find_time_expressions(text: str, expected: list[str]) -> None:
    assert phrases(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "They may agree; protesters march on.",
        "It cost $2024 and 2,024 people, a 2024% rise, 12.2024 units.",
        "Mondays are quiet.",
        "Nothing time-like here at all.",
        "",
    ],
)
def test_find_time_expressions_ignores_non_times(text: str) -> None:
    assert phrases(text) == []


def test_find_time_expressions_offsets_into_longer_text() -> None:
    text = "Shares rose. On Tuesday the firm said profit in Q2 2025 doubled from a year ago."
    found = find_time_expressions(text)
    assert [p for *_, p in found] == ["On Tuesday", "in Q2 2025", "a year ago"]
    assert all(text[s:e] == p for s, e, p in found)


# ---------------------------------------------------------------------------
# resolve: weekdays


def test_bare_weekday_is_most_recent_on_or_before_anchor() -> None:
    assert day("Friday", FRI) == "2025-11-07"  # the anchor day itself
    assert day("on Friday", FRI) == "2025-11-07"
    assert day("on Tuesday", FRI) == "2025-11-04"
    assert day("Saturday", FRI) == "2025-11-01"
    assert day("this Thursday", FRI) == "2025-11-06"


def test_last_weekday() -> None:
    assert day("last Tuesday", FRI) == "2025-11-04"
    assert day("this past Monday", FRI) == "2025-11-03"
    # On the named day itself, "last Friday" is a week earlier.
    assert day("last Friday", FRI) == "2025-10-31"


def test_next_weekday_is_after_anchor() -> None:
    assert day("next Tuesday", FRI) == "2025-11-11"
    assert day("next Friday", FRI) == "2025-11-14"
    assert day("this coming Saturday", FRI) == "2025-11-08"
    assert day("coming Monday", FRI) == "2025-11-10"


@pytest.mark.parametrize(
    "context",
    [
        "The committee will vote on Tuesday.",
        "The report is due to be published on Tuesday.",
        "The minister is expected to resign on Tuesday.",
        "The company plans to list its shares on Tuesday.",
        "The next hearing is on Tuesday.",
        "He'll arrive on Tuesday.",
        "A vote is scheduled for Tuesday.",
        "The summit, to be held on Tuesday, opens talks.",
    ],
)
def test_future_context_moves_weekday_forward(context: str) -> None:
    assert day("on Tuesday", FRI, context) == "2025-11-11"


def test_future_context_on_the_anchor_weekday_is_a_week_later() -> None:
    assert day("on Friday", FRI, "The vote will take place on Friday.") == "2025-11-14"


@pytest.mark.parametrize(
    "context",
    [
        "He said on Tuesday that he will resign.",
        "The match was cancelled due to rain on Tuesday.",
        "The vote on Tuesday was close.",
        "Violence set in on Tuesday.",
    ],
)
def test_past_context_keeps_weekday_in_the_past(context: str) -> None:
    assert day("on Tuesday", FRI, context) == "2025-11-04"


def test_weekday_across_year_end() -> None:
    assert day("on Tuesday", "2025-01-02") == "2024-12-31"
    assert day("Sunday", "2025-01-02") == "2024-12-29"
    assert day("next Monday", "2024-12-31") == "2025-01-06"


def test_weekday_across_month_end_and_leap_day() -> None:
    assert day("Thursday", "2024-03-01") == "2024-02-29"
    assert day("next Thursday", "2024-02-26") == "2024-02-29"


def test_weekday_with_date_uses_the_date() -> None:
    assert day("Friday, Nov. 7", "2025-11-10") == "2025-11-07"
    assert day("on Tuesday, 4 November 2025", FRI) == "2025-11-04"


def _every_anchor() -> list[dt.date]:
    first = dt.date(2023, 12, 1)
    return [first + dt.timedelta(days=n) for n in range(0, 500, 3)]


def test_weekday_exhaustively_within_the_week_ending_at_anchor() -> None:
    names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    for anchor in _every_anchor():
        for index, name in enumerate(names):
            past = dt.date.fromisoformat(day(name, anchor))
            assert past.weekday() == index and 0 <= (anchor - past).days <= 6
            ahead = dt.date.fromisoformat(day(f"next {name}", anchor))
            assert ahead.weekday() == index and 1 <= (ahead - anchor).days <= 7


try:
    from hypothesis import given, settings
    from hypothesis import strategies as st
    from hypothesis.configuration import set_hypothesis_home_dir

    # Keep hypothesis's cache out of the repository (it is not git-ignored).
    _HOME = tempfile.mkdtemp(prefix="hypothesis-when-")
    set_hypothesis_home_dir(_HOME)
    atexit.register(shutil.rmtree, _HOME, True)
except ImportError:  # pragma: no cover - hypothesis is optional
    given = None

if given is not None:

    @settings(database=None, deadline=None, max_examples=200)
    @given(
        anchor=st.dates(min_value=dt.date(1950, 1, 1), max_value=dt.date(2090, 12, 31)),
        index=st.integers(min_value=0, max_value=6),
        prefix=st.sampled_from(["", "on ", "On "]),
    )
    def test_bare_weekday_property(anchor: dt.date, index: int, prefix: str) -> None:
        name = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        resolved = dt.date.fromisoformat(day(prefix + name[index], anchor))
        assert resolved.weekday() == index
        assert 0 <= (anchor - resolved).days <= 6


# ---------------------------------------------------------------------------
# resolve: relative days, weeks, months, years


@pytest.mark.parametrize(
    ("phrase", "anchor", "expected"),
    [
        ("today", FRI, "2025-11-07"),
        ("tonight", FRI, "2025-11-07"),
        ("yesterday", FRI, "2025-11-06"),
        ("Yesterday", "2024-03-01", "2024-02-29"),
        ("yesterday", "2025-03-01", "2025-02-28"),
        ("yesterday", "2025-01-01", "2024-12-31"),
        ("tomorrow", "2024-12-31", "2025-01-01"),
        ("tomorrow", "2024-02-28", "2024-02-29"),
        ("3 days ago", FRI, "2025-11-04"),
        ("three days ago", "2025-01-02", "2024-12-30"),
        ("a day ago", "2024-03-01", "2024-02-29"),
    ],
)
def test_relative_days(phrase: str, anchor: str, expected: str) -> None:
    assert day(phrase, anchor) == expected


@pytest.mark.parametrize(
    ("phrase", "anchor", "expected"),
    [
        ("last week", FRI, ("2025-10-27", "2025-11-02", "week")),
        ("this week", FRI, ("2025-11-03", "2025-11-09", "week")),
        ("next week", FRI, ("2025-11-10", "2025-11-16", "week")),
        ("last week", "2025-01-02", ("2024-12-23", "2024-12-29", "week")),
        ("this week", "2025-01-02", ("2024-12-30", "2025-01-05", "week")),
        ("earlier this week", FRI, ("2025-11-03", "2025-11-07", "week")),
        ("two weeks ago", FRI, ("2025-10-20", "2025-10-26", "week")),
        ("last month", FRI, ("2025-10-01", "2025-10-31", "month")),
        ("last month", "2025-01-02", ("2024-12-01", "2024-12-31", "month")),
        ("last month", "2024-03-31", ("2024-02-01", "2024-02-29", "month")),
        ("this month", "2024-02-10", ("2024-02-01", "2024-02-29", "month")),
        ("next month", "2025-12-15", ("2026-01-01", "2026-01-31", "month")),
        ("earlier this month", FRI, ("2025-11-01", "2025-11-07", "month")),
        ("later this month", FRI, ("2025-11-07", "2025-11-30", "month")),
        ("3 months ago", "2025-01-31", ("2024-10-01", "2024-10-31", "month")),
        ("last year", FRI, ("2024-01-01", "2024-12-31", "year")),
        ("this year", FRI, ("2025-01-01", "2025-12-31", "year")),
        ("next year", FRI, ("2026-01-01", "2026-12-31", "year")),
        ("next year", "2025-12-31", ("2026-01-01", "2026-12-31", "year")),
        ("earlier this year", FRI, ("2025-01-01", "2025-11-07", "year")),
        ("two years ago", FRI, ("2023-01-01", "2023-12-31", "year")),
        ("last quarter", FRI, ("2025-07-01", "2025-09-30", "quarter")),
        ("last quarter", "2025-02-01", ("2024-10-01", "2024-12-31", "quarter")),
        ("this quarter", FRI, ("2025-10-01", "2025-12-31", "quarter")),
    ],
)
def test_relative_periods(phrase: str, anchor: str, expected: tuple[str, str, str]) -> None:
    assert span(phrase, anchor) == expected


# ---------------------------------------------------------------------------
# resolve: months, dates, years, quarters


@pytest.mark.parametrize(
    ("phrase", "anchor", "context", "expected"),
    [
        ("in March", FRI, "", ("2025-03-01", "2025-03-31")),
        ("in March", "2025-02-10", "", ("2024-03-01", "2024-03-31")),
        ("in March", "2025-03-20", "", ("2025-03-01", "2025-03-31")),
        ("In February", "2024-03-01", "", ("2024-02-01", "2024-02-29")),
        ("in December", "2025-01-02", "", ("2024-12-01", "2024-12-31")),
        ("in March", FRI, "Elections will be held in March.", ("2026-03-01", "2026-03-31")),
        ("in March", "2025-02-10", "It is due to open in March.", ("2025-03-01", "2025-03-31")),
        (
            "in January",
            "2025-12-20",
            "The law will apply in January.",
            ("2026-01-01", "2026-01-31"),
        ),
        ("last March", "2025-03-20", "", ("2024-03-01", "2024-03-31")),
        ("next March", "2025-03-20", "", ("2026-03-01", "2026-03-31")),
        ("in March 2024", FRI, "", ("2024-03-01", "2024-03-31")),
        ("March 2024", FRI, "It will reopen in March 2024.", ("2024-03-01", "2024-03-31")),
        ("February 2024", FRI, "", ("2024-02-01", "2024-02-29")),
        ("in May", FRI, "", ("2025-05-01", "2025-05-31")),
        ("Sept. 2025", FRI, "", ("2025-09-01", "2025-09-30")),
    ],
)
def test_months(phrase: str, anchor: str, context: str, expected: tuple[str, str]) -> None:
    assert span(phrase, anchor, context) == (*expected, "month")


@pytest.mark.parametrize(
    ("phrase", "anchor", "context", "expected"),
    [
        ("March 5", FRI, "", "2025-03-05"),
        ("March 5", "2025-02-10", "", "2024-03-05"),
        ("on March 5", "2025-03-05", "", "2025-03-05"),
        ("5 March", "2025-02-10", "", "2024-03-05"),
        ("5th of March", FRI, "", "2025-03-05"),
        ("Nov. 7", FRI, "", "2025-11-07"),
        ("Nov. 8", FRI, "", "2024-11-08"),
        ("Nov. 8", FRI, "The talks will resume on Nov. 8.", "2025-11-08"),
        ("Dec. 31", "2025-01-02", "", "2024-12-31"),
        ("Jan. 3", "2025-12-30", "The new rules will apply from Jan. 3.", "2026-01-03"),
        ("Feb. 29", FRI, "", "2024-02-29"),
        ("Sept. 30, 2025", FRI, "", "2025-09-30"),
        ("7 November 2025", "2020-01-01", "", "2025-11-07"),
        ("Nov. 7, 2025", "2020-01-01", "", "2025-11-07"),
        ("November 7th, 2025", "2020-01-01", "", "2025-11-07"),
        ("2025-11-07", "2020-01-01", "", "2025-11-07"),
        ("29 February 2024", FRI, "", "2024-02-29"),
    ],
)
def test_dates(phrase: str, anchor: str, context: str, expected: str) -> None:
    assert day(phrase, anchor, context) == expected


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2024", ("2024-01-01", "2024-12-31", "year")),
        ("in 2024", ("2024-01-01", "2024-12-31", "year")),
        ("1999", ("1999-01-01", "1999-12-31", "year")),
        ("Q3 2024", ("2024-07-01", "2024-09-30", "quarter")),
        ("in Q1 2025", ("2025-01-01", "2025-03-31", "quarter")),
        ("the fourth quarter of 2024", ("2024-10-01", "2024-12-31", "quarter")),
        ("the last quarter of 2023", ("2023-10-01", "2023-12-31", "quarter")),
        ("the first quarter", ("2025-01-01", "2025-03-31", "quarter")),
        ("third-quarter", ("2025-07-01", "2025-09-30", "quarter")),
        ("the fourth quarter", ("2025-10-01", "2025-12-31", "quarter")),
        ("Q2", ("2025-04-01", "2025-06-30", "quarter")),
    ],
)
def test_years_and_quarters(phrase: str, expected: tuple[str, str, str]) -> None:
    assert span(phrase, FRI) == expected


def test_quarter_without_year_before_and_after_anchor() -> None:
    assert span("the fourth quarter", "2025-02-01")[:2] == ("2024-10-01", "2024-12-31")
    context = "Sales are expected to recover in the third quarter."
    assert span("the third quarter", "2025-11-07", context)[:2] == ("2026-07-01", "2026-09-30")
    assert span("the fourth quarter", "2025-11-07", context)[:2] == ("2025-10-01", "2025-12-31")


def test_explicit_dates_outside_the_rules_use_dateparser() -> None:
    assert day("November the 7th", "2025-11-20") == "2025-11-07"
    assert day("11/07/2025", "2020-01-01") == "2025-11-07"


@pytest.mark.parametrize(
    ("phrase", "anchor"),
    [
        ("whenever", FRI),
        ("soon", FRI),
        ("", FRI),
        ("   ", FRI),
        ("Friday", "not a date"),
        ("30 February 2024", FRI),
        ("February 30", FRI),
        ("2024-13-01", FRI),
        ("3 apples ago", FRI),
    ],
)
def test_resolve_returns_none_when_not_understood(phrase: str, anchor: str) -> None:
    assert resolve(phrase, anchor) is None


def test_resolve_fields_and_anchor_types() -> None:
    when = resolve("on Tuesday", dt.date(2025, 11, 7))
    assert when == When("on Tuesday", "2025-11-04", "2025-11-04", FRI, "day")
    assert when.single_day
    assert resolve("on Tuesday", dt.datetime(2025, 11, 7, 15, 30)) == when
    assert resolve("on Tuesday", "2025-11-07T15:30:00Z") == when


# ---------------------------------------------------------------------------
# resolve_in


def test_resolve_in_span_with_time() -> None:
    text = "The strike ended on Tuesday after talks."
    start = text.index("on Tuesday")
    when = resolve_in(text, start, start + len("on Tuesday"), FRI)
    assert when is not None and when.start == "2025-11-04" and when.phrase == "on Tuesday"


def test_resolve_in_uses_first_expression_and_sentence_tense() -> None:
    text = "The vote, on Tuesday or in March, decides it."
    when = resolve_in(text, 0, len(text), FRI, sentence="The vote will be " + text)
    assert when is not None and when.phrase == "on Tuesday" and when.start == "2025-11-11"


def test_resolve_in_span_without_time() -> None:
    text = "The strike ended on Tuesday after talks."
    assert resolve_in(text, 0, 10, FRI) is None


# ---------------------------------------------------------------------------
# format_when


@pytest.mark.parametrize(
    ("when", "label"),
    [
        (When("on Friday", FRI, FRI, FRI, "day"), "Friday, 7 November 2025"),
        (When("in March", "2025-03-01", "2025-03-31", FRI, "month"), "March 2025"),
        (When("2024", "2024-01-01", "2024-12-31", FRI, "year"), "2024"),
        (When("last week", "2025-11-03", "2025-11-09", FRI, "week"), "week of 3 November 2025"),
        (When("Q1", "2025-01-01", "2025-03-31", FRI, "quarter"), "Q1 2025"),
        (
            When("x", "2025-11-03", "2025-11-09", FRI, "day"),
            "3 November 2025 to 9 November 2025",
        ),
    ],
)
def test_format_when(when: When, label: str) -> None:
    assert format_when(when) == label


def test_format_when_of_resolved_phrases() -> None:
    assert format_when(resolve("yesterday", "2024-03-01")) == "Thursday, 29 February 2024"  # type: ignore[arg-type]
    assert format_when(resolve("the third quarter of 2024", FRI)) == "Q3 2024"  # type: ignore[arg-type]
    assert format_when(resolve("earlier this week", FRI)) == "week of 3 November 2025"  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# question_scope

NONE = TimeScope(None, None, False, None)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What happened in 2024?", TimeScope("2024-01-01", "2024-12-31", False, "in 2024")),
        (
            "Who was prime minister in 2024?",
            TimeScope("2024-01-01", "2024-12-31", False, "in 2024"),
        ),
        ("Who is the president in 2024?", TimeScope("2024-01-01", "2024-12-31", False, "in 2024")),
        (
            "What did the bank do in March 2024?",
            TimeScope("2024-03-01", "2024-03-31", False, "in March 2024"),
        ),
        ("What happened last month?", TimeScope("2025-10-01", "2025-10-31", False, "last month")),
        ("Who won last year?", TimeScope("2024-01-01", "2024-12-31", False, "last year")),
        (
            "How much has inflation risen this year?",
            TimeScope("2025-01-01", "2025-12-31", False, "this year"),
        ),
        (
            "What was the rate as of June 2024?",
            TimeScope(None, "2024-06-30", True, "as of June 2024"),
        ),
        (
            "What was the rate as of 2024-06-30?",
            TimeScope(None, "2024-06-30", True, "as of 2024-06-30"),
        ),
        ("Who led the party before 2023?", TimeScope(None, "2022-12-31", False, "before 2023")),
        ("Who has led the party since 2022?", TimeScope("2022-01-01", None, False, "since 2022")),
        ("What changed after 2022?", TimeScope("2022-01-01", None, False, "after 2022")),
        (
            "Who ruled between 2020 and 2022?",
            TimeScope("2020-01-01", "2022-12-31", False, "between 2020 and 2022"),
        ),
        ("Who won the 2022 FIFA World Cup?", NONE),
        (
            "Who won the 2022 FIFA World Cup in 2022?",
            TimeScope("2022-01-01", "2022-12-31", False, "in 2022"),
        ),
        ("Who is the CEO of Apple?", TimeScope(None, None, True, "Who is")),
        ("Who is the coach of the 2022 World Cup winner?", TimeScope(None, None, True, "Who is")),
        ("What is the current interest rate?", TimeScope(None, None, True, "current")),
        ("Who currently leads the party?", TimeScope(None, None, True, "currently")),
        ("Who leads the party now?", TimeScope(None, None, True, "now")),
        ("What is the latest on the strike?", TimeScope(None, None, True, "latest")),
        ("Is he still in office?", TimeScope(None, None, True, "still")),
        ("What happened today?", TimeScope(None, None, True, "today")),
        ("Who holds the title at present?", TimeScope(None, None, True, "at present")),
        # present tense: the present state is asked for
        ("What is the capital of France?", TimeScope(None, None, True, "What is")),
        ("How many ferries does it operate?", TimeScope(None, None, True, "How many ferries does")),
        ("When did the talks end?", NONE),
        ("Who was the first president?", NONE),
        ("How many people attended the march?", NONE),
    ],
)
def test_question_scope(question: str, expected: TimeScope) -> None:
    assert question_scope(question, FRI) == expected


def test_question_scope_relative_to_today_across_year_end() -> None:
    scope = question_scope("What happened last month?", dt.date(2025, 1, 2))
    assert (scope.date_from, scope.date_to) == ("2024-12-01", "2024-12-31")
    scope = question_scope("Who resigned yesterday?", "2024-03-01")
    assert (scope.date_from, scope.date_to) == ("2024-02-29", "2024-02-29")


def test_time_scope_is_frozen() -> None:
    with pytest.raises(AttributeError):
        NONE.prefer_latest = True  # type: ignore[misc]


# ---------------------------------------------------------------------------
# cost


def test_import_does_not_load_dateparser() -> None:
    code = "import sys, qa.common.when; print('dateparser' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
