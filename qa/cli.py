"""The ``qa`` command line: a thin adapter that parses, calls the library, renders."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from qa.chat.render import shorten
from qa.common.when import label_beside
from qa.extract.registry import CHOICES
from qa.settings import Settings
from qa.types import Answer, Filters

INDEX_HELP = "Index directory (default: $QA_INDEX; without either, the bundled sample corpus)."


def _index_option(required: bool = False) -> Any:
    return click.option(
        "--index",
        "index",
        envvar="QA_INDEX",
        type=click.Path(file_okay=False, path_type=Path),
        required=required,
        help=INDEX_HELP,
    )


def _open(
    index: Path | None,
    create: bool = False,
    extractor: str | None = None,
    min_confidence: float | None = None,
) -> Any:
    from qa.assistant import Assistant

    return Assistant.open(index, settings=_settings(extractor, min_confidence), create=create)


def _settings(extractor: str | None, min_confidence: float | None) -> Settings:
    changes: dict[str, Any] = {}
    if extractor is not None:
        changes["extractor"] = extractor
    if min_confidence is not None:
        changes["min_score"] = min_confidence
        changes["uncalibrated_min_score"] = min_confidence
    return Settings().replace(**changes)


def render_answer(answer: Answer) -> str:
    """Plain-text rendering for the terminal."""
    if answer.text is None:
        lines = [f"Not found in the articles (best score {answer.score:.2f})."]
        for cite in answer.related:
            # two passages of one article share its title: their places and openings differ
            lines.append(
                f"  related: {cite.title} "
                f"({cite.date or 'undated'}, {cite.source or 'unknown source'}) "
                f"[{cite.passage_start}:{cite.passage_end}]"
            )
            lines.append("    " + shorten(cite.passage, 160))
        return "\n".join(lines)
    verdict = "likely right" if answer.likely else "unsure"
    when = f" ({label_beside(answer.when, answer.text or '')})" if answer.when else ""
    lines = [f"{answer.text}{when}    ({verdict}, confidence {answer.score:.2f})"]
    for cite in answer.citations:
        lo, hi = cite.highlight
        passage = cite.passage[:lo] + "[[" + cite.passage[lo:hi] + "]]" + cite.passage[hi:]
        meta = ", ".join(x for x in (cite.date, cite.source) if x)
        lines.append(
            f"  - {cite.title}" + (f" ({meta})" if meta else "") + f" [{cite.start}:{cite.end}]"
        )
        lines.append("    " + " ".join(passage.split()))
    if answer.others:
        lines.append("  same date, different answer:" if answer.conflict else "  other sources:")
    for other in answer.others:
        c = other.citation
        tag = "same day" if other.conflict else "earlier" if c.date else "undated"
        meta = ", ".join(x for x in (c.date, c.source, c.title) if x)
        lines.append(f"  - {tag}: {other.text} ({meta}; confidence {other.score:.2f})")
    return "\n".join(lines)


class QAGroup(click.Group):
    """Turns library errors into one-line messages with a non-zero exit.

    The sub-commands that live in their own packages (eval, chat, train-reader) are
    imported only when named, so ``qa ask`` does not pay for them.
    """

    LAZY: dict[str, str] = {
        "chat": "qa.chat.cli:chat_command",
        "eval": "qa.eval.cli:eval_group",
        "train-reader": "qa.reader.cli:train_reader_command",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command name, the lazy ones included."""
        return sorted({*super().list_commands(ctx), *self.LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``, importing a lazy one on first use."""
        if cmd_name in self.LAZY and cmd_name not in self.commands:
            import importlib

            module, attr = self.LAZY[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; known errors become ``error: ...`` lines."""
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except KeyboardInterrupt:
            click.echo(
                "interrupted; the index is unchanged unless the summary said otherwise", err=True
            )
            sys.exit(130)
        except (OSError, ValueError, RuntimeError) as exc:
            if os.environ.get("QA_DEBUG"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)


@click.group(cls=QAGroup)
@click.version_option(package_name="newsqa")
def main() -> None:
    """Ask questions of news articles; get exact answers with citations."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")


def _ray_address(value: str | None) -> str | None:
    """``--ray``'s value, refusing a path that the option took for an address."""
    if value is None or value in ("local", "auto") or ":" in value:
        return value
    raise click.BadParameter(
        f"{value!r} is not a Ray address (auto, HOST:PORT, ray://HOST:10001); "
        "put --ray after the paths, or write --ray=ADDRESS",
        param_hint="--ray",
    )


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@_index_option(required=True)
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option(
    "--ray",
    "ray",
    is_flag=False,
    flag_value="local",
    default=None,
    metavar="[ADDRESS]",
    callback=lambda _ctx, _param, value: _ray_address(value),
    help="Parse, chunk and embed on a Ray cluster: alone, start one on this machine; "
    "with ADDRESS (auto, HOST:PORT, ray://HOST:10001), use that one (docs/cluster.md). "
    "Put it after the paths, or write --ray=ADDRESS.",
)
def ingest(paths: tuple[Path, ...], index: Path, quiet: bool, ray: str | None) -> None:
    """Add articles (files or folders: .txt .md .json .jsonl .html) to the index."""
    from tqdm import tqdm

    assistant = _open(index, create=True)
    bar = tqdm(desc="embedding chunks", unit="chunk", disable=quiet, file=sys.stderr)
    try:
        report = assistant.add(list(paths), progress=lambda n, _: bar.update(n), ray=ray)
    finally:
        bar.close()
    for rejection in report.rejected:
        click.echo(f"rejected {rejection.origin}: {rejection.reason}", err=True)
    click.echo(report.summary())
    info = assistant.info()
    click.echo(f"index {info.path}: {info.articles} articles, {info.chunks} chunks")


@main.command()
@click.argument("question")
@_index_option()
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@click.option("--top-k", type=int, default=None, help="Passages to read.")
@click.option("--since", default=None, help="Only articles dated on/after YYYY-MM-DD.")
@click.option("--until", default=None, help="Only articles dated on/before YYYY-MM-DD.")
@click.option(
    "--source", "sources", multiple=True, help="Only articles from this source (repeatable)."
)
@click.option("--extractor", type=click.Choice(CHOICES), default=None)
@click.option(
    "--as-of",
    default=None,
    help="Answer as a reader on this day (YYYY-MM-DD): later articles are ignored.",
)
@click.option(
    "--min-confidence",
    type=click.FloatRange(0, 1),
    default=None,
    help="Answer only when at least this sure (a probability; default: settings).",
)
@click.option(
    "--server/--no-server",
    default=True,
    show_default=True,
    help="Ask a running `qa serve` for this index when there is one (fast); "
    "--extractor and --min-confidence always answer in this process.",
)
@click.option(
    "--shard",
    "shards",
    multiple=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Search these index directories as one index, one Ray actor each (repeatable; "
    "instead of --index; docs/cluster.md).",
)
@click.option(
    "--ray",
    "ray",
    default=None,
    metavar="ADDRESS",
    callback=lambda _ctx, _param, value: _ray_address(value),
    help="With --shard: the Ray cluster (auto, HOST:PORT, ray://HOST:10001); "
    "default: start one on this machine.",
)
def ask(
    question: str,
    index: Path | None,
    as_json: bool,
    top_k: int | None,
    since: str | None,
    until: str | None,
    sources: tuple[str, ...],
    extractor: str | None,
    as_of: str | None,
    min_confidence: float | None,
    server: bool,
    shards: tuple[Path, ...],
    ray: str | None,
) -> None:
    """Answer QUESTION from the indexed articles."""
    filters = Filters(date_from=since, date_to=until, sources=tuple(sources))
    data = None
    answer: Answer | None = None
    if ray is not None and not shards:
        raise click.UsageError("--ray needs --shard (qa ask searches shards on Ray)")
    if shards:
        from click.core import ParameterSource

        if click.get_current_context().get_parameter_source("index") == ParameterSource.COMMANDLINE:
            raise click.UsageError("give --index or --shard, not both")
        from embeddings.encoder import SentenceEncoder
        from qa.assistant import Assistant
        from qa.retrieve.sharded import ShardedRetriever

        settings, encoder = _settings(extractor, min_confidence), SentenceEncoder()
        with ShardedRetriever(shards, encoder, settings, address=ray or "local") as retriever:
            shard = Assistant.open(
                shards[0], settings=settings, encoder=encoder, create=False, retriever=retriever
            )
            answer = shard.ask(
                question, top_k=top_k, filters=None if filters.empty else filters, as_of=as_of
            )
    elif server and extractor is None and min_confidence is None:
        from qa.serve.client import ask_server

        data = ask_server(
            index,
            question,
            top_k=top_k,
            filters=None if filters.empty else asdict(filters),
            as_of=as_of,
        )
    if answer is not None:
        pass  # answered from the shards
    elif data is not None:
        from qa.answer.serialize import answer_from_json

        answer = answer_from_json(data)
    else:
        assistant = _open(index, extractor=extractor, min_confidence=min_confidence)
        answer = assistant.ask(
            question, top_k=top_k, filters=None if filters.empty else filters, as_of=as_of
        )
    if as_json:
        from qa.answer.serialize import answer_json

        click.echo(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        click.echo(render_answer(answer))


@main.command()
@_index_option()
def serve(index: Path | None) -> None:
    """Keep the assistant loaded and answer `qa ask` for this index over a local socket.

    Runs until Ctrl+C. `qa ask` (same --index) uses it while it is up.
    """
    from embeddings.gate import share_cores
    from qa.serve.protocol import index_key, socket_path
    from qa.serve.server import AskServer

    share_cores()  # many askers: one thread per question, one question per core
    assistant = _open(index)
    assistant.ask("warm up: load the models")
    server = AskServer(socket_path(index), assistant, index_key(index))
    info = assistant.info()
    click.echo(
        f"qa serve: {server.path} ({info.articles} articles, {info.chunks} passages; Ctrl+C stops)"
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@_index_option()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def info(index: Path | None, as_json: bool) -> None:
    """Show what the index holds."""
    assistant = _open(index)
    data = asdict(assistant.info())
    data["package_version"] = assistant.manifest.get("package_version")
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        for key, value in data.items():
            click.echo(f"{key}: {value}")


@main.command()
@click.argument("article_ids", nargs=-1, required=True)
@_index_option(required=True)
def delete(article_ids: tuple[str, ...], index: Path) -> None:
    """Delete articles (and their chunks) by id."""
    assistant = _open(index)
    missing = [a for a in article_ids if not assistant.delete(a)]
    click.echo(f"deleted {len(article_ids) - len(missing)}")
    if missing:
        click.echo(f"not found: {', '.join(missing)}", err=True)
        sys.exit(1)


@main.command(name="list")
@_index_option()
def list_articles(index: Path | None) -> None:
    """List stored articles: id, date, source, title."""
    assistant = _open(index)
    for article in sorted(assistant.articles(), key=lambda a: (a.date or "", a.title)):
        click.echo(
            f"{article.article_id}  {article.date or '----------'}  "
            f"{article.source or '-':12.12}  {article.title}"
        )


@main.command(name="repl")
@_index_option()
def repl(index: Path | None) -> None:
    """Ask questions interactively (empty line or Ctrl-D to quit)."""
    assistant = _open(index)
    while True:
        try:
            question = input("question> ").strip()
        except EOFError:
            break
        if not question:
            break
        click.echo(render_answer(assistant.ask(question)))
