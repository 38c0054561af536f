"""The sample answers hold with the 2,225 BBC articles ingested beside the sample (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from testdata import SAMPLE_ARTICLE, shared_data

from qa import Assistant

pytestmark = [pytest.mark.slow, pytest.mark.data]


def test_sample_answers_hold_beside_bbc(tmp_path: Path, real_encoder) -> None:
    bbc = shared_data("bbc_news", "bbc_news_2004-2005.jsonl")
    assistant = Assistant.open(tmp_path / "ix", encoder=real_encoder)
    report = assistant.add([bbc, SAMPLE_ARTICLE])
    assert len(report.added) == 2226 and not report.rejected
    answer = assistant.ask("Who is Japan's counterpart in the dialogue?")
    assert answer.text == "Takehiro Funakoshi"
    article = {a.article_id: a for a in assistant.articles()}[answer.citations[0].article_id]
    cite = answer.citations[0]
    assert article.text[cite.start : cite.end] == cite.quote == "Takehiro Funakoshi"
    assert assistant.ask("Who won the 2022 FIFA World Cup?").text is None
