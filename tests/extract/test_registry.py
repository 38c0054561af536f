"""The extractor registry: names, auto, errors, and the CLIs' choices."""

import pytest
from fakes import HashingEncoder

from qa.extract.registry import AUTO_ORDER, CHOICES, EXTRACTORS, make_extractor, resolve
from qa.settings import ReadingSettings


def test_every_registered_extractor_builds_under_its_name() -> None:
    enc = HashingEncoder()
    for name in EXTRACTORS:
        extractor = make_extractor(name, enc, ReadingSettings())
        assert extractor.name == name


def test_auto_is_the_first_available() -> None:
    assert resolve("auto") in AUTO_ORDER
    assert make_extractor("auto", HashingEncoder(), ReadingSettings()).name == resolve("auto")


def test_unknown_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown extractor 'magic'.*auto"):
        make_extractor("magic", HashingEncoder(), ReadingSettings())


def test_cli_choices_come_from_the_registry() -> None:
    from qa.cli import ask
    from qa.eval.cli import squad_command

    assert ("auto", *EXTRACTORS) == CHOICES
    for command in (ask, squad_command):
        option = next(p for p in command.params if p.name == "extractor")
        assert tuple(option.type.choices) == CHOICES
