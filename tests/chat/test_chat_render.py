from __future__ import annotations

from chatfakes import EVIL, KOREA, assert_harmless, cite, whole

from qa.chat.render import (
    NOT_FOUND,
    FileResult,
    esc,
    highlight,
    percent,
    render_answer,
    render_citation,
    render_info,
    render_question,
    render_report,
    shorten,
)
from qa.types import Answer, Citation


def test_highlight_marks_exact_offsets_and_escapes():
    text = "a < b & <c> then Takehiro Funakoshi said"
    start = text.index("Takehiro")
    out = highlight(text, start, start + len("Takehiro Funakoshi"))
    assert out == (
        'a &lt; b &amp; &lt;c&gt; then <mark class="qa-span">Takehiro Funakoshi</mark> said'
    )


def test_highlight_escapes_inside_the_mark():
    assert highlight("x<y>z", 1, 4) == 'x<mark class="qa-span">&lt;y&gt;</mark>z'


def test_highlight_bad_or_whole_offsets_leave_passage_unmarked():
    assert highlight("abc", 2, 1) == "abc"
    assert highlight("abc", -1, 2) == "abc"
    assert highlight("abc", 1, 9) == "abc"
    assert highlight("abc", 0, 3) == "abc"
    assert highlight("a<", 1, 1) == "a&lt;"


def test_citation_highlight_uses_passage_relative_offsets():
    # a passage in the middle of an article: highlight = start - passage_start
    article = "HEAD. " + KOREA
    quote = "Takehiro Funakoshi"
    start = article.index(quote)
    c = Citation(
        "korea",
        "T",
        "2025-11-07",
        "Yonhap",
        None,
        start,
        start + len(quote),
        quote,
        KOREA,
        6,
        6 + len(KOREA),
        0.8,
    )
    html = render_citation(c, opened=True)
    assert f'<mark class="qa-span">{quote}</mark>' in html
    assert html.startswith('<details class="qa-cite" open>')
    assert "<b>T</b> · 2025-11-07 · Yonhap · score 80%" in html


def test_found_answer_shows_bold_answer_confidence_and_all_sources():
    c1 = cite("korea", "Korea talks", KOREA, "Takehiro Funakoshi", score=0.9)
    c2 = cite("other", "Other article", "Then Takehiro Funakoshi left.", "Takehiro Funakoshi")
    answer = Answer("Who?", "Takehiro Funakoshi", 0.87, citations=(c1, c2, c1))
    html = render_answer(answer, seconds=0.1234)
    assert '<p class="qa-answer-text"><b>Takehiro Funakoshi</b></p>' in html
    assert "confidence 87% · 2 sources · 0.12 s" in html
    assert html.count("<details") == 2  # duplicates dropped, both articles listed
    assert html.count('<details class="qa-cite" open>') == 1  # only the best one opened
    assert "Korea talks" in html and "Other article" in html
    assert 'href="https://example.com/korea"' in html and 'rel="noopener noreferrer"' in html


def test_not_found_shows_plain_sentence_and_related_unmarked():
    related = (whole("korea", "Korea talks", KOREA), whole("x", "X", "Other text."))
    html = render_answer(Answer("Capital of France?", None, 0.05, related=related))
    assert NOT_FOUND in html
    assert "Related passages:" in html and html.count("<details") == 2
    assert "<mark" not in html and "confidence" not in html


def test_not_found_without_related():
    html = render_answer(Answer("?", None, 0.0))
    assert NOT_FOUND in html and "Related" not in html


def test_follow_up_notes_are_escaped():
    answer = Answer("q", None, 0.0)
    html = render_answer(answer, asked="What did <i>he</i> say?", fell_back=True)
    assert "Read as: “What did &lt;i&gt;he&lt;/i&gt; say?”" in html
    assert "searched all articles" in html


def test_evil_article_and_question_render_as_text():
    quote = "Ada <b>Bold</b> Lovelace"
    c = cite("evil", 'Evil <img src=x onerror="alert(1)">', EVIL, quote)
    c = Citation(**{**c.__dict__, "url": "javascript:alert(1)"})
    html = render_answer(Answer("<script>alert(1)</script>", quote, 0.9, citations=(c,)))
    assert_harmless(html)
    assert html.count("<b>") == 2  # the answer and the title only, never the article's <b>
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in html
    assert '<mark class="qa-span">Ada &lt;b&gt;Bold&lt;/b&gt; Lovelace</mark>' in html
    assert "javascript:" not in html  # unsafe URLs are not linked
    assert render_question("<img src=x onerror=alert(1)>") == ("&lt;img src=x onerror=alert(1)&gt;")


def test_small_helpers():
    assert shorten("a b  c") == "a b c"
    assert shorten("word " * 40, 20) == "word word word word…"
    assert esc(None) == "" and esc('"&') == "&quot;&amp;"
    assert percent(0.874) == "87%" and percent(2) == "100%" and percent(-1) == "0%"


def test_info_and_report():
    class Info:
        articles, chunks, oldest_date, newest_date, model = 3, 9, "2025-01-01", None, "m<1>"

    html = render_info(Info())
    assert "<th>Articles</th><td>3</td>" in html and "<th>Passages</th><td>9</td>" in html
    assert "<th>Newest</th><td>—</td>" in html and "m&lt;1&gt;" in html
    assert "No index" in render_info(None)

    report = render_report(
        [
            FileResult("a.txt", added=1),
            FileResult("<b>.exe", rejected=("unsupported <type>",)),
            FileResult("c.jsonl", added=2, unchanged=1, rejected=("c.jsonl:3: no text",)),
            FileResult("d.txt", unchanged=1),
        ]
    )
    assert "<td>a.txt</td><td>added</td><td>1</td>" in report
    assert "<td>&lt;b&gt;.exe</td><td>rejected</td>" in report
    assert "unsupported &lt;type&gt;" in report and "c.jsonl:3: no text" in report
    assert "<td>d.txt</td><td>unchanged</td>" in report
    assert render_report([]) == "<p>No files.</p>"
