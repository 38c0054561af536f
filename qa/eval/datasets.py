"""Question sets for evaluation: SQuAD v1.1, SQuAD 2.0, RealTime QA, own JSONL.

Every loader returns an :class:`EvalSet`: the documents that make up the
corpus (SQuAD paragraphs, news articles), optional distractor documents, and
the questions with their gold answers (an empty tuple means unanswerable) and
the ids of the documents that hold them (used by the closed-book mode).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from qa.common.squad import DataError, read_squad

_URL_DATE = re.compile(r"/(20\d\d|19\d\d)/(\d\d)/(\d\d)/")
_QUOTES = "\"'“”‘’«»"


@dataclass(frozen=True)
class EvalDoc:
    """A document of the evaluation corpus (a paragraph or an article).

    ``doc_id`` is unique within the set and becomes the record ``id`` at
    ingest, so the index's article id can be traced back to it.
    """

    doc_id: str
    text: str
    title: str | None = None
    date: str | None = None
    source: str | None = None
    url: str | None = None

    def record(self) -> dict[str, Any]:
        """Return the ingest record (``Assistant.add_records`` input) for this document."""
        rec: dict[str, Any] = {"id": self.doc_id, "text": self.text}
        for key in ("title", "date", "source", "url"):
            value = getattr(self, key)
            if value:
                rec[key] = value
        return rec


@dataclass(frozen=True)
class EvalQuestion:
    """A question with its gold answers.

    Attributes:
        qid: Question id from the data.
        question: The question text.
        answers: Gold answers; empty means the question is unanswerable.
        doc_ids: Documents that hold the answer (or, for unanswerable
            questions, the document it was asked about).
        tags: Subsets the question belongs to (e.g. ``answer_in_article``),
            reported separately.
        as_of: The day the question was asked (ISO); a time-aware run asks it
            as of that day.
        when: The day (ISO) the answer's time should resolve to, for questions
            about when something happened.

    """

    qid: str
    question: str
    answers: tuple[str, ...]
    doc_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    as_of: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class EvalSet:
    """A question set and its corpus.

    Attributes:
        name: Short name (``squad``, ``squad2``, ``realtimeqa``, ``jsonl``).
        docs: Corpus documents, in file order.
        questions: Questions, in file order (or a seeded sample).
        files: Data files read (their sha256 goes into the summary).
        distractors: Extra documents added to the index only (open and
            retrieval modes), never gold.
        total_questions: Questions in the file before sampling.

    """

    name: str
    docs: tuple[EvalDoc, ...]
    questions: tuple[EvalQuestion, ...]
    files: tuple[Path, ...] = ()
    distractors: tuple[EvalDoc, ...] = ()
    total_questions: int = 0
    _by_id: dict[str, EvalDoc] = field(default_factory=dict, compare=False, repr=False)

    def doc(self, doc_id: str) -> EvalDoc:
        """Return the document with this id."""
        if not self._by_id:
            self._by_id.update({d.doc_id: d for d in (*self.docs, *self.distractors)})
        return self._by_id[doc_id]

    def sample(self, limit: int | None, seed: int = 0) -> EvalSet:
        """Return a reproducible sample of ``limit`` questions; the corpus is unchanged."""
        if limit is None or limit >= len(self.questions):
            return self
        if limit <= 0:
            raise DataError("--limit must be positive")
        picked = sorted(random.Random(seed).sample(range(len(self.questions)), limit))
        return replace(self, questions=tuple(self.questions[i] for i in picked), _by_id={})

    def with_distractors(self, docs: Sequence[EvalDoc], files: Sequence[Path] = ()) -> EvalSet:
        """Return a copy with distractor documents added to the corpus."""
        return replace(
            self,
            distractors=(*self.distractors, *docs),
            files=(*self.files, *files),
            _by_id={},
        )


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{lineno}: not valid JSON ({exc})") from exc
            if not isinstance(obj, dict):
                raise DataError(f"{path}:{lineno}: expected a JSON object")
            yield lineno, obj


# ---------------------------------------------------------------------------
# SQuAD


def load_squad(path: str | Path, *, name: str = "squad") -> EvalSet:
    """Load a SQuAD v1.1 or v2.0 JSON file.

    Each paragraph becomes a document ``<article index>-<paragraph index>``
    titled with the Wikipedia title (underscores replaced). Unanswerable
    questions (v2 ``is_impossible``) get an empty answer tuple; their
    ``plausible_answers`` are ignored, as in the official script.
    """
    path = Path(path)
    docs: list[EvalDoc] = []
    questions: list[EvalQuestion] = []
    for para in read_squad(path):
        doc_id = f"{para.article_index}-{para.paragraph_index}"
        title = para.title.replace("_", " ") or None
        docs.append(EvalDoc(doc_id=doc_id, text=para.context, title=title))
        for q in para.questions:
            golds = tuple(text for text, _ in q.answers)
            questions.append(
                EvalQuestion(
                    qid=q.qid,
                    question=q.question,
                    answers=golds,
                    doc_ids=(doc_id,),
                    tags=("has_ans",) if golds else ("no_ans",),
                )
            )
    return EvalSet(
        name=name,
        docs=tuple(docs),
        questions=tuple(questions),
        files=(path,),
        total_questions=len(questions),
    )


# ---------------------------------------------------------------------------
# RealTime QA


def _iso_day(value: Any, where: str) -> str | None:
    """``YYYY-MM-DD`` from ``value`` ("2022/06/16" too); ``None`` when absent."""
    if value in (None, ""):
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(str(value).strip().replace("/", "-")).isoformat()
    except ValueError as exc:
        raise DataError(f"{where}: not a date (YYYY-MM-DD): {value!r}") from exc


def clean_choice(text: str) -> str:
    """Strip surrounding quotes, whitespace and a final period from a choice.

    RealTime QA choices are written like ``“Squid Game”``; the official SQuAD
    normalisation only removes ASCII punctuation, so typographic quotes would
    otherwise make every quoted answer wrong. This is the same cleaning the
    data README used to compute ``answer_in_article``.
    """
    out = text.strip()
    while out and out[0] in _QUOTES:
        out = out[1:].strip()
    while out and out[-1] in _QUOTES:
        out = out[:-1].strip()
    if out.endswith("."):
        out = out[:-1].strip()
    return out


def _date_from_url(url: str | None) -> str | None:
    match = _URL_DATE.search(url if url is not None else "")
    return f"{match[1]}-{match[2]}-{match[3]}" if match else None


def load_realtimeqa(path: str | Path) -> EvalSet:
    """Load ``realtimeqa_2022_gold_joined.jsonl``: CNN quiz questions and their articles.

    The corpus is every distinct article (by URL); a question's gold answer is
    the cleaned text of its correct choice(s). Questions whose answer occurs in
    an article are tagged ``answer_in_article`` (the data's own flag).
    """
    path = Path(path)
    docs: dict[str, EvalDoc] = {}
    questions: list[EvalQuestion] = []
    for lineno, row in _read_jsonl(path):
        try:
            doc_ids: list[str] = []
            for art in row["articles"]:
                url = art.get("url") or f"{path.name}:{lineno}:{len(doc_ids)}"
                if url not in docs:
                    docs[url] = EvalDoc(
                        doc_id=url,
                        text=art["text"],
                        date=_date_from_url(url),
                        source="CNN" if "cnn.com" in url else None,
                        url=art.get("url"),
                    )
                doc_ids.append(url)
            golds = tuple(clean_choice(a) for a in row["answer_text"])
            questions.append(
                EvalQuestion(
                    qid=str(row["question_id"]),
                    question=row["question"],
                    answers=golds,
                    doc_ids=tuple(doc_ids),
                    tags=("answer_in_article",) if row.get("answer_in_article") else (),
                    as_of=_iso_day(row.get("question_date"), f"{path}:{lineno}"),
                )
            )
        except (KeyError, TypeError) as exc:
            raise DataError(f"{path}:{lineno}: missing field {exc}") from exc
    return EvalSet(
        name="realtimeqa",
        docs=tuple(docs.values()),
        questions=tuple(questions),
        files=(path,),
        total_questions=len(questions),
    )


def load_distractors(path: str | Path) -> tuple[list[EvalDoc], list[Path]]:
    """Load distractor articles from a JSONL file or a folder of them (``*.jsonl``).

    Each line needs ``text``; ``id``, ``title``, ``date``, ``source`` and
    ``url`` are used when present (BBC News lines have ``id``, ``title``,
    ``category``, ``text``). Ids are prefixed with ``distractor:`` so they
    can never collide with a gold document.
    """
    path = Path(path)
    files = sorted(path.glob("*.jsonl")) if path.is_dir() else [path]
    if not files:
        raise DataError(f"{path}: no .jsonl files")
    docs: list[EvalDoc] = []
    for file in files:
        is_bbc = "bbc" in file.name.lower()
        for lineno, row in _read_jsonl(file):
            text = row.get("text")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f"{file}:{lineno}: missing text")
            rid = row.get("id") or f"{file.name}:{lineno}"
            docs.append(
                EvalDoc(
                    doc_id=f"distractor:{file.stem}:{rid}",
                    text=text,
                    title=row.get("title"),
                    date=row.get("date"),
                    source=row.get("source") or ("BBC" if is_bbc else None),
                    url=row.get("url"),
                )
            )
    return docs, files


# ---------------------------------------------------------------------------
# Own JSONL format (docs/eval-format.md)


def _str_list(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DataError(f"{where}: '{key}' must be a list of strings")
    return tuple(value)


def load_jsonl(articles: str | Path, questions: str | Path) -> EvalSet:
    """Load the own format: an articles JSONL file and a questions JSONL file.

    See ``docs/eval-format.md``. Article lines need ``id`` and ``text``;
    question lines need ``question`` and ``answers`` (a list; empty means
    unanswerable) and may give ``id`` and ``article_ids``.
    """
    apath, qpath = Path(articles), Path(questions)
    docs: dict[str, EvalDoc] = {}
    for lineno, row in _read_jsonl(apath):
        where = f"{apath}:{lineno}"
        doc_id, text = row.get("id"), row.get("text")
        if doc_id is None or not isinstance(text, str) or not text.strip():
            raise DataError(f"{where}: an article needs 'id' and non-empty 'text'")
        doc_id = str(doc_id)
        if doc_id in docs:
            raise DataError(f"{where}: duplicate article id {doc_id!r}")
        docs[doc_id] = EvalDoc(
            doc_id=doc_id,
            text=text,
            title=row.get("title"),
            date=row.get("date"),
            source=row.get("source"),
            url=row.get("url"),
        )
    qs: list[EvalQuestion] = []
    for lineno, row in _read_jsonl(qpath):
        where = f"{qpath}:{lineno}"
        question = row.get("question")
        if not isinstance(question, str) or not question.strip():
            raise DataError(f"{where}: missing 'question'")
        if "answers" not in row:
            raise DataError(f"{where}: missing 'answers' (use [] for unanswerable)")
        golds = _str_list(row["answers"], where, "answers")
        ids = _str_list(row.get("article_ids"), where, "article_ids")
        unknown = [i for i in ids if i not in docs]
        if unknown:
            raise DataError(f"{where}: unknown article id(s) {', '.join(unknown)}")
        qs.append(
            EvalQuestion(
                qid=str(row.get("id", f"q{lineno}")),
                question=question,
                answers=golds,
                doc_ids=ids,
                tags=("has_ans",) if golds else ("no_ans",),
                as_of=_iso_day(row.get("as_of"), f"{where}: as_of"),
                when=_iso_day(row.get("when"), f"{where}: when"),
            )
        )
    return EvalSet(
        name="jsonl",
        docs=tuple(docs.values()),
        questions=tuple(qs),
        files=(apath, qpath),
        total_questions=len(qs),
    )


def iter_records(
    eval_set: EvalSet, *, include_distractors: bool = True
) -> Iterable[dict[str, Any]]:
    """Ingest records for the set's corpus (and its distractors)."""
    for doc in eval_set.docs:
        yield doc.record()
    if include_distractors:
        for doc in eval_set.distractors:
            yield doc.record()
