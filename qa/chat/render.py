"""HTML for the chat: answers, cited passages, the index summary, upload reports.

Everything that comes from an article, a question or a file name goes through
:func:`esc` (``html.escape``), so text is always shown as text: an article
holding ``<script>`` or ``<img onerror=...>`` renders as those characters,
never as markup. The only tags in the output are the fixed ones written here.
The chat shows these strings with Markdown rendering off (so ``*``, ``_``,
``$`` or ``[x](y)`` in an article stay literal) and Gradio's sanitiser on as a
second line of defence.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from qa.answer.conversation import Turn
from qa.common.when import label_beside
from qa.types import Answer, Citation

NOT_FOUND = "I could not find that in the loaded articles."

CSS = """
.qa-answer .qa-answer-text { font-size: 1.05em; margin: 0 0 .25em 0; }
.qa-answer .qa-meta, .qa-answer .qa-note { color: var(--body-text-color-subdued); font-size: .85em;
  margin: 0 0 .4em 0; }
.qa-answer details { border-left: 3px solid var(--color-accent); padding: .1em .6em;
  margin: .35em 0; }
.qa-answer summary { cursor: pointer; font-size: .9em; }
.qa-answer .qa-passage { white-space: pre-wrap; font-size: .92em; margin: .35em 0; }
.qa-answer .qa-likely { color: #1b7a3a; font-weight: 600; }
.qa-answer .qa-unsure { color: #a15c00; font-weight: 600; }
.qa-answer mark { background: #ffe066; color: #000; padding: 0 .1em; border-radius: 2px; }
.qa-report table { width: 100%; font-size: .85em; }
.qa-report td, .qa-report th { padding: 2px 4px; vertical-align: top; text-align: left; }
"""


def esc(text: object) -> str:
    """Escape any text for HTML (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


def highlight(passage: str, start: int, end: int) -> str:
    """Escape ``passage`` and wrap ``passage[start:end]`` in ``<mark>``.

    Offsets outside the passage or an empty span give the passage unmarked;
    so does a span covering the whole passage (a "related" passage has no
    answer inside it to point at).
    """
    if not (0 <= start < end <= len(passage)) or (start == 0 and end == len(passage)):
        return esc(passage)
    return (
        esc(passage[:start])
        + '<mark class="qa-span">'
        + esc(passage[start:end])
        + "</mark>"
        + esc(passage[end:])
    )


def shorten(text: str, limit: int = 110) -> str:
    """Cut ``text`` to ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " ":
        cut = cut.rsplit(" ", 1)[0]  # do not end in the middle of a word
    return cut.rstrip(" ,;:…") + "…"


def percent(score: float) -> str:
    """Format a score in [0, 1] as a whole percentage."""
    return f"{round(max(0.0, min(1.0, score)) * 100)}%"


def _safe_url(url: str | None) -> str | None:
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def render_citation(citation: Citation, *, opened: bool = False, mark: bool = True) -> str:
    """One cited source: title, date, source, score, and the marked passage.

    Collapsible (``<details>``); ``opened`` shows the passage at first.
    """
    bits = [f"<b>{esc(shorten(citation.title or citation.article_id))}</b>"]
    bits += [esc(x) for x in (citation.date, citation.source) if x]
    bits.append(f"score {percent(citation.score)}")
    start, end = citation.highlight if mark else (0, 0)
    passage = highlight(citation.passage, start, end)
    url = _safe_url(citation.url)
    link = (
        f'<div class="qa-url"><a href="{esc(url)}" target="_blank" rel="noopener noreferrer">'
        f"{esc(url)}</a></div>"
        if url
        else ""
    )
    return (
        f'<details class="qa-cite"{" open" if opened else ""}>'
        f"<summary>{' · '.join(bits)}</summary>"
        f'<div class="qa-passage">{passage}</div>{link}</details>'
    )


def _distinct(citations: Iterable[Citation]) -> list[Citation]:
    seen: set[tuple[str, int, int]] = set()
    out = []
    for c in citations:
        key = (c.article_id, c.start, c.end)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def render_answer(
    answer: Answer,
    *,
    asked: str | None = None,
    scoped: bool = False,
    fell_back: bool = False,
    seconds: float | None = None,
) -> str:
    """Render the assistant's chat message for one answer.

    A found answer: the answer in bold, its confidence, then every cited
    source (the best one opened). No answer: the plain not-found sentence and
    the closest passages as "related" (collapsed, nothing marked).

    Args:
        answer: The answer to show.
        asked: The question as actually asked, when a follow-up was rewritten.
        scoped: The answer was searched in the previously cited articles only.
        fell_back: A follow-up found nothing there and searched everything.
        seconds: Time taken, shown in the meta line.

    """
    parts = ['<div class="qa-answer">']
    notes = []
    if asked:
        notes.append(f"Read as: “{esc(asked)}”")
    if scoped:
        notes.append("searched the articles cited above")
    elif fell_back:
        notes.append("not in the articles cited above; searched all articles")
    timing = f" · {seconds:.2f} s" if seconds is not None else ""
    if answer.found:
        cites = _distinct(answer.citations)
        articles = len({c.article_id for c in cites})
        when = f" ({esc(label_beside(answer.when, answer.text or ''))})" if answer.when else ""
        parts.append(f'<p class="qa-answer-text"><b>{esc(answer.text)}</b>{when}</p>')
        verdict = (
            '<span class="qa-likely">likely right</span>'
            if answer.likely
            else '<span class="qa-unsure">unsure</span>'
        )
        parts.append(
            f'<p class="qa-meta">{verdict} · confidence {percent(answer.score)} · '
            f"{articles} source{'s' if articles != 1 else ''}{timing}</p>"
        )
        if notes:
            parts.append(f'<p class="qa-note">{esc_join(notes)}</p>')
        parts.append('<div class="qa-sources">')
        parts += [render_citation(c, opened=i == 0) for i, c in enumerate(cites)]
        parts.append("</div>")
        if answer.others:
            parts.append(render_timeline(answer))
    else:
        parts.append(f'<p class="qa-answer-text qa-not-found">{esc(NOT_FOUND)}</p>')
        if timing:
            parts.append(f'<p class="qa-meta">no answer above the confidence threshold{timing}</p>')
        if notes:
            parts.append(f'<p class="qa-note">{esc_join(notes)}</p>')
        related = _distinct(answer.related)
        if related:
            parts.append('<div class="qa-related"><p>Related passages:</p>')
            parts += [render_citation(c, mark=False) for c in related]
            parts.append("</div>")
    parts.append("</div>")
    return "".join(parts)


def render_timeline(answer: Answer) -> str:
    """What other articles answer: a conflict (same date) or the earlier answers."""
    head = (
        "Sources of the same date disagree:"
        if answer.conflict
        else "Other sources answered differently (newest first):"
    )
    items = []
    for other in answer.others:
        c = other.citation
        bits = [esc(x) for x in (c.date or "undated", c.source, shorten(c.title, 60)) if x]
        tag = "same day" if other.conflict else "earlier" if c.date else "undated"
        items.append(
            f"<p>{tag}: <b>{esc(other.text)}</b> · {' · '.join(bits)} · "
            f"confidence {percent(other.score)}</p>"
        )
    return f'<div class="qa-timeline"><p class="qa-note">{head}</p>{"".join(items)}</div>'


def esc_join(notes: Sequence[str]) -> str:
    """Join already-escaped note fragments."""
    return "; ".join(notes) + "."


def render_turn(turn: Turn) -> str:
    """Render one conversation turn (noting a rewritten follow-up)."""
    return render_answer(
        turn.answer,
        asked=turn.asked if turn.asked != turn.question else None,
        scoped=turn.scoped,
        fell_back=turn.fell_back,
        seconds=turn.seconds,
    )


def render_question(question: str) -> str:
    """Render the person's message, as text."""
    return esc(question)


def render_info(info: Any) -> str:
    """Render the side panel's summary of the loaded index (an ``IndexInfo``)."""
    if info is None:
        return "<p>No index loaded.</p>"
    rows = [
        ("Articles", getattr(info, "articles", "?")),
        ("Passages", getattr(info, "chunks", "?")),
        ("Oldest", getattr(info, "oldest_date", None) or "—"),
        ("Newest", getattr(info, "newest_date", None) or "—"),
        ("Undated", getattr(info, "undated", "?")),
    ]
    model = getattr(info, "model", None)
    if model:
        rows.append(("Model", model))
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<div class="qa-info"><table>{body}</table></div>'


@dataclass(frozen=True)
class FileResult:
    """What happened to one uploaded file.

    Attributes:
        name: The file name as uploaded.
        added: Articles added.
        updated: Articles updated.
        unchanged: Articles already in the index.
        rejected: Reasons for anything refused (the file or records in it).

    """

    name: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: tuple[str, ...] = field(default=())

    @property
    def status(self) -> str:
        """One word: added, updated, unchanged or rejected."""
        if self.added:
            return "added"
        if self.updated:
            return "updated"
        if self.unchanged:
            return "unchanged"
        return "rejected" if self.rejected else "empty"


def render_report(results: Sequence[FileResult]) -> str:
    """Render the per-file upload report as an HTML table."""
    if not results:
        return "<p>No files.</p>"
    head = (
        "<tr><th>File</th><th>Result</th><th>Added</th><th>Updated</th>"
        "<th>Unchanged</th><th>Rejected</th></tr>"
    )
    rows = []
    for r in results:
        reasons = "<br>".join(esc(x) for x in r.rejected) or "—"
        rows.append(
            f"<tr><td>{esc(r.name)}</td><td>{esc(r.status)}</td><td>{r.added}</td>"
            f"<td>{r.updated}</td><td>{r.unchanged}</td><td>{reasons}</td></tr>"
        )
    return f'<div class="qa-report"><table>{head}{"".join(rows)}</table></div>'
