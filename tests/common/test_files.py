from __future__ import annotations

from pathlib import Path

import pytest

from qa.common.files import (
    atomic_write_bytes,
    atomic_write_text,
    atomic_write_with,
    fsync_dir,
    fsync_file,
)


def test_write_text_creates_file_and_returns_path(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    result = atomic_write_text(str(target), "héllo")
    assert isinstance(result, Path)
    assert result == target
    assert target.read_bytes() == "héllo".encode()
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_write_bytes_replaces_content(tmp_path: Path) -> None:
    target = tmp_path / "data.bin"
    target.write_bytes(b"old content that is longer")
    result = atomic_write_bytes(target, b"new")
    assert result == target
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.bin"]


def test_write_with_passes_temp_path_beside_target(tmp_path: Path) -> None:
    target = tmp_path / "index.faiss"
    seen: list[Path] = []

    def write(tmp: Path) -> None:
        seen.append(tmp)
        assert tmp != target
        assert tmp.parent == target.parent
        tmp.write_text("payload", encoding="utf-8")

    result = atomic_write_with(target, write)
    assert result == target
    assert len(seen) == 1
    assert not seen[0].exists()
    assert target.read_text(encoding="utf-8") == "payload"
    assert [p.name for p in tmp_path.iterdir()] == ["index.faiss"]


def test_failing_writer_keeps_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    target.write_text("old", encoding="utf-8")

    def write(tmp: Path) -> None:
        tmp.write_text("half written", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write_with(target, write)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_failing_writer_without_old_file_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "new.json"

    def write(tmp: Path) -> None:
        tmp.write_text("partial", encoding="utf-8")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write_with(target, write)
    assert list(tmp_path.iterdir()) == []


def test_writer_that_writes_nothing_raises_and_keeps_old(tmp_path: Path) -> None:
    target = tmp_path / "keep.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(FileNotFoundError):
        atomic_write_with(target, lambda tmp: None)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]


def test_repeated_writes_keep_only_the_last(tmp_path: Path) -> None:
    target = tmp_path / "count.txt"
    for n in range(5):
        atomic_write_text(target, str(n))
    assert target.read_text(encoding="utf-8") == "4"
    assert [p.name for p in tmp_path.iterdir()] == ["count.txt"]


def test_fsync_helpers_accept_existing_paths(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("x", encoding="utf-8")
    fsync_file(target)
    fsync_file(str(target))
    fsync_dir(tmp_path)
    fsync_dir(str(tmp_path))
    assert target.read_text(encoding="utf-8") == "x"


def test_fsync_helpers_raise_for_missing_paths(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        fsync_file(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        fsync_dir(tmp_path / "missing-dir")
