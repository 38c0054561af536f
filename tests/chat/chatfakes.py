"""A scripted stand-in for qa.Assistant, for fast chat tests."""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qa.settings import Settings
from qa.types import Answer, Citation, Filters, IngestReport, Rejection

KOREA = (
    "First Vice Foreign Minister Park Yoon-joo made the remark during the 16th strategic "
    "dialogue with his Japanese counterpart, Takehiro Funakoshi, stressing the need for "
    "cooperation.\n\nFunakoshi, in turn, expressed hope to work closely with Seoul to build on "
    "the outcome of the recent summit talks between President Lee Jae Myung and Japanese Prime "
    "Minister Sanae Takaichi."
)
EVIL = (
    "Breaking: the <script>window.__pwned = 1</script> tag and "
    '<img src=x onerror="window.__pwned = 2"> were found in the CMS. '
    "The editor in charge is Ada <b>Bold</b> Lovelace & *co* $x$."
)
SPORTS = "The Seoul marathon was won by Kim Min-ji in two hours and ten minutes on Sunday."


@dataclass(frozen=True)
class FakeInfo:
    articles: int
    chunks: int
    oldest_date: str | None
    newest_date: str | None
    model: str = "fake/encoder"


def cite(article_id: str, title: str, text: str, quote: str, *, score: float = 0.9) -> Citation:
    """A citation whose passage is the whole text, quote at its real offset."""
    start = text.index(quote)
    return Citation(
        article_id=article_id,
        title=title,
        date="2025-11-07",
        source="Yonhap",
        url="https://example.com/" + article_id,
        start=start,
        end=start + len(quote),
        quote=quote,
        passage=text,
        passage_start=0,
        passage_end=len(text),
        score=score,
    )


def whole(article_id: str, title: str, text: str, score: float = 0.2) -> Citation:
    return Citation(
        article_id, title, None, None, None, 0, len(text), text, text, 0, len(text), score
    )


class FakeAssistant:
    """Keyword rules over three articles; ``add`` ingests text files (BAD ones rejected).

    ``delay`` makes each ask/add sleep, so concurrency tests see overlap; the
    fake records whether an ask ever ran while an add was in progress. When
    ``gate`` is set, ``add`` sets ``add_started`` and waits for ``gate`` first.
    ``settings`` holds the limits the chat reads (as on the real assistant).
    """

    RULES = [
        (("counterpart",), "korea", "Takehiro Funakoshi"),
        (("build on",), "korea", "the outcome of the recent summit talks"),
        (("editor",), "evil", "Ada <b>Bold</b> Lovelace"),
        (("script",), "evil", "<script>window.__pwned = 1</script>"),
        (("marathon",), "sports", "Kim Min-ji"),
    ]

    def __init__(self, delay: float = 0.0, settings: Settings | None = None) -> None:
        self.delay = delay
        self.settings = settings if settings is not None else Settings()
        self.gate: threading.Event | None = None
        self.add_started = threading.Event()
        self.articles = {
            "korea": ("S. Korea, Japan hold strategic dialogue", KOREA),
            "evil": ('Evil <img src=x onerror="window.__pwned=3"> title', EVIL),
            "sports": ("Seoul marathon", SPORTS),
        }
        self.calls: list[tuple[str, Filters | None]] = []
        self.adding = 0
        self.asking = 0
        self.overlap = False
        self.max_asking = 0
        self._guard = threading.Lock()

    def ask(self, question, *, top_k=None, filters=None):
        with self._guard:
            self.calls.append((question, filters))
            self.asking += 1
            self.max_asking = max(self.max_asking, self.asking)
            self.overlap |= self.adding > 0
        try:
            if self.delay:
                time.sleep(self.delay)
            allowed = set(filters.article_ids) if filters and filters.article_ids else None
            q = question.lower()
            for keys, art, quote in self.RULES:
                if all(k in q for k in keys) and (allowed is None or art in allowed):
                    title, text = self.articles[art]
                    c = cite(art, title, text, quote)
                    return Answer(question, quote, 0.87, citations=(c,), extractor="fake")
            for art, (title, text) in self.articles.items():
                words = [w for w in re.findall(r"[a-z]{5,}", q)]
                if words and all(w in text.lower() for w in words):
                    c = cite(art, title, text, text.split()[0])
                    return Answer(question, c.quote, 0.6, citations=(c,), extractor="fake")
            related = tuple(whole(a, t, x) for a, (t, x) in list(self.articles.items())[:2])
            return Answer(question, None, 0.05, related=related, extractor="fake")
        finally:
            with self._guard:
                self.asking -= 1

    def add(self, paths, progress=None):
        with self._guard:
            self.adding += 1
            self.overlap |= self.asking > 0
        try:
            self.add_started.set()
            if self.gate is not None:
                assert self.gate.wait(10), "test gate never opened"
            if self.delay:
                time.sleep(self.delay)
            added, unchanged, rejected = [], [], []
            for p in [Path(x) for x in paths]:
                text = p.read_text(errors="replace")
                if "BAD" in text:
                    rejected.append(Rejection(str(p), "no article text found"))
                    continue
                art = hashlib.blake2b(text.encode(), digest_size=4).hexdigest()
                if art in self.articles:
                    unchanged.append(art)
                else:
                    self.articles[art] = (p.stem, text)
                    added.append(art)
                    if progress is not None:
                        progress(1, 0)  # one passage embedded
            return IngestReport(tuple(added), (), tuple(unchanged), tuple(rejected))
        finally:
            with self._guard:
                self.adding -= 1

    def info(self):
        return FakeInfo(len(self.articles), len(self.articles), "2025-11-07", "2025-11-08")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


ALLOWED_TAGS = {
    "div",
    "p",
    "b",
    "span",
    "details",
    "summary",
    "mark",
    "a",
    "br",
    "table",
    "tr",
    "th",
    "td",
}


class TagAudit(HTMLParser):
    """Collect every tag and attribute name the browser would build from the HTML."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs |= {name for name, _ in attrs}


def assert_harmless(html: str) -> None:
    audit = TagAudit(html)
    assert audit.tags <= ALLOWED_TAGS, audit.tags - ALLOWED_TAGS
    assert not {a for a in audit.attrs if a.startswith("on") or a in ("src", "style")}
