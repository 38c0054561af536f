"""``qa train-reader``: train (or resume training) the neural reader."""

from __future__ import annotations

import json

import click


@click.command(name="train-reader")
@click.option(
    "--train",
    "train_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="Training data, SQuAD v1.1 JSON format.",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Run folder: checkpoints/, best/ and final/ artifacts, log.jsonl.",
)
@click.option(
    "--max-steps", type=int, default=None, help="Stop after this many steps (overrides --epochs)."
)
@click.option("--epochs", type=float, default=2.0, show_default=True)
@click.option("--batch-size", type=int, default=16, show_default=True)
@click.option(
    "--max-length", type=int, default=256, show_default=True, help="Window length in tokens."
)
@click.option(
    "--stride",
    type=int,
    default=128,
    show_default=True,
    help="Tokens shared by consecutive windows.",
)
@click.option("--lr", type=float, default=1e-4, show_default=True)
@click.option("--warmup-steps", type=int, default=200, show_default=True)
@click.option("--weight-decay", type=float, default=0.01, show_default=True)
@click.option(
    "--seed", type=int, default=13, show_default=True, help="Seed of the held-out split and order."
)
@click.option(
    "--batch-seed",
    type=int,
    default=None,
    help="Seed of the batch order only (default: --seed). Continue an --init-from artifact on "
    "a new data order while keeping its held-out split.",
)
@click.option(
    "--heldout-fraction",
    type=float,
    default=0.02,
    show_default=True,
    help="Share of training passages held out for checkpoint selection.",
)
@click.option(
    "--eval-every",
    type=int,
    default=500,
    show_default=True,
    help="Evaluate on the held-out slice (and export best/) every N steps; 0 = only at the end.",
)
@click.option(
    "--save-every", type=int, default=100, show_default=True, help="Checkpoint every N steps."
)
@click.option("--bf16/--no-bf16", default=True, show_default=True, help="bf16 autocast.")
@click.option("--threads", type=int, default=None, help="torch threads (default: torch's choice).")
@click.option(
    "--resume/--no-resume",
    default=True,
    show_default=True,
    help="Continue from the latest checkpoint in --out.",
)
@click.option("--max-train-examples", type=int, default=None, help="Use only the first N examples.")
@click.option(
    "--init-from",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="Start from a reader artifact (e.g. continue a shipped one on new data).",
)
@click.option(
    "--all-answers/--first-answer",
    default=False,
    show_default=True,
    help="Train on every distinct gold span of a question, not only the first.",
)
@click.option(
    "--neg-same-article",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of questions also paired with another paragraph of their article (no answer).",
)
@click.option(
    "--neg-retrieved",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of questions also paired with a BM25-ranked paragraph without the answer.",
)
@click.option(
    "--neg-perturbed",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of questions also made unanswerable over their own paragraph "
    "(antonym, swapped name or number, negation).",
)
@click.option(
    "--twin-foreign-names/--no-twin-foreign-names",
    default=True,
    show_default=True,
    help="Whether a swapped-name twin may take a name from another paragraph when its own "
    "has no other (without: it gets another kind of twin, so no twin names what its "
    "paragraph never mentions).",
)
@click.option(
    "--select-metric",
    type=click.Choice(["f1", "mixed_f1"]),
    default="f1",
    show_default=True,
    help="Held-out metric that picks best/ (mixed_f1 needs negatives).",
)
@click.option("--progress/--no-progress", default=True, show_default=True)
def train_reader_command(**kwargs: object) -> None:
    """Fine-tune the installed MiniLM into an extractive reader (uses CUDA when available)."""
    from qa.reader.config import TrainConfig
    from qa.reader.train import train

    try:
        result = train(TrainConfig(**kwargs))  # type: ignore[arg-type]
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from e
    click.echo(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":  # python -m qa.reader.cli (before `qa` registers the command)
    train_reader_command()
