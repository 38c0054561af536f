"""The chat handler (ChatBackend) without a server: answer, no-answer, follow-up, escaping,
uploads and concurrency (background upload jobs: tests/chat/test_chat_uploads.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from chatfakes import FakeAssistant, assert_harmless

from qa.chat.backend import ChatBackend, warm_up
from qa.chat.render import NOT_FOUND


@pytest.fixture
def fake_assistant() -> FakeAssistant:
    return FakeAssistant()


def test_answer(fake_assistant):
    backend = ChatBackend(fake_assistant)
    session = backend.respond("Who is Japan's counterpart in the dialogue?")
    user, bot = session.messages
    assert user == {"role": "user", "content": "Who is Japan&#x27;s counterpart in the dialogue?"}
    assert bot["role"] == "assistant"
    assert "<b>Takehiro Funakoshi</b>" in bot["content"]
    assert '<mark class="qa-span">Takehiro Funakoshi</mark>' in bot["content"]
    assert "confidence 87%" in bot["content"]
    assert "S. Korea, Japan hold strategic dialogue" in bot["content"]
    assert session.last["answer"] == "Takehiro Funakoshi"
    assert session.last["citations"][0]["article_id"] == "korea"


def test_no_answer(fake_assistant):
    session = ChatBackend(fake_assistant).respond("What is the capital of France?")
    bot = session.messages[-1]["content"]
    assert NOT_FOUND in bot and "Related passages:" in bot
    assert "<mark" not in bot and "<b>" in bot  # titles in bold, no guessed answer
    assert session.last["found"] is False and session.last["answer"] is None
    assert len(session.last["related"]) == 2


def test_follow_up_uses_the_same_article(fake_assistant):
    backend = ChatBackend(fake_assistant)
    session = backend.respond("Who is Japan's counterpart in the dialogue?")
    session = backend.respond("What did he hope to build on?", session)
    assert len(session.messages) == 4
    assert session.last["asked"] == "What did Takehiro Funakoshi hope to build on?"
    assert session.last["scoped"] is True
    assert session.last["answer"] == "the outcome of the recent summit talks"
    assert session.last["citations"][0]["article_id"] == "korea"
    assert fake_assistant.calls[-1][1].article_ids == ("korea",)
    assert (
        "Read as: “What did Takehiro Funakoshi hope to build on?”"
        in (session.messages[-1]["content"])
    )


def test_sessions_are_separate(fake_assistant):
    backend = ChatBackend(fake_assistant)
    a = backend.respond("Who is Japan's counterpart in the dialogue?")
    b = backend.respond("What did he hope to build on?")
    assert a is not b and len(b.messages) == 2
    assert b.last["follow_up"] is False and b.last["asked"] == "What did he hope to build on?"


def test_escaping_of_question_article_and_answer(fake_assistant):
    backend = ChatBackend(fake_assistant)
    session = backend.respond("Who is the editor? <img src=x onerror=alert(1)>")
    session = backend.respond("<script>alert('q')</script> what about the script?", session)
    for message in session.messages:
        assert_harmless(message["content"])
    user = session.messages[0]["content"]
    assert user == "Who is the editor? &lt;img src=x onerror=alert(1)&gt;"
    bot = session.messages[-1]["content"]
    assert '<mark class="qa-span">&lt;script&gt;window.__pwned = 1&lt;/script&gt;</mark>' in bot
    assert "Evil &lt;img src=x onerror=&quot;window.__pwned=3&quot;&gt; title" in bot


def test_empty_and_long_questions(fake_assistant):
    backend = ChatBackend(fake_assistant)
    session = backend.respond("   ")
    assert session.messages == [] and fake_assistant.calls == []
    limit = backend.limits.max_question_chars
    backend.respond("x" * limit, session)
    assert len(fake_assistant.calls[-1][0]) == limit  # at the limit: asked as is
    calls = len(fake_assistant.calls)
    backend.respond("why " * 200, session)
    assert len(fake_assistant.calls) == calls  # over it: not asked, not cut
    reply = session.messages[-1]["content"]
    assert reply == (
        "<p>Your question is 799 characters long; the limit is 500. "
        "Please ask a shorter question.</p>"
    )
    assert session.messages[-2]["content"].endswith("…")  # the question shown, shortened
    assert session.last["error"].startswith("Your question is 799 characters long")


def test_assistant_error_is_one_escaped_line(fake_assistant):
    def boom(*a, **k):
        raise RuntimeError("index <broken>\nsecond line")

    fake_assistant.ask = boom
    session = ChatBackend(fake_assistant).respond("Who?")
    assert session.messages[-1]["content"] == "<p>Error: index &lt;broken&gt;</p>"
    assert session.last["error"] == "index <broken>"


def test_upload_reports_each_file(fake_assistant, tmp_path):
    good = tmp_path / "story.txt"
    good.write_text("A new article about the Busan film festival opening on Friday.")
    bad = tmp_path / "bad.jsonl"
    bad.write_text("BAD record\n")
    exe = tmp_path / "virus.exe"
    exe.write_bytes(b"MZ")
    big = tmp_path / "big.md"
    big.write_text("x" * 2000)
    empty = tmp_path / "empty.html"
    empty.write_text("")
    steps = []
    backend = ChatBackend(fake_assistant, max_file_bytes=1000)
    before = fake_assistant.info().articles
    results = backend.upload(
        [good, bad, exe, big, empty, tmp_path / "gone.txt", good],
        lambda i, n, name: steps.append((i, n, name)),
    )
    by = {(r.name, i): r for i, r in enumerate(results)}
    assert by["story.txt", 0].status == "added" and by["story.txt", 0].added == 1
    assert by["bad.jsonl", 1].rejected == ("no article text found",)
    assert "unsupported file type .exe" in by["virus.exe", 2].rejected[0]
    assert "file too large (2,000 bytes; the limit is 1,000)" in by["big.md", 3].rejected[0]
    assert by["empty.html", 4].rejected == ("empty file",)
    assert by["gone.txt", 5].rejected[0].startswith("cannot read the file")
    assert by["story.txt", 6].status == "unchanged"
    assert fake_assistant.info().articles == before + 1
    assert steps[0] == (0, 7, "story.txt") and steps[-1] == (7, 7, "done")
    # refused files never reached the assistant: only story.txt (twice) and bad.jsonl did
    assert "<td>1</td>" in backend.info_html() or "Articles" in backend.info_html()


def test_upload_exception_becomes_rejection(fake_assistant, tmp_path):
    f = tmp_path / "a.json"
    f.write_text("{}")

    def boom(paths, progress=None):
        raise ValueError(f"invalid JSON in {paths[0]} at line 1\ntrace")

    fake_assistant.add = boom
    (result,) = ChatBackend(fake_assistant).upload([f])
    assert result.rejected == ("invalid JSON in a.json at line 1",)  # no server path shown


def test_uploaded_article_is_answerable(fake_assistant, tmp_path):
    f = tmp_path / "festival.txt"
    f.write_text("Festival organisers announced record attendance.")
    backend = ChatBackend(fake_assistant)
    backend.upload([f])
    session = backend.respond("Festival organisers announced record attendance?")
    assert session.last["found"] and session.last["citations"][0]["title"] == "festival"


def test_concurrent_questions_get_their_own_answers():
    fake = FakeAssistant(delay=0.05)
    backend = ChatBackend(fake)
    questions = [
        "Who is Japan's counterpart in the dialogue?",
        "Who won the marathon?",
        "Who is the editor?",
        "What is the capital of France?",
    ] * 3
    expected = {
        questions[0]: "Takehiro Funakoshi",
        questions[1]: "Kim Min-ji",
        questions[2]: "Ada <b>Bold</b> Lovelace",
        questions[3]: None,
    }
    with ThreadPoolExecutor(8) as pool:
        sessions = list(pool.map(backend.respond, questions))
    for q, s in zip(questions, sessions, strict=True):
        assert s.last["question"] == q and s.last["answer"] == expected[q]
        assert len(s.messages) == 2
    assert fake.max_asking > 1  # questions really ran together


def test_questions_and_uploads_run_together(tmp_path):
    fake = FakeAssistant(delay=0.03)
    backend = ChatBackend(fake)
    files = []
    for i in range(4):
        f = tmp_path / f"n{i}.txt"
        f.write_text(f"Story number {i} about harbour cranes.")
        files.append(f)
    with ThreadPoolExecutor(6) as pool:
        asks = [pool.submit(backend.respond, "Who won the marathon?") for _ in range(10)]
        ups = [pool.submit(backend.upload, [f]) for f in files]
        asks += [pool.submit(backend.respond, "Who is the editor?") for _ in range(10)]
        answers = [a.result().last["answer"] for a in asks]
        reports = [u.result()[0] for u in ups]
    assert answers[:10] == ["Kim Min-ji"] * 10
    assert answers[10:] == ["Ada <b>Bold</b> Lovelace"] * 10
    assert [r.added for r in reports] == [1, 1, 1, 1]
    assert fake.info().articles == 3 + 4


def test_answer_json_and_warm_up(fake_assistant):
    session = ChatBackend(fake_assistant).respond("Who won the marathon?")
    assert session.last["score"] == 0.87 and session.last["seconds"] >= 0
    assert session.last["answer"] and session.last["found"] is True
    assert {"question", "asked", "citations", "related", "follow_up"} <= set(session.last)
    assert warm_up(fake_assistant) >= 0

    class Broken:
        def ask(self, *a, **k):
            raise RuntimeError("no")

    assert warm_up(Broken()) >= 0  # logged, not raised


@pytest.mark.parametrize("name", ["a.TXT", "b.Md", "c.json", "d.jsonl", "e.html", "f.htm"])
def test_allowed_extensions(fake_assistant, tmp_path, name):
    f = tmp_path / name
    f.write_text("Some article text about ports.")
    (result,) = ChatBackend(fake_assistant).upload([f])
    assert result.status == "added"


def test_sessions_by_browser_id(fake_assistant):
    backend = ChatBackend(fake_assistant, max_sessions=2)
    backend.ask("Who is Japan's counterpart in the dialogue?", "tab-a")
    messages, last = backend.ask("What did he hope to build on?", "tab-a")
    assert len(messages) == 4 and last["scoped"]
    _, last_b = backend.ask("What did he hope to build on?", "tab-b")
    assert not last_b["follow_up"]
    backend.forget("tab-a")
    _, last = backend.ask("What did he hope to build on?", "tab-a")
    assert not last["follow_up"]  # a cleared tab starts over
    backend.ask("Who won the marathon?", "tab-c")  # over the cap: the oldest (tab-b) goes
    assert set(backend._sessions) == {"tab-a", "tab-c"}
    assert backend.session(None) is not backend.session(None)


def test_one_session_runs_its_requests_in_order():
    backend = ChatBackend(FakeAssistant(delay=0.02))
    with ThreadPoolExecutor(4) as pool:
        jobs = [pool.submit(backend.ask, "Who won the marathon?", "tab") for _ in range(6)]
        for job in jobs:
            job.result()
    messages, _ = backend.ask("Who is the editor?", "tab")
    assert [m["role"] for m in messages] == ["user", "assistant"] * 7
