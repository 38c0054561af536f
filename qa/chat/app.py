"""The Gradio chat app: thin glue between the page and the library.

:class:`~qa.chat.backend.ChatBackend` holds everything that is not layout (asking
within a conversation, upload jobs, the index summary) and is tested without
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
    MAX_FILE_BYTES,
    UPLOAD_EXTENSIONS,
    ChatAssistant,
    ChatBackend,
    UploadRefused,
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


def render_progress(backend: ChatBackend, job_id: str | None) -> str:
    """One line on an upload job (queued, running, failed, done), and its report when over."""
    snap = backend.progress(job_id)
    job = backend.job(job_id)
    if snap is None or job is None:
        return "<p>No upload running.</p>"
    status, done, total = snap["status"], snap["done"], snap["total"]
    if status == "queued":
        line = f"Upload queued ({snap['ahead']} ahead of it)…"
    elif status == "running":
        line = (
            f"Adding file {done + 1} of {total}: {snap['current']} "
            f"({snap['passages']} passages embedded, {snap['seconds']:.0f} s)…"
        )
    elif status == "failed":
        line = f"Upload failed after {snap['seconds']:.1f} s: {snap['error']}"
    else:
        line = f"{total} file(s) in {snap['seconds']:.1f} s"
    report = render_report(job.results) if status in ("done", "failed") else ""
    return f'{report}<p class="qa-upload-status">{esc(line)}</p>'


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
    poll_seconds: float = 1.0,
) -> gr.Blocks:
    """Lay out the chat page around an assistant (or a ready backend).

    API names (for ``gradio_client``): ``/ask`` (question -> chat, box, last
    answer JSON), ``/upload`` (files -> status, job id, emptied file box: it starts a
    background job and returns at once), ``/upload_status`` (job id -> the job's
    progress as JSON: status, done, total, current, passages, seconds, error, results),
    ``/info``, ``/clear``. The page polls its job with a ``gr.Timer`` until it ends,
    then shows the per-file report and refreshes the summary; questions go on meanwhile.
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

    def upload(files: list[str] | None):
        try:
            job = backend.submit_upload(files if files is not None else [])
        except UploadRefused as exc:
            return f'<p class="qa-upload-status">{esc(exc)}</p>', "", None
        return render_progress(backend, job.job_id), job.job_id, None  # empty the file box

    def arm(job_id: str) -> gr.Timer:
        return gr.Timer(active=bool(job_id))

    def poll(job_id: str):
        snap = backend.progress(job_id)
        over = snap is None or snap["status"] in ("done", "failed")
        info_html = backend.info_html() if over else gr.skip()
        return render_progress(backend, job_id), info_html, gr.Timer(active=not over)

    def upload_status(job: str) -> dict[str, Any]:
        """Progress of an upload job: status, done, total, current, results when over."""
        return backend.progress(job) or {"job": job, "status": "unknown"}

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
                        max_length=backend.limits.max_question_chars,
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
                limits = backend.limits
                gr.Markdown(
                    "### Add articles\n"
                    f"{', '.join(UPLOAD_EXTENSIONS)} · up to "
                    f"{backend.max_file_bytes / 1e6:g} MB a file, {limits.max_upload_files} "
                    f"files and {limits.max_upload_bytes / 1e6:g} MB an upload. Questions "
                    "can be asked while it runs."
                )
                files = gr.File(
                    file_count="multiple",
                    file_types=list(UPLOAD_EXTENSIONS),
                    label="Upload",
                    elem_id="qa-upload",
                )
                report = gr.HTML(elem_id="qa-report")
                job_box = gr.Textbox(visible=False, elem_id="qa-job")
                timer = gr.Timer(poll_seconds, active=False)

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
        files.upload(upload, [files], [report, job_box, files], api_name="upload").then(
            arm, [job_box], [timer], api_visibility="private"
        )
        timer.tick(poll, [job_box], [report, info, timer], api_visibility="private")
        gr.api(upload_status, api_name="upload_status")
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
    max_file_bytes: int = MAX_FILE_BYTES,
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
        max_file_size=max_file_bytes,
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
