"""qa serve: the socket protocol, the server, the client, and `qa ask` through them."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from fakes import HashingEncoder

from qa import Assistant, Settings
from qa.answer.serialize import answer_from_json, answer_json
from qa.extract.base import Span
from qa.serve import protocol
from qa.serve.client import ServerError, ask_server
from qa.serve.server import AskServer, ServeError, answer_request, serving

TOWNS = [
    {
        "id": f"t{i}",
        "title": f"Town {i} council",
        "text": f"The council of town t{i} met on Monday. Mayor Person{i} said on Monday that "
        f"the budget of {i * 7} million was approved. Residents welcomed the decision.",
        "date": f"2024-01-{i + 1:02d}",
        "source": "Wire",
    }
    for i in range(6)
]


class MayorReader:
    """Answers 'who is the mayor' with the word after 'Mayor' in each passage."""

    name = "mayor"

    def extract(self, question, hits):  # noqa: ANN001, ANN201
        spans = []
        for hit in hits:
            at = hit.chunk.text.find("Mayor ")
            if at < 0:
                continue
            start = hit.chunk.start + at + 6
            end = hit.article.text.index(" ", start)
            spans.append(Span(hit.article.text[start:end], start, end, 0.9, hit))
        return spans

    def calibrator_file(self):  # noqa: ANN201
        return None


@pytest.fixture(scope="module")
def assistant(tmp_path_factory) -> Assistant:
    a = Assistant.open(
        tmp_path_factory.mktemp("serve") / "ix",
        encoder=HashingEncoder(),
        extractor=MayorReader(),
        settings=Settings().replace(min_score=0.0, uncalibrated_min_score=0.0),
    )
    a.add_records(TOWNS)
    return a


@pytest.fixture
def server(assistant, tmp_path):
    key = protocol.index_key(assistant.path)
    with serving(protocol.socket_path(assistant.path), assistant, key) as srv:
        yield srv


def test_socket_path_is_per_index_and_private(tmp_path: Path) -> None:
    a = protocol.socket_path(tmp_path / "one")
    assert a == protocol.socket_path(tmp_path / "x" / ".." / "one")  # resolved
    assert a != protocol.socket_path(tmp_path / "two")
    assert a != protocol.socket_path(None)
    assert len(str(a)) < 100  # under the Unix socket path limit
    assert (a.parent.stat().st_mode & 0o777) == 0o700


def test_a_shared_runtime_folder_is_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    (tmp_path / "newsqa").mkdir(mode=0o777)
    (tmp_path / "newsqa").chmod(0o777)
    with pytest.raises(OSError, match="not a private folder"):
        protocol.runtime_dir()
    assert ask_server(tmp_path / "ix", "q?") is None  # the CLI then answers in process


def test_answers_through_the_socket_match_in_process(assistant, server) -> None:
    question = "Who is the mayor of town t3?"
    over = ask_server(assistant.path, question)
    direct = answer_json(assistant.ask(question))
    assert over == json.loads(json.dumps(direct))
    answer = answer_from_json(over)
    assert answer.text and answer.citations
    for cite in answer.citations:
        article = next(a for a in assistant.articles() if a.article_id == cite.article_id)
        assert article.text[cite.start : cite.end] == cite.quote
    assert (server.path.stat().st_mode & 0o777) == 0o600


def test_options_reach_the_assistant(assistant, server) -> None:
    later = ask_server(
        assistant.path,
        "Who is the mayor of town t3?",
        top_k=2,
        filters={"date_from": "2024-01-05", "date_to": None, "sources": ["Wire"]},
        as_of="2024-02-01",
    )
    assert later is not None
    assert all(c["date"] >= "2024-01-05" for c in later["citations"])
    assert len({c["article_id"] for c in later["citations"]}) <= 2


def test_errors_are_reported_not_raised_in_the_server(assistant, server) -> None:
    with pytest.raises(ServerError, match="as_of must be a date"):
        ask_server(assistant.path, "Who is the mayor?", as_of="next tuesday-ish")
    with pytest.raises(ServerError, match="no question"):
        ask_server(assistant.path, "   ")
    key = protocol.index_key(assistant.path)
    assert answer_request(assistant, key, {"index": "elsewhere", "question": "q?"})["ok"] is False
    bad = answer_request(assistant, key, {"index": key, "question": "q?", "top_k": 0})
    assert "top_k" in bad["error"]
    # a malformed line gets a reply, and the server goes on answering
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(str(server.path))
    conn.sendall(b"{not json\n")
    reply = json.loads(conn.makefile("rb").readline())
    conn.close()
    assert reply["ok"] is False and "bad request" in reply["error"]
    assert ask_server(assistant.path, "Who is the mayor of town t1?") is not None


def test_many_clients_at_once(assistant, server) -> None:
    results: list = []

    def one(i: int) -> None:
        results.append(ask_server(assistant.path, f"Who is the mayor of town t{i % 6}?"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 40 and all(r and r["answer"] for r in results)


def test_a_full_backlog_is_waited_out_not_taken_for_no_server(tmp_path: Path) -> None:
    from qa.serve.client import _connect

    path = tmp_path / "busy.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(0)  # room for one waiting connection
    first = _connect(path)
    assert first is not None
    accepted = []

    def accept_later() -> None:
        time.sleep(0.2)
        for _ in range(2):
            accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept_later)
    thread.start()
    second = _connect(path)  # the backlog is full until the listener accepts
    thread.join(5)
    assert second is not None
    for conn in (first, second, *accepted, listener):
        conn.close()


def test_no_server_stale_socket_and_a_second_server(assistant, tmp_path: Path) -> None:
    assert ask_server(assistant.path, "Who?") is None  # nobody serves
    path = protocol.socket_path(assistant.path)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))  # a socket file nobody listens on (a killed server)
    stale.close()
    assert path.exists() and ask_server(assistant.path, "Who?") is None
    key = protocol.index_key(assistant.path)
    with serving(path, assistant, key):  # the stale file is claimed
        with pytest.raises(ServeError, match="already answers"):
            AskServer(path, assistant, key)
        assert ask_server(assistant.path, "Who is the mayor of town t2?") is not None
    assert not path.exists()  # removed on close


def test_qa_ask_uses_the_server_and_no_server_does_not(assistant, server, monkeypatch) -> None:
    import qa.cli

    def no_local(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("answered in process")

    monkeypatch.setattr(qa.cli, "_open", no_local)
    runner = CliRunner()
    args = ["ask", "Who is the mayor of town t4?", "--index", str(assistant.path)]
    result = runner.invoke(main_cli(), [*args, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["answer"] == "Person4"
    text = runner.invoke(main_cli(), args)
    assert text.exit_code == 0 and text.output.startswith("Person4")
    local = runner.invoke(main_cli(), [*args, "--no-server"])
    assert local.exit_code == 1 and "answered in process" in local.output
    # options the server was not started with are answered in process
    other = runner.invoke(main_cli(), [*args, "--min-confidence", "0.9"])
    assert "answered in process" in other.output


def test_answer_json_round_trip_with_time_and_others(assistant) -> None:
    seen = {"when": False, "others": False, "time_scope": False}
    asked = ("Who is the mayor?", "Who was the mayor in January 2024?", "When did the mayor speak?")
    for question in asked:
        answer = assistant.ask(question, as_of="2024-02-01")
        seen["when"] |= answer.when is not None
        seen["others"] |= bool(answer.others)
        seen["time_scope"] |= answer.time_scope is not None
        data = answer_json(answer)
        assert answer_json(answer_from_json(data)) == data
    assert all(seen.values()), seen  # the round trip covered every optional part
    with pytest.raises(ValueError, match="not an answer"):
        answer_from_json({"question": "q"})


def main_cli():  # noqa: ANN201
    from qa.cli import main

    return main


def test_runtime_folder_default_is_under_tmp(monkeypatch) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    folder = protocol.runtime_dir()
    assert folder.name == f"newsqa-{os.getuid()}"
