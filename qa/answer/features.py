"""What the calibrator sees of a candidate answer: clean spans, type fit, evidence features.

A candidate is one normalised answer text with every span that supports it. Its
features (:data:`FEATURES`) describe how sure the reader was (span and no-answer
logits, the margin over the runner-up), how retrieval ranked its passage, how many
passages and articles agree, whether its type fits the question (a "where" question
answered with a weekday does not), whether the question's words surround it, and whether
the sentence it comes from contradicts the question (:func:`sentence_clash`: a negation,
an opposite, a number the sentence lacks).
Selective QA under domain shift (Kamath, Jia and Liang, ACL 2020) is the reference
for calibrating on such features.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

from qa.common.lexicon import ANTONYMS, negates, numbers_in, sentence_bounds
from qa.common.question import AnswerType
from qa.types import Span

# ---------------------------------------------------------------------------
# Clean spans: never start or end in punctuation

_LEAD = set(" \t\r\n,.;:!?)]}\"'“”‘’«»—–-/")
_TRAIL = set(" \t\r\n,;:!?([{\"'“”‘’«»—–-/")
_CLOSERS = {")": "(", "]": "[", "}": "{"}
_ABBREV_END = re.compile(
    r"(?:\b(?:[A-Za-z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|Jr|Sr|St|Inc|Ltd|Co|Corp|Bros|No|Gen|Gov|Sen|"
    r"Rep|Rev|Prof|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|etc|vs)\.)$"
)


def trim_offsets(text: str, start: int, end: int) -> tuple[int, int]:
    """Offsets of ``text[start:end]`` without punctuation or spaces at either end.

    A final period stays when it ends an abbreviation ("U.S.", "Inc."), and a closing
    bracket stays when the span opened it ("(AFP)").
    """
    while start < end and text[start] in _LEAD:
        start += 1
    while end > start:
        ch = text[end - 1]
        stray = (
            ch in _TRAIL
            or (ch == "." and not _ABBREV_END.search(text[start:end]))
            or (ch in _CLOSERS and _CLOSERS[ch] not in text[start : end - 1])
        )
        if stray:
            end -= 1
        else:
            break
    return start, end


_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


def clean_span(span: Span) -> Span | None:
    """``span`` trimmed to start and end on a word.

    ``None`` if nothing is left, or if it runs across a paragraph break (a blank line):
    no answer does, and such spans join a photo credit or a dateline to the first words
    of the next paragraph. A single line break stays: hard-wrapped text breaks lines
    inside sentences.
    """
    text = span.hit.article.text
    start, end = trim_offsets(text, span.start, span.end)
    if end <= start or _PARAGRAPH_BREAK.search(text, start, end):
        return None
    if (start, end) == (span.start, span.end):
        return span
    return replace(span, text=text[start:end], start=start, end=end)


# ---------------------------------------------------------------------------
# Does the answer's form fit what the question asks for?

_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_TEMPORAL = re.compile(
    rf"\b(?:{_WEEKDAY}|{_MONTH}|(?:1[5-9]|20)\d\d|\d{{1,2}}(?:st|nd|rd|th)|today|yesterday|"
    r"tomorrow|tonight|morning|evening|night|week|month|year|decade|century|ago|spring|"
    r"summer|autumn|fall|winter|season|hours?|minutes?|days?|weeks?|months?|years?|"
    r"a\.m|p\.m|noon|midnight|era|period|age)\b",
    re.I,
)
_NUMBER_WORD = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|million|billion|trillion|dozen|half|several|few|many)\b",
    re.I,
)
_WEEKDAY_OR_MONTH = re.compile(rf"^(?:{_WEEKDAY}|{_MONTH})(?:'s)?$", re.I)


def type_fit(kind: AnswerType, answer: str) -> float:
    """How well ``answer``'s form fits the question's answer type, in [0, 1].

    1 fits, 0 contradicts ("where" -> "Friday"), values between are unsure. Form only
    (digits, dates, capitals), no tagger: cheap enough for every candidate.
    """
    text = answer.strip()
    if not text:
        return 0.0
    has_digit = any(c.isdigit() for c in text)
    temporal = bool(_TEMPORAL.search(text))
    numeric = has_digit or bool(_NUMBER_WORD.search(text))
    words = text.split()
    capitalised = sum(1 for w in words if w[:1].isupper()) / len(words)
    calendar_word = all(_WEEKDAY_OR_MONTH.match(w.strip(",.")) for w in words)
    if kind.kind == "time":
        return 1.0 if temporal else 0.4 if has_digit else 0.0
    if kind.kind == "number":
        return 1.0 if numeric and not calendar_word else 0.0
    if kind.kind == "measure":
        return 1.0 if numeric or temporal else 0.2
    if kind.kind == "place":
        if calendar_word or (has_digit and capitalised == 0):
            return 0.0
        return 1.0 if capitalised >= 0.5 else 0.4
    if kind.kind == "agent":
        if calendar_word or (has_digit and capitalised == 0):
            return 0.0
        return 1.0 if capitalised >= 0.5 else 0.4
    return 0.5


# ---------------------------------------------------------------------------
# Features of a candidate answer

FEATURES: tuple[str, ...] = (
    "score_logit",  # logit of the best span's extractor score x support x retrieval
    "extractor_logit",  # logit of the extractor's own score
    "margin",  # span logit minus the window's no-answer logit (neural)
    "span_logit",
    "null_logit",
    "gap_to_next",  # score_logit minus the runner-up candidate's
    "candidate_rank",  # 0 for the candidate with the best raw score
    "log_spans",  # log(1 + distinct positions that give this answer)
    "log_articles",  # log(1 + distinct articles)
    "retrieval_score",  # fused retrieval score of the best span's passage
    "retrieval_rank",
    "dense_score",
    "missing_names",  # names of the question its article never mentions
    "missing_numbers",
    "type_fit",
    "type_open",  # the question asks for no particular type ("what ...")
    "question_words_near",  # share of question words within 150 characters of the span
    "answer_in_question",  # share of the answer's words that the question repeats
    "log_answer_words",
    "negation_unmatched",  # the question negates, the answer's sentence does not
    "antonym_in_sentence",  # a question word is absent there while its opposite is present
    "numbers_not_in_sentence",  # the question's numbers that the answer's sentence lacks
)

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "do",
        "does",
        "did",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "many",
        "much",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "as",
        "into",
        "about",
        "after",
        "before",
        "over",
        "under",
        "than",
        "then",
        "there",
        "their",
        "they",
        "he",
        "she",
        "his",
        "her",
        "him",
        "has",
        "have",
        "had",
        "will",
        "would",
        "can",
        "could",
        "should",
        "may",
        "might",
    ]
)


def content_words(text: str) -> set[str]:
    """Lower-cased words of ``text`` minus stop words."""
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def sentence_clash(question: str, span: Span) -> tuple[float, float, float]:
    """How the question differs from the sentence its answer comes from.

    SQuAD 2.0's unanswerable questions are mostly an answerable one with one thing
    changed (Rajpurkar, Jia and Liang, 2018): a negation put in, a word replaced by its
    opposite, a number swapped. Returns ``(negation_unmatched, antonym_in_sentence,
    numbers_not_in_sentence)``: 1.0 when the question negates and the sentence does not;
    1.0 when a question word is missing from the sentence while its opposite
    (:data:`~qa.common.lexicon.ANTONYMS`) is there; the count of the question's numbers
    the sentence does not hold.
    """
    text = span.hit.article.text
    lo, hi = sentence_bounds(text, span.start, span.end)
    sentence = text[lo:hi]
    negation = 1.0 if negates(question) and not negates(sentence) else 0.0
    said = set(_WORD.findall(sentence.lower()))
    asked = set(_WORD.findall(question.lower()))
    opposite = any(w in ANTONYMS and w not in said and ANTONYMS[w] in said for w in asked)
    numbers = numbers_in(question) - numbers_in(sentence)
    return negation, 1.0 if opposite else 0.0, float(len(numbers))


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def candidate_features(
    *,
    spans: Sequence[Span],
    raw_scores: Sequence[float],
    runner_up: float | None,
    rank: int,
    missing: tuple[int, int],
    kind: AnswerType,
    question_words: set[str],
    question: str,
) -> list[float]:
    """The :data:`FEATURES` of one candidate answer.

    Args:
        spans: Every span that gives this answer, best first.
        raw_scores: Their composed scores (extractor x support x retrieval), same order.
        runner_up: The best raw score of the next candidate (``None`` if there is none).
        rank: Position of this candidate by raw score (0 = best).
        missing: ``(names, numbers)`` of the question missing from the best span's article.
        kind: The question's answer type.
        question_words: Content words of the question.
        question: The question itself (for :func:`sentence_clash`).
    """
    best = spans[0]
    hit = best.hit
    score_logit = _logit(raw_scores[0])
    margin = (
        best.logit - best.null_logit
        if best.logit is not None and best.null_logit is not None
        else 0.0
    )
    context = hit.chunk.text
    lo = max(0, best.start - hit.chunk.start - 150)
    hi = min(len(context), best.end - hit.chunk.start + 150)
    near = content_words(context[lo:hi]) - content_words(best.text)
    answer_words = content_words(best.text)
    positions = {(s.hit.article.article_id, s.start, s.end) for s in spans}
    articles = {s.hit.article.article_id for s in spans}
    return [
        score_logit,
        _logit(best.score),
        margin,
        best.logit if best.logit is not None else 0.0,
        best.null_logit if best.null_logit is not None else 0.0,
        score_logit - _logit(runner_up) if runner_up is not None else 8.0,
        float(min(rank, 5)),
        math.log1p(len(positions)),
        math.log1p(len(articles)),
        hit.score,
        float(min(hit.rank, 20)),
        hit.dense_score if hit.dense_score is not None else 0.0,
        float(missing[0]),
        float(missing[1]),
        type_fit(kind, best.text),
        1.0 if kind.open else 0.0,
        len(question_words & near) / len(question_words) if question_words else 0.0,
        len(answer_words & question_words) / len(answer_words) if answer_words else 0.0,
        math.log1p(len(best.text.split())),
        *sentence_clash(question, best),
    ]
