from __future__ import annotations

import dataclasses

import pytest

from qa.settings import (
    AnsweringSettings,
    ChunkingSettings,
    IndexSettings,
    IngestSettings,
    LimitSettings,
    ReadingSettings,
    RetrievalSettings,
    Settings,
)

SECTIONS = {
    "chunking": ChunkingSettings,
    "ingest": IngestSettings,
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "reading": ReadingSettings,
    "answering": AnsweringSettings,
    "limits": LimitSettings,
}


def test_sections_are_the_expected_types() -> None:
    settings = Settings()
    assert [f.name for f in dataclasses.fields(Settings)] == list(SECTIONS)
    for name, cls in SECTIONS.items():
        assert type(getattr(settings, name)) is cls


def test_settings_is_frozen() -> None:
    settings = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.retrieval = RetrievalSettings(top_k=1)  # type: ignore[misc]


@pytest.mark.parametrize("section", list(SECTIONS))
def test_sub_settings_are_frozen(section: str) -> None:
    part = getattr(Settings(), section)
    first = dataclasses.fields(part)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(part, first, getattr(part, first))


def test_replace_changes_fields_in_their_sections() -> None:
    original = Settings()
    changed = original.replace(min_score=0.5, extractor="heuristic", top_k=3)
    assert changed.answering.min_score == 0.5
    assert changed.reading.extractor == "heuristic"
    assert changed.retrieval.top_k == 3
    # the original is untouched
    assert original == Settings()
    assert original.answering.min_score == AnsweringSettings().min_score
    assert original.reading.extractor == ReadingSettings().extractor
    assert original.retrieval.top_k == RetrievalSettings().top_k
    # other fields keep their defaults
    assert changed.answering.retrieval_weight == AnsweringSettings().retrieval_weight
    assert changed.reading.max_answer_chars == ReadingSettings().max_answer_chars
    assert changed.retrieval == dataclasses.replace(RetrievalSettings(), top_k=3)
    assert changed.chunking == ChunkingSettings()
    assert changed.ingest == IngestSettings()


def test_replace_with_nothing_is_equal() -> None:
    assert Settings().replace() == Settings()


def test_replace_chains() -> None:
    settings = Settings().replace(top_k=3).replace(dense_k=7)
    assert settings.retrieval.top_k == 3
    assert settings.retrieval.dense_k == 7


def test_replace_unknown_name_raises_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="no_such_setting"):
        Settings().replace(no_such_setting=1)
    # a section name is not a field
    with pytest.raises(TypeError, match="retrieval"):
        Settings().replace(retrieval=RetrievalSettings())


def test_replace_unknown_name_changes_nothing_even_with_valid_ones() -> None:
    original = Settings()
    with pytest.raises(TypeError, match="bogus"):
        original.replace(top_k=1, bogus=2)
    assert original == Settings()


def test_field_names_are_unique_across_sections() -> None:
    names = [f.name for cls in SECTIONS.values() for f in dataclasses.fields(cls)]
    assert len(names) == len(set(names)), names


def test_every_field_can_be_replaced_by_name() -> None:
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            default = getattr(cls(), f.name)
            value = "x" if isinstance(default, str) or default is None else default + 1
            changed = Settings().replace(**{f.name: value})
            assert getattr(getattr(changed, section), f.name) == value
