from __future__ import annotations

import click
import pytest
from chatfakes import FakeAssistant, free_port
from click.testing import CliRunner

from qa.chat.cli import chat_command


def test_is_a_click_command_named_chat():
    assert isinstance(chat_command, click.Command) and chat_command.name == "chat"
    out = CliRunner().invoke(chat_command, ["--help"]).output
    assert "--index" in out and "--host" in out and "--port" in out
    assert "127.0.0.1" in out and "7860" in out


@pytest.fixture(autouse=True)
def shared_cores(monkeypatch):
    """``qa chat`` shares the cores (torch threads, gate slots): recorded, not applied here."""
    import embeddings.gate

    calls = []
    monkeypatch.setattr(embeddings.gate, "share_cores", lambda cores=None: calls.append(cores) or 2)
    return calls


def test_missing_index_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.delenv("QA_INDEX", raising=False)
    result = CliRunner().invoke(chat_command, ["--index", str(tmp_path / "nope")])
    assert result.exit_code != 0
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert not (tmp_path / "nope").exists()  # not created by a typo


def test_serves_and_prints_its_url(monkeypatch, shared_cores):
    import gradio as gr

    from qa.assistant import Assistant

    opened = []

    def fake_open(path=None, **kwargs):
        opened.append((path, kwargs))
        return FakeAssistant()

    def stop(self):
        raise KeyboardInterrupt

    monkeypatch.setattr(Assistant, "open", staticmethod(fake_open))
    monkeypatch.setattr(gr.Blocks, "block_thread", stop)
    monkeypatch.setenv("QA_INDEX", "/some/index")
    port = free_port()
    result = CliRunner().invoke(chat_command, ["--port", str(port)])
    assert result.exit_code == 0, result.output
    assert f"qa chat: http://127.0.0.1:{port}/" in result.output
    assert "(3 articles" in result.output
    assert [str(p) for p, _ in opened] == ["/some/index"]  # $QA_INDEX is the default
    assert opened[0][1] == {"create": False}
    assert shared_cores == [None]  # a server: one thread per question, a slot per core
