"""Input limits: degenerate texts, disguised archives, record caps, file names, folder walks."""

from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import random
import tarfile
import zipfile
from pathlib import Path

import pytest

from qa.ingest import limits as limits_module
from qa.ingest.limits import (
    MAX_NAME_BYTES,
    MAX_NAME_CHARS,
    archive_kind,
    degenerate,
    safe_name,
)
from qa.ingest.parsing import InputError, article_from_record, iter_files, read_path
from qa.settings import LimitSettings, Settings
from qa.types import Article, Rejection

SAMPLES = sorted((Path(__file__).resolve().parents[2] / "qa" / "sample").glob("*.txt"))
LIMITS = LimitSettings()
MAX = 20_000_000

NEWS = (
    "Stocks rally as central bank signals pause\n\n"
    "NEW YORK (AP) — Stocks rose on Wednesday after the Federal Reserve signalled it would "
    "hold interest rates steady. The S&P 500 gained 1.2% to 5,123.4, its best day since "
    'March, while the Nasdaq added 1.8%. "The market was waiting for this," said Jane Doe, '
    "chief strategist at Example Capital. Treasury yields fell to 4.1%.\n\n"
    "Oil prices slipped 0.6% to $78.20 a barrel. Gold was little changed at $2,330 an ounce. "
    "Analysts expect the bank to cut rates twice before the end of the year, although some "
    "warned that inflation remains above its 2% target. "
) * 3


def _read(path: Path, limits: LimitSettings | None = None) -> list[Article | Rejection]:
    return list(read_path(path, MAX, limits))


def _only_rejection(path: Path) -> str:
    out = _read(path)
    assert len(out) == 1 and isinstance(out[0], Rejection), out
    assert out[0].origin == str(path)
    return out[0].reason


# --------------------------------------------------------- degenerate texts
@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_bundled_sample_passes(path: Path) -> None:
    assert degenerate(path.read_text(encoding="utf-8"), LIMITS) is None


def test_realistic_texts_pass() -> None:
    rng = random.Random(7)
    names = "\n".join(
        f"{n}. {name}"
        for n, name in enumerate(
            ["Park Yoon-joo", "Takehiro Funakoshi", "Lee Jae Myung", "Sanae Takaichi"] * 80
        )
    )
    table = "Year | Revenue | Profit | Margin\n---|---|---|---\n" + "\n".join(
        f"{2000 + i} | {rng.randint(100, 99999):,} | {rng.uniform(-50, 500):.1f} | "
        f"{rng.uniform(0, 1):.2f}"
        for i in range(300)
    )
    decimals = " ".join(f"0.{rng.randint(1, 99)}" for _ in range(1000))
    chinese = (
        "中国国务院总理李强周五表示，中国将继续扩大高水平对外开放，欢迎各国企业来华投资。" * 40
    )
    accents = (
        "Le président a déclaré jeudi à Paris que la réforme des retraites irait à terme. " * 30
    )
    for text in (NEWS, names, table, decimals, chinese, accents):
        assert degenerate(text, LIMITS) is None, text[:60]


def test_repeated_word_is_degenerate_and_named() -> None:
    text = "buy " * 150 + " ".join(f"word{n}" for n in range(100))  # 60% "buy"
    reason = degenerate(text, LIMITS)
    assert reason is not None
    assert "degenerate" in reason and "'buy'" in reason and "60%" in reason and "50%" in reason
    # the share and the minimum come from LimitSettings
    assert degenerate(text, LimitSettings(max_repeat_share=0.7)) is None
    assert degenerate(text, LimitSettings(repeat_min_words=1000)) is None
    # repetition is case-insensitive; short texts are never called degenerate
    assert degenerate("Buy BUY buy " * 100, LIMITS) is not None
    assert degenerate("spam " * 199, LIMITS) is None


def test_encoded_data_is_degenerate() -> None:
    data = os.urandom(6000)
    blob = base64.b64encode(data).decode()
    mime = "\n".join(blob[i : i + 76] for i in range(0, len(blob), 76))
    for text in (blob, mime, data.hex()):
        reason = degenerate(text, LIMITS)
        assert reason is not None and "encoded data" in reason
    # a news text quoting one long token is fine
    assert degenerate(NEWS + " " + blob[:300], LIMITS) is None


def test_noise_and_symbol_soup_are_degenerate() -> None:
    rng = random.Random(3)
    control = "".join(
        chr(rng.choice([rng.randint(1, 8), rng.randint(0x7F, 0x9F)])) for _ in range(500)
    )
    reason = degenerate("Some words here. " + control, LIMITS)
    assert reason is not None and "control or unprintable" in reason
    soup = "".join(rng.choice("#$%^&*()[]{}<>~|+=") for _ in range(1000))
    reason = degenerate(soup, LIMITS)
    assert reason is not None and "letters or digits" in reason
    # short texts are not judged by their characters
    assert degenerate("#$%^&*", LIMITS) is None


def test_long_run_of_sentence_marks_is_degenerate() -> None:
    reason = degenerate("He said so. " + "!" * 5000 + " Then he left.", LIMITS)
    assert reason is not None and "5,000 sentence-end marks" in reason
    assert degenerate("Wait... what?! Really?!?! " + "." * 20, LIMITS) is None


def test_ten_megabyte_repeated_word_file_rejected(tmp_path: Path) -> None:
    path = tmp_path / "spam.txt"
    path.write_text("lorem " * 1_750_000, encoding="utf-8")  # 10.5 MB
    assert path.stat().st_size > 10_000_000
    reason = _only_rejection(path)
    assert "degenerate" in reason and "'lorem'" in reason


def test_degenerate_record_is_one_rejection_in_a_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    lines = [
        json.dumps({"id": 1, "text": NEWS}),
        json.dumps({"id": 2, "text": "click " * 500}),
        json.dumps({"id": 3, "text": NEWS + " Update."}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = _read(path)
    assert [type(x).__name__ for x in out] == ["Article", "Rejection", "Article"]
    assert out[1] == Rejection(f"{path}:2", out[1].reason) and "degenerate" in out[1].reason


def test_article_from_record_checks_limits_only_when_given() -> None:
    record = {"text": "again " * 300}
    assert isinstance(article_from_record(record, "o"), Article)
    with pytest.raises(InputError, match="degenerate"):
        article_from_record(record, "o", limits=LIMITS)


def test_old_read_path_call_uses_default_limits(tmp_path: Path) -> None:
    path = tmp_path / "spam.md"
    path.write_text("again " * 300, encoding="utf-8")
    out = list(read_path(path, MAX))  # the pipeline's call, without limits
    assert len(out) == 1 and isinstance(out[0], Rejection) and "degenerate" in out[0].reason


# -------------------------------------------------------------- archives
def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("story.txt", NEWS)
    return buffer.getvalue()


def _tar_bytes() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = NEWS.encode()
        info = tarfile.TarInfo("story.txt")
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


ARCHIVES = {
    "zip": _zip_bytes(),
    "gzip": gzip.compress(NEWS.encode()),
    "bz2": bz2.compress(NEWS.encode()),
    "xz": lzma.compress(NEWS.encode()),
    "tar": _tar_bytes(),
    "7z": b"7z\xbc\xaf\x27\x1c\x00\x04" + bytes(64),
    "rar": b"Rar!\x1a\x07\x01\x00" + bytes(64),
}


@pytest.mark.parametrize("kind", sorted(ARCHIVES))
def test_archive_kind_by_magic_bytes(kind: str) -> None:
    assert archive_kind("story.txt", ARCHIVES[kind][:512]) == kind


def test_archive_kind_of_text_and_archive_names() -> None:
    assert archive_kind("story.txt", NEWS.encode()[:512]) is None
    assert archive_kind("story.txt", b"PK is a common abbreviation in news.") is None
    assert archive_kind("story.txt", b"BZh9 is not a bzip2 stream without its block magic") is None
    assert archive_kind("bundle.zip", b"") == "'.zip' file"
    assert archive_kind("feed.jsonl.gz", b"") == "'.gz' file"


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("zip", "story.txt"),
        ("gzip", "story.txt"),
        ("xz", "notes.md"),
        ("tar", "feed.json"),
        ("bz2", "feed.jsonl"),
        ("7z", "page.html"),
    ],
)
def test_disguised_archive_rejected(tmp_path: Path, kind: str, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(ARCHIVES[kind])
    reason = _only_rejection(path)
    assert "compressed or archived" in reason and f"({kind})" in reason and "unpack" in reason


def test_archive_extension_rejected_as_archive(tmp_path: Path) -> None:
    path = tmp_path / "corpus.zip"
    path.write_bytes(ARCHIVES["zip"])
    assert "compressed or archived" in _only_rejection(path)


# -------------------------------------------------------- records per file
def test_jsonl_stops_after_max_articles_per_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    records = [{"id": n, "text": f"Story number {n} happened on Monday."} for n in range(3)]
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    out = _read(path, LimitSettings(max_articles_per_file=2))
    articles = [x for x in out if isinstance(x, Article)]
    rejections = [x for x in out if isinstance(x, Rejection)]
    assert len(articles) == 2 and len(rejections) == 1
    assert rejections[0].origin == f"{path}:3"
    assert "1 more record(s) skipped" in rejections[0].reason
    assert "max_articles_per_file" in rejections[0].reason
    assert len(_read(path)) == 3  # the default limit (10,000) lets all three through


def test_json_list_stops_after_max_articles_per_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.json"
    records = [{"id": n, "text": f"Story number {n} happened."} for n in range(5)]
    path.write_text(json.dumps({"articles": records}), encoding="utf-8")
    out = _read(path, LimitSettings(max_articles_per_file=2))
    assert [type(x).__name__ for x in out] == ["Article", "Article", "Rejection"]
    assert out[2].origin == f"{path}[2]" and "3 more record(s) skipped" in out[2].reason


def test_bad_lines_count_towards_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text("not json\n{}\n" + json.dumps({"text": "Fine."}) + "\n", encoding="utf-8")
    out = _read(path, LimitSettings(max_articles_per_file=2))
    assert [x.origin for x in out] == [f"{path}:1", f"{path}:2", f"{path}:3"]
    assert all(isinstance(x, Rejection) for x in out)
    assert "skipped" in out[2].reason


def test_default_cap_comes_from_settings() -> None:
    assert Settings().limits.max_articles_per_file == LIMITS.max_articles_per_file == 10_000


# ------------------------------------------------- encodings and JSON abuse
def test_not_utf8_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Café owners protest new rules.".encode("latin-1"))
    reason = _only_rejection(path)
    assert reason.startswith("latin1.txt is not valid UTF-8") and "save it as UTF-8" in reason


def test_utf16_is_named_not_called_binary(tmp_path: Path) -> None:
    path = tmp_path / "story.txt"
    path.write_bytes(NEWS.encode("utf-16"))
    assert _only_rejection(path) == "story.txt is UTF-16 text, not UTF-8: save it as UTF-8"


def test_deeply_nested_and_huge_number_json_rejected(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert "nested too deeply" in _only_rejection(deep)
    huge = tmp_path / "huge.jsonl"
    huge.write_text(json.dumps({"text": "Fine."}) + "\n" + '{"text": 1' + "0" * 5000 + "}\n")
    out = _read(huge)
    assert isinstance(out[0], Article)
    assert out[1].origin == f"{huge}:2" and "malformed JSON line" in out[1].reason


def test_huge_integer_date_is_ignored() -> None:
    article = article_from_record({"text": "Fine.", "timestamp": 10**400}, "o")
    assert article.date is None


def test_folder_named_like_a_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "folder.txt"
    path.mkdir()
    assert "cannot read file" in _only_rejection(path)


# --------------------------------------------------------------- safe_name
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("a/b\\c.txt", "c.txt"),
        ("\x00evil.txt", "evil.txt"),
        ("", "upload"),
        ("..", "upload"),
        (".txt", "upload.txt"),
        (".bashrc", "upload.bashrc"),  # a name that is only an extension
        ("CON.txt", "_CON.txt"),
        ('what?:"now".md', "what___now_.md"),
        ("report\u202etxt.exe", "reporttxt.exe"),
        ("  Seoul news 2025.JSONL  ", "Seoul news 2025.JSONL"),
        ("日本のニュース.txt", "日本のニュース.txt"),
    ],
)
def test_safe_name(raw: str, expected: str) -> None:
    assert safe_name(raw) == expected


def test_safe_name_caps_length_and_keeps_extension() -> None:
    name = safe_name("x" * 500 + ".txt")
    assert len(name) == MAX_NAME_CHARS and name.endswith(".txt")
    wide = safe_name("日本" * 300 + ".jsonl")
    assert wide.endswith(".jsonl") and len(wide.encode()) <= MAX_NAME_BYTES
    assert safe_name("y" * 500, max_chars=40) == "y" * 40


# ------------------------------------------------------------ folder walks
def test_symlink_loop_is_a_rejection(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "a.txt").write_text("x", encoding="utf-8")
    (root / "sub" / "back").symlink_to(root, target_is_directory=True)
    (root / "self").symlink_to(root / "self")  # a link to itself
    (root / "gone").symlink_to(tmp_path / "missing")
    out = list(iter_files([root]))
    assert out[0] == root / "sub" / "a.txt"
    problems = {x.origin: x.reason for x in out if isinstance(x, Rejection)}
    assert "a link back to a folder it is inside" in problems[str(root / "sub" / "back")]
    assert "loops" in problems[str(root / "self")] and "broken" in problems[str(root / "gone")]
    assert len(out) == 4


def test_linked_folder_is_read_once(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    (root / "real").mkdir(parents=True)
    (root / "real" / "a.txt").write_text("x", encoding="utf-8")
    (root / "alias").symlink_to(root / "real", target_is_directory=True)
    out = list(iter_files([root]))
    files = [x for x in out if isinstance(x, Path)]
    assert len(files) == 1
    assert [x.reason for x in out if isinstance(x, Rejection)] == [
        "skipped: a link back to a folder already read"
    ]


def test_looping_link_given_directly(tmp_path: Path) -> None:
    link = tmp_path / "loop"
    link.symlink_to(link)
    assert list(iter_files([link])) == [Rejection(str(link), "broken link, or a link that loops")]


def test_unreadable_folder_is_a_rejection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "corpus"
    (root / "locked").mkdir(parents=True)
    (root / "ok.txt").write_text("x", encoding="utf-8")
    real_scandir = os.scandir

    def scandir(path: os.PathLike[str]):  # type: ignore[no-untyped-def]
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(limits_module.os, "scandir", scandir)
    out = list(iter_files([root]))
    assert out == [
        root / "ok.txt",
        Rejection(str(root / "locked"), "cannot read folder (Permission denied)"),
    ]


def test_pipe_in_folder_is_a_rejection(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    root.mkdir()
    os.mkfifo(root / "pipe.txt")
    out = list(iter_files([root]))
    assert out == [
        Rejection(str(root / "pipe.txt"), "not a regular file (a pipe, socket or device)")
    ]
    assert list(iter_files([root / "pipe.txt"])) == out
