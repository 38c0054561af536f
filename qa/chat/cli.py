"""``qa chat``: serve the chat web UI."""

from __future__ import annotations

import os
from pathlib import Path

import click


@click.command("chat")
@click.option(
    "--index",
    "index",
    envvar="QA_INDEX",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Index directory (default: $QA_INDEX; without either, the bundled sample corpus).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option(
    "--port",
    default=7860,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to serve on (0: the first free one from 7860).",
)
def chat_command(index: Path | None, host: str, port: int) -> None:
    """Open the chat web UI on an index (or the bundled sample articles)."""
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    try:
        from embeddings.gate import share_cores
        from qa.assistant import Assistant
        from qa.chat.app import build_app, launch
        from qa.chat.backend import SAMPLE_EXAMPLES, warm_up

        share_cores()  # many users: one thread per question, one question per core

        # an existing index only: a mistyped --index must not create an empty one
        assistant = Assistant.open(index, create=False) if index else Assistant.open()
        warm_up(assistant)
        demo = build_app(assistant, examples=SAMPLE_EXAMPLES if index is None else ())
        url = launch(demo, host=host, port=port or None, block=False)
    except Exception as exc:  # one line, non-zero exit
        lines = str(exc).strip().splitlines()
        raise click.ClickException(lines[0] if lines else type(exc).__name__) from exc
    info = assistant.info()
    click.echo(f"qa chat: {url}  ({info.articles} articles, {info.chunks} passages; Ctrl+C stops)")
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
