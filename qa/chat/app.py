"""The Gradio chat app: thin glue between the page and the library.

:class:`~qa.chat.backend.ChatBackend` holds everything that is not layout (asking
within a conversation, uploads, the index summary, the lock) and is tested without
a server. :func:`build_app` lays out the Blocks page around a backend, and
:func:`launch` serves it (127.0.0.1 by default, no analytics, no SSR, no
web fonts fetched).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import logging  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import gradio as gr  # noqa: E402

from qa.chat.backend import (  # noqa: E402
    MAX_QUESTION_CHARS,
    MAX_UPLOAD_BYTES,
    UPLOAD_EXTENSIONS,
    ChatAssistant,
    ChatBackend,
)
from qa.chat.render import CSS, esc, render_report  # noqa: E402

__all__ = ["ChatBackend", "build_app", "launch", "warm_server"]

log = logging.getLogger(__name__)


def warm_server(url: str) -> float:
    """Run one cheap event (``/info``) through the server's queue; return seconds."""
    started = time.perf_counter()
    try:
        from gradio_client import Client

        client = Client(url, verbose=False, analytics_enabled=False, download_files=False)
        client.predict(api_name="/info")
        client.close()
    except Exception:
        log.warning("could not warm the server at %s", url, exc_info=True)
    return time.perf_counter() - started


def _session_id(request: gr.Request | None) -> str | None:
    return getattr(request, "session_hash", None) if request is not None else None


def theme() -> gr.themes.Base:
    """Gradio's default look with local fonts (nothing fetched from the web)."""
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )


def build_app(
    assistant: ChatAssistant | ChatBackend,
    *,
    examples: Sequence[str] = (),
    title: str = "News QA",
) -> gr.Blocks:
    """Lay out the chat page around an assistant (or a ready backend).

    API names (for ``gradio_client``): ``/ask`` (question -> chat, box, last
    answer JSON), ``/upload`` (files -> report, index summary, emptied file box), ``/info``,
    ``/clear``.
    """
    backend = assistant if isinstance(assistant, ChatBackend) else ChatBackend(assistant)

    def ask(question: str, request: gr.Request):
        messages, last = backend.ask(question, _session_id(request))
        return messages, "", last

    def ask_example(question: str) -> Callable[[gr.Request], Any]:
        def run(request: gr.Request):
            return ask(question, request)

        return run

    def clear(request: gr.Request):
        backend.forget(_session_id(request))
        return [], {}

    def forget(request: gr.Request):
        backend.forget(_session_id(request))

    def upload(files: list[str] | None, progress=gr.Progress()):  # noqa: B008
        def step(i: int, n: int, name: str) -> None:
            progress((i, n), desc=f"adding {name}" if i < n else "done", unit="files")

        started = time.perf_counter()
        results = backend.upload(files if files is not None else [], step)
        report = render_report(results)
        report += f"<p>{len(results)} file(s) in {time.perf_counter() - started:.1f} s</p>"
        return report, backend.info_html(), None  # empty the box for the next files

    with gr.Blocks(title=title, analytics_enabled=False, fill_height=True) as demo:
        with gr.Row():
            with gr.Column(scale=3):
                gr.Markdown(f"## {esc(title)}\nAsk about the loaded news articles.")
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="qa-chat",
                    height=560,
                    render_markdown=False,  # our HTML is escaped; no Markdown/LaTeX games
                    sanitize_html=True,
                    latex_delimiters=[],
                    feedback_options=None,
                    buttons=["copy"],
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question about the articles…",
                        show_label=False,
                        elem_id="qa-question",
                        scale=5,
                        max_lines=3,
                        max_length=MAX_QUESTION_CHARS,
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", elem_id="qa-ask", scale=1)
                clear_btn = gr.Button("New conversation", size="sm", elem_id="qa-clear")
                last = gr.JSON(visible=False)
            with gr.Column(scale=1, min_width=260):
                gr.Markdown("### Loaded")
                info = gr.HTML(backend.info_html(), elem_id="qa-info")
                if examples:
                    gr.Markdown("### Try")
                    example_buttons = [
                        gr.Button(q, size="sm", elem_classes=["qa-example"]) for q in examples
                    ]
                else:
                    example_buttons = []
                gr.Markdown(
                    "### Add articles\n"
                    f"{', '.join(UPLOAD_EXTENSIONS)} · up to "
                    f"{backend.max_upload_bytes // 1_000_000} MB per file"
                )
                files = gr.File(
                    file_count="multiple",
                    file_types=list(UPLOAD_EXTENSIONS),
                    label="Upload",
                    elem_id="qa-upload",
                )
                report = gr.HTML(elem_id="qa-report")

        outputs = [chatbot, box, last]
        box.submit(ask, [box], outputs, api_name="ask", concurrency_limit=4)
        send.click(ask, [box], outputs, api_visibility="private", concurrency_limit=4)
        for button, question in zip(example_buttons, examples, strict=True):
            button.click(
                ask_example(question),
                None,
                outputs,
                api_visibility="private",
                concurrency_limit=4,
            )
        clear_btn.click(clear, None, [chatbot, last], api_name="clear")
        chatbot.clear(forget)  # the chat's own trash button also starts over
        files.upload(upload, [files], [report, info, files], api_name="upload", concurrency_limit=1)
        demo.load(backend.info_html, None, info, api_name="info")
        demo.unload(forget)
    demo.queue(default_concurrency_limit=4)
    return demo


def launch(
    demo: gr.Blocks,
    *,
    host: str = "127.0.0.1",
    port: int | None = 7860,
    block: bool = True,
    quiet: bool = True,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    warm: bool = True,
) -> str:
    """Serve ``demo`` and return its local URL (blocks until stopped if ``block``).

    ``warm`` sends one ``/info`` request first: Gradio's first event on a new
    server costs about a second, which would otherwise land on the first
    question someone asks.
    """
    demo.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=quiet,
        share=False,
        inbrowser=False,
        ssr_mode=False,
        max_file_size=max_upload_bytes,
        theme=theme(),
        css=CSS,
        footer_links=["api"],
        mcp_server=False,
        pwa=False,
    )
    url = demo.local_url or f"http://{host}:{port}/"
    if warm:
        warm_server(url)
    if block:
        demo.block_thread()
    return url
