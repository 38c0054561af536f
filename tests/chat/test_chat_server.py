"""The running app, through gradio_client, against a server launched on localhost."""

from __future__ import annotations

import time

import pytest
from chatfakes import FakeAssistant, free_port

gradio_client = pytest.importorskip("gradio_client")

from qa.chat.app import build_app, launch  # noqa: E402
from qa.chat.backend import MAX_FILE_BYTES, SAMPLE_EXAMPLES  # noqa: E402


@pytest.fixture(scope="module")
def server():
    fake = FakeAssistant(delay=0.05)
    demo = build_app(fake, examples=SAMPLE_EXAMPLES)
    url = launch(demo, port=free_port(), block=False)
    try:
        yield url, fake
    finally:
        demo.close()


def client(url):
    return gradio_client.Client(url, verbose=False, analytics_enabled=False, download_files=False)


def text_of(message):
    content = message["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content)
    return content


def test_binds_to_localhost(server):
    url, _ = server
    assert url.startswith("http://127.0.0.1:")


def test_api_endpoints(server):
    url, _ = server
    api = client(url).view_api(print_info=False, return_format="dict")
    assert {"/ask", "/upload", "/upload_status", "/info", "/clear"} <= set(api["named_endpoints"])


def test_ask_and_follow_up_over_http(server):
    url, _ = server
    c = client(url)
    chat, box, last = c.predict("Who is Japan's counterpart in the dialogue?", api_name="/ask")
    assert box == "" and last["answer"] == "Takehiro Funakoshi"
    assert [m["role"] for m in chat] == ["user", "assistant"]
    assert '<mark class="qa-span">Takehiro Funakoshi</mark>' in text_of(chat[1])
    chat, _, last = c.predict("What did he hope to build on?", api_name="/ask")
    assert len(chat) == 4 and last["scoped"] and last["follow_up"]
    assert last["answer"] == "the outcome of the recent summit talks"
    assert last["citations"][0]["article_id"] == "korea"
    # clearing starts a new conversation: "he" is no longer resolved
    c.predict(api_name="/clear")
    chat, _, last = c.predict("What did he hope to build on?", api_name="/ask")
    assert len(chat) == 2 and not last["follow_up"]


def test_no_answer_over_http(server):
    url, _ = server
    chat, _, last = client(url).predict("What is the capital of France?", api_name="/ask")
    assert last["found"] is False
    assert "I could not find that in the loaded articles." in text_of(chat[-1])


def test_escaping_over_http(server):
    url, _ = server
    chat, _, _ = client(url).predict("<img src=x onerror=alert(1)> editor?", api_name="/ask")
    assert text_of(chat[0]) == "&lt;img src=x onerror=alert(1)&gt; editor?"
    assert "Ada &lt;b&gt;Bold&lt;/b&gt; Lovelace" in text_of(chat[1])


def test_concurrent_clients_get_separate_answers(server):
    url, _ = server
    questions = {
        "Who is Japan's counterpart in the dialogue?": "Takehiro Funakoshi",
        "Who won the marathon?": "Kim Min-ji",
        "What is the capital of France?": None,
    }
    clients = [client(url) for _ in range(3)]
    jobs = []
    for _ in range(2):
        for c, q in zip(clients, questions, strict=True):
            jobs.append((q, c.submit(q, api_name="/ask")))
    for q, job in jobs:
        chat, _, last = job.result(timeout=60)
        assert last["question"] == q and last["answer"] == questions[q]
    # each client kept its own history: two turns each, never another's question
    for c, q in zip(clients, questions, strict=True):
        chat, _, _ = c.predict("Who is the editor?", api_name="/ask")
        users = [text_of(m) for m in chat if m["role"] == "user"]
        assert len(users) == 3 and users[-1] == "Who is the editor?"
        assert set(users[:2]) == {q.replace("'", "&#x27;")}


def wait_for_job(c, job_id: str, timeout: float = 30.0) -> dict:
    """Poll ``/upload_status`` (as the page's timer does) until the job is over."""
    deadline = time.monotonic() + timeout
    while True:
        status = c.predict(job_id, api_name="/upload_status")
        if status["status"] in ("done", "failed") or time.monotonic() > deadline:
            return status
        time.sleep(0.1)


def test_upload_while_asking(server, tmp_path):
    url, fake = server
    good = tmp_path / "harbour.txt"
    good.write_text("Harbour cranes were repaired at Busan port on Monday.")
    bad = tmp_path / "bad.txt"
    bad.write_text("BAD")
    before = fake.info().articles
    c = client(url)
    asks = [client(url).submit("Who won the marathon?", api_name="/ask") for _ in range(4)]
    status, job_id, box = c.predict(
        [gradio_client.handle_file(str(good)), gradio_client.handle_file(str(bad))],
        api_name="/upload",
    )
    assert job_id and box is None  # started in the background; the file box is emptied
    assert "Upload queued" in status or "Adding file" in status or "file(s) in" in status
    for job in asks:
        assert job.result(timeout=60)[2]["answer"] == "Kim Min-ji"
    progress = wait_for_job(c, job_id)
    assert progress["status"] == "done" and (progress["done"], progress["total"]) == (2, 2)
    rows = {r["name"]: r for r in progress["results"]}
    assert rows["harbour.txt"]["status"] == "added"
    assert rows["bad.txt"]["rejected"] == ["no article text found"]
    assert fake.info().articles == before + 1
    assert f"<th>Articles</th><td>{before + 1}</td>" in c.predict(api_name="/info")
    _, _, last = c.predict("Harbour cranes repaired?", api_name="/ask")
    assert last["found"] and last["citations"][0]["title"] == "harbour"


def test_upload_over_the_file_limit_is_refused_with_a_message(server, tmp_path):
    url, fake = server
    limit = fake.settings.limits.max_upload_files
    files = []
    for i in range(limit + 1):
        f = tmp_path / f"s{i}.txt"
        f.write_text(f"Story {i} about a ferry.")
        files.append(gradio_client.handle_file(str(f)))
    before = fake.info().articles
    status, job_id, _ = client(url).predict(files, api_name="/upload")
    assert job_id == "" and f"the limit is {limit} files per upload" in status
    assert fake.info().articles == before
    assert client(url).predict("nope", api_name="/upload_status")["status"] == "unknown"


def test_upload_refuses_other_types_and_big_files(server, tmp_path):
    url, fake = server
    exe = tmp_path / "tool.exe"
    exe.write_bytes(b"MZ\x90\x00")
    big = tmp_path / "big.txt"
    big.write_bytes(b"word " * (MAX_FILE_BYTES // 5 + 1000))
    before = fake.info().articles
    c = client(url)
    with pytest.raises(Exception, match="Invalid file type"):
        c.predict([gradio_client.handle_file(str(exe))], api_name="/upload")
    with pytest.raises(Exception, match="(?i)size|large"):
        c.predict([gradio_client.handle_file(str(big))], api_name="/upload")
    assert fake.info().articles == before
