"""A scripted stand-in for qa.Assistant, for fast chat tests."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from qa.settings import Settings
from qa.types import Answer, Citation, Filters, IngestReport, Rejection, Span

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


class KeywordReader:
    """A model-free extractor for a real ``qa.Assistant``: the sentence holding a rare word.

    The question's words of six letters or more, longest first, are looked up in the
    retrieved passages (best first); the sentence (or line) around the first match is the
    answer span, at its real article offsets. No model loads.
    """

    name = "keyword-reader"

    def calibrator_file(self):
        return None

    def extract(self, question, hits):
        words = sorted(set(re.findall(r"[a-z]{6,}", question.lower())), key=len, reverse=True)
        for word in words:
            for hit in hits:
                text = hit.chunk.text
                at = text.lower().find(word)
                if at < 0:
                    continue
                start = max(0, text.rfind(". ", 0, at) + 2, text.rfind("\n", 0, at) + 1)
                ends = [e for e in (text.find(". ", at) + 1, text.find("\n", at)) if e > 0]
                end = min(ends) if ends else len(text)
                begin = hit.chunk.start + start
                span = hit.article.text[begin : hit.chunk.start + end]
                return [Span(span, begin, begin + len(span), 0.9, hit)]
        return []


HOSTILE_FILE_LIMIT = 4_000  # the backend's per-file limit in the hostile-upload test

HOSTILE_PAGE = """<!doctype html><html><head>
<title>Narwhalbus <script>window.__pwned = 'title'</script> service</title>
<link rel="canonical" href="javascript:window.__pwned = 'canonical'">
<script>window.__pwned = 'html-script'</script></head>
<body onload="window.__pwned = 'onload'"><article><h1>Narwhalbus service starts in Busan</h1>
<p>The narwhalbus service started in Busan on Monday, the city's transport operator said in a
statement to reporters gathered at the main terminal near the harbour.</p>
<p>Engineers tested the new vehicles for three weeks <img src=x onerror="window.__pwned =
'html-img'"> before the launch. <a href="javascript:window.__pwned = 'html-link'">Timetable</a>
details were posted at every stop along the coastal route.</p>
<p>Passengers praised the quiet ride and the punctual departures during the first week of
service in the city, and the operator plans two more routes next spring.</p>
</article></body></html>"""

HOSTILE_RECORDS = [
    {
        "id": "js-url",
        "title": "Pangolight <a href=\"javascript:window.__pwned = 'title-link'\">report</a>",
        "url": "javascript:window.__pwned = 'url'",
        "source": "<b onmouseover=\"window.__pwned = 'source'\">Wire</b>",
        "date": "2025-11-07",
        "text": "Lamp news\n\nThe pangolight lamp javascript:window.__pwned = 'text' was unveiled "
        "in Daegu on Tuesday. Readers were told to [click here](javascript:window.__pwned = "
        "'md') for details, and the makers said it uses very little power.",
    },
    {
        "id": "js-url-2",
        "title": "Tapirlamp factory",
        "url": " JaVaScRiPt:window.__pwned = 'url2'",
        "text": "The tapirlamp factory opened in Ulsan on Wednesday with two hundred workers, "
        "the company said, and it expects to double output by the end of next year.",
    },
    {
        "id": "data-url",
        "title": "Okapiwheel",
        "url": "data:text/html,<script>window.__pwned = 'data'</script>",
        "text": "The okapiwheel bicycle went on sale in Incheon on Thursday, and the first "
        "batch of five hundred sold out within an hour, the shop owner said.",
    },
]


def hostile_uploads() -> list[dict]:
    """Files for the page's upload box (Playwright payloads): markup, bad URLs, bad files."""

    def payload(name: str, data: str | bytes, mime: str = "text/plain") -> dict:
        raw = data.encode() if isinstance(data, str) else data
        return {"name": name, "mimeType": mime, "buffer": raw}

    records = "".join(json.dumps(r) + "\n" for r in HOSTILE_RECORDS)
    return [
        payload(
            "script.txt",
            "Inspection news\n\nThe zebracorn inspector <script>window.__pwned = 'txt-script'"
            "</script> filed the report on Monday. Officials said the count rose again.",
        ),
        payload(
            "handlers.txt",
            "Aquarium news\n\nThe quokkafish <img src=x onerror=\"window.__pwned = 'onerror'\"> "
            "swam <body onload=\"window.__pwned = 'onload'\"> past the glass <div "
            "onmouseover=\"window.__pwned = 'hover'\">while children watched</div> on Friday.",
        ),
        payload("page.html", HOSTILE_PAGE, "text/html"),
        payload("links.jsonl", records, "application/json"),
        payload(
            "../../evil.txt",
            "Robot news\n\nThe wombatron robot <svg onload=\"window.__pwned = 'svg'\"></svg> "
            "sorted parcels in Gwangju on Saturday, its makers said.",
        ),
        payload("broken.json", '{"title": "Half a record", "text": "cut off'),
        payload("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4),
        payload("latin1.txt", "Caf\xe9 news: the caf\xe9 opened.".encode("latin-1")),
        payload("empty.md", b""),
        payload("huge.txt", "Too long. " * (HOSTILE_FILE_LIMIT // 10 + 50)),
        payload("<img src=x onerror=alert(1)>\u202eevil\u200b.txt", "   \n  "),
    ]


# question -> text the answer shows (as text) and the file it came from
HOSTILE_QUESTIONS = [
    ("Who filed the zebracorn report?", "<script>window.__pwned = 'txt-script'</script>"),
    ("Where did the quokkafish swim?", "onerror=\"window.__pwned = 'onerror'\""),
    ("When did the narwhalbus service start?", "narwhalbus service started in Busan"),
    ("Where was the pangolight unveiled?", "javascript:window.__pwned = 'text'"),
    ("Where did the tapirlamp factory open?", "tapirlamp factory opened in Ulsan"),
    ("Where did the okapiwheel bicycle go on sale?", "okapiwheel bicycle went on sale"),
    ("Where did the wombatron robot sort parcels?", "<svg onload=\"window.__pwned = 'svg'\">"),
]
