from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from qa.cli import main

SAMPLE = Path(__file__).resolve().parents[1] / "qa" / "sample" / "000_6c212dc43d020d0e.txt"


def test_ingest_ask_info_delete(tmp_path: Path) -> None:
    runner = CliRunner()
    index = tmp_path / "ix"
    result = runner.invoke(main, ["ingest", str(SAMPLE), "--index", str(index), "--quiet"])
    assert result.exit_code == 0, result.output
    assert "added 1" in result.output
    again = runner.invoke(main, ["ingest", str(SAMPLE), "--index", str(index), "--quiet"])
    assert "unchanged 1" in again.output

    result = runner.invoke(
        main,
        ["ask", "Who is Japan's counterpart in the dialogue?", "--json"],
        env={"QA_INDEX": str(index)},
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["answer"] == "Takehiro Funakoshi"
    text = SAMPLE.read_text()
    for cite in data["citations"]:
        assert text[cite["start"] : cite["end"]] == cite["quote"]
        assert set(cite) >= {
            "article_id",
            "title",
            "date",
            "source",
            "url",
            "start",
            "end",
            "quote",
            "passage",
            "passage_start",
            "passage_end",
        }

    result = runner.invoke(
        main, ["ask", "Who won the 2022 FIFA World Cup?", "--json", "--index", str(index)]
    )
    assert json.loads(result.output)["answer"] is None

    info = runner.invoke(main, ["info", "--index", str(index), "--json"])
    assert json.loads(info.output)["articles"] == 1

    article_id = data["citations"][0]["article_id"]
    deleted = runner.invoke(main, ["delete", article_id, "--index", str(index)])
    assert deleted.exit_code == 0 and "deleted 1" in deleted.output
    missing = runner.invoke(main, ["delete", article_id, "--index", str(index)])
    assert missing.exit_code == 1


def test_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["info", "--index", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert result.output.strip().startswith("error:")
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text("{oops")
    result = runner.invoke(main, ["ask", "anything?", "--index", str(bad)])
    assert (
        result.exit_code == 1 and "manifest" in result.output and "Traceback" not in result.output
    )


def test_ingest_reports_rejections(tmp_path: Path) -> None:
    runner = CliRunner()
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    result = runner.invoke(main, ["ingest", str(empty), "--index", str(tmp_path / "ix"), "--quiet"])
    assert result.exit_code == 0
    assert "empty file" in result.output
    assert "rejected 1" in result.output


def test_ask_as_of_and_min_confidence(tmp_path: Path) -> None:
    runner = CliRunner()
    index = tmp_path / "ix"
    assert (
        runner.invoke(main, ["ingest", str(SAMPLE), "--index", str(index), "--quiet"]).exit_code
        == 0
    )
    q = "Who is Japan's counterpart in the dialogue?"
    # a reader on 2025-11-06 has not seen the 2025-11-07 article
    before = runner.invoke(
        main, ["ask", q, "--json", "--index", str(index), "--as-of", "2025-11-06"]
    )
    assert before.exit_code == 0, before.output
    assert json.loads(before.output)["answer"] is None
    on_the_day = runner.invoke(
        main, ["ask", q, "--json", "--index", str(index), "--as-of", "2025-11-07"]
    )
    assert json.loads(on_the_day.output)["answer"] == "Takehiro Funakoshi"
    strict = runner.invoke(
        main, ["ask", q, "--json", "--index", str(index), "--min-confidence", "1"]
    )
    data = json.loads(strict.output)
    assert data["answer"] is None and data["score"] < 1.0
    when = runner.invoke(main, ["ask", "When were the talks held?", "--index", str(index)])
    assert when.output.startswith("Friday (7 November 2025)")
    bad = runner.invoke(main, ["ask", q, "--index", str(index), "--as-of", "soon"])
    assert bad.exit_code == 1 and "as_of must be a date" in bad.output


def test_related_passages_show_their_place_and_opening() -> None:
    """A refusal lists the closest passages; two of one article must not look alike."""
    from qa.cli import render_answer
    from qa.types import Answer, Citation

    text = "First part of the story. " * 10 + "Second part, later on. " * 10

    def passage(start: int, end: int) -> Citation:
        return Citation(
            article_id="a",
            title="One story",
            date="2025-11-07",
            source="Yonhap",
            url=None,
            start=start,
            end=end,
            quote=text[start:end],
            passage=text[start:end],
            passage_start=start,
            passage_end=end,
            score=0.1,
        )

    first, second = passage(0, 250), passage(250, len(text))
    out = render_answer(Answer("Who won?", None, 0.01, related=(first, second)))
    lines = out.splitlines()
    assert lines[0] == "Not found in the articles (best score 0.01)."
    assert lines[1] == "  related: One story (2025-11-07, Yonhap) [0:250]"
    assert lines[2].startswith("    First part of the story.") and lines[2].endswith("…")
    assert len(lines[2]) <= 4 + 160
    assert lines[3] == f"  related: One story (2025-11-07, Yonhap) [250:{len(text)}]"
    assert lines[4].startswith("    Second part, later on.")
