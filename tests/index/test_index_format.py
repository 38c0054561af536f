"""The index format on its own: manifest checks and loading a generation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashingEncoder, add_articles

from qa.common.hashing import sha256_file
from qa.index import Index
from qa.index.format import (
    FORMAT_VERSION,
    MANIFEST,
    IndexFormatError,
    build_manifest,
    describe_segment,
    read_generation,
    read_manifest,
)
from qa.ingest.chunking import chunking_signature
from qa.ingest.parsing import article_from_record
from qa.settings import Settings

CHUNKING = chunking_signature(Settings().chunking)


def built_index(tmp_path: Path) -> tuple[Path, dict]:
    enc = HashingEncoder()
    index = Index.open(tmp_path / "ix", enc, CHUNKING)
    add_articles(
        index,
        [
            article_from_record(
                {"id": f"s{i}", "title": f"T{i}", "text": f"Story {i}. The mayor spoke on {i}."},
                "test",
            )
            for i in range(3)
        ],
    )
    return tmp_path / "ix", json.loads((tmp_path / "ix" / MANIFEST).read_text())


def check(path: Path, **overrides) -> dict:
    enc = HashingEncoder()
    kwargs = {
        "root": path.parent,
        "model": enc.name,
        "dimension": enc.dimension,
        "chunking": CHUNKING,
    }
    kwargs.update(overrides)
    return read_manifest(path, **kwargs)


def test_build_manifest_describes_the_generation_and_reads_back(tmp_path: Path) -> None:
    root, manifest = built_index(tmp_path)
    (segment,) = manifest["segments"]
    seg_dir = root / segment["name"]
    enc = HashingEncoder()
    described = describe_segment(
        root,
        seg_dir,
        (3, manifest["counts"]["chunks"]),
        segment["vectors"],
    )
    assert described == segment
    rebuilt = build_manifest(
        generation=manifest["generation"],
        segments=[described],
        next_segment=manifest["next_segment"],
        model=enc.name,
        dimension=enc.dimension,
        chunking=CHUNKING,
        created=manifest["created"],
    )
    assert rebuilt["segments"] == manifest["segments"]
    assert rebuilt["counts"] == manifest["counts"]
    assert rebuilt["format_version"] == FORMAT_VERSION
    assert segment["files"]["store"]["sha256"] == sha256_file(seg_dir / "store.sqlite")
    assert check(root / MANIFEST) == manifest
    state = read_generation(root, manifest, enc.dimension)
    assert len(state.articles) == 3 and len(state.vectors) == len(state.chunks)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "unreadable manifest"),
        ("[1, 2]", "not a newsqa-index manifest"),
        (json.dumps({"format": "other"}), "not a newsqa-index manifest"),
    ],
)
def test_unreadable_or_foreign_manifest(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / MANIFEST
    path.write_text(content)
    with pytest.raises(IndexFormatError, match=message) as err:
        check(path)
    assert str(path) in str(err.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"model": "another-model"}, "built with model"),
        ({"dimension": 7}, "index dimension"),
        ({"chunking": {"chunk_max_tokens": 1, "chunk_overlap_tokens": 0}}, "chunked with"),
    ],
)
def test_mismatch_names_the_setting(tmp_path: Path, override: dict, message: str) -> None:
    root, _ = built_index(tmp_path)
    with pytest.raises(IndexFormatError, match=message):
        check(root / MANIFEST, **override)


def test_counts_that_disagree_with_the_files_are_damage(tmp_path: Path) -> None:
    root, manifest = built_index(tmp_path)
    manifest["counts"]["chunks"] += 1
    with pytest.raises(IndexFormatError, match="damaged index"):
        read_generation(root, manifest, HashingEncoder().dimension)


def test_a_file_that_differs_from_its_hash_is_damage(tmp_path: Path) -> None:
    root, manifest = built_index(tmp_path)
    manifest["segments"][0]["files"]["vectors"]["sha256"] = "0" * 64
    with pytest.raises(IndexFormatError, match="vectors file does not match"):
        read_generation(root, manifest, HashingEncoder().dimension)
