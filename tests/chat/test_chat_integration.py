"""The chat backend over the real spine (index, retrieval, heuristic extractor) with the
hashing encoder: real Citation offsets highlight correctly and hostile articles stay text."""

from __future__ import annotations

import re

import pytest
from chatfakes import assert_harmless
from fakes import HashingEncoder
from testdata import SAMPLE_ARTICLE

from qa import Assistant, Settings
from qa.chat.backend import ChatBackend
from qa.chat.render import esc

EVIL_TEXT = (
    "The newsroom CMS was defaced on Monday. Attackers inserted "
    '<script>window.__pwned = 1</script> and <img src=x onerror="window.__pwned = 2"> into '
    "the front page. The editor in charge, Ada Lovelace, restored the site within an hour."
)


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    assistant = Assistant.open(
        tmp_path_factory.mktemp("chat-index"),
        encoder=HashingEncoder(),
        settings=Settings().replace(
            extractor="heuristic", min_score=0.0, uncalibrated_min_score=0.0
        ),  # fake encoder: low scores
    )
    report = assistant.add([SAMPLE_ARTICLE])
    assert report.added
    report = assistant.add_records(
        [
            {
                "id": "evil",
                "title": 'Defaced <img src=x onerror="window.__pwned = 3">',
                "text": EVIL_TEXT,
                "date": "2025-11-08",
                "source": "Evil <b>Wire</b>",
            }
        ]
    )
    assert report.added
    return ChatBackend(assistant)


def check_highlights(message: str, answer_json: dict, assistant) -> None:
    """Every cited quote is marked, escaped, at the article's own offsets."""
    articles = {a.article_id: a for a in assistant.articles()}
    for c in answer_json["citations"]:
        assert articles[c["article_id"]].text[c["start"] : c["end"]] == c["quote"]
        assert f'<mark class="qa-span">{esc(c["quote"])}</mark>' in message


def test_real_citations_are_highlighted_and_follow_up_is_scoped(backend):
    session = backend.respond("Who is Japan's counterpart in the dialogue?")
    message = session.messages[-1]["content"]
    assert_harmless(message)
    assert session.last["found"], session.last
    check_highlights(message, session.last, backend.assistant)
    sample_id = session.last["citations"][0]["article_id"]

    session = backend.respond("What did he hope to build on?", session)
    assert session.last["follow_up"]
    if session.last["found"]:
        assert session.last["scoped"]
        assert {c["article_id"] for c in session.last["citations"]} == {sample_id}
        check_highlights(session.messages[-1]["content"], session.last, backend.assistant)


def test_hostile_article_from_the_real_index_is_text(backend):
    session = backend.respond("Who is the editor in charge of the defaced newsroom CMS?")
    session = backend.respond("What did attackers insert into the front page?", session)
    session = backend.respond("<script>alert(1)</script> capital of Atlantis?", session)
    for message in session.messages:
        assert_harmless(message["content"])
    html = "".join(m["content"] for m in session.messages)
    assert "Evil <b>Wire</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; capital of Atlantis?" in html
    # the article's title and passage are cited, shown as text
    assert "Defaced &lt;img src=x onerror=&quot;window.__pwned = 3&quot;&gt;" in html
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&quot;window.__pwned = 2&quot;&gt;" in html


def test_upload_of_hostile_html_into_the_real_index(backend, tmp_path):
    page = tmp_path / "hostile.html"
    page.write_text(
        "<html><head><title>Harbour cranes repaired</title>"
        "<script>window.__pwned = 4</script></head><body><article>"
        "<h1>Harbour cranes repaired</h1>"
        "<p>Engineers repaired the harbour cranes at Busan port on Monday, the port authority "
        "said. Repairs took three weeks and cost 2 billion won.</p>"
        "<p>The port authority said traffic would return to normal by Friday.</p>"
        '<img src=x onerror="window.__pwned = 5"></article></body></html>'
    )
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    before = backend.info().articles
    good, bad = backend.upload([page, junk])
    assert good.status == "added", good
    assert bad.status == "rejected" and bad.rejected
    assert backend.info().articles == before + 1
    session = backend.respond("How long did the harbour crane repairs at Busan port take?")
    assert_harmless(session.messages[-1]["content"])
    assert not re.search(r"window\.__pwned = [45]", session.messages[-1]["content"])
