"""Checks that keep oversized, degenerate or disguised input out of the index.

Every check is pure (bar :func:`walk_folder`, the guarded folder walk) and
returns a message naming the problem (or ``None`` when the input is fine); none
raises; :mod:`qa.ingest.parsing` turns the messages into
:class:`~qa.types.Rejection` values. The tunable thresholds live in
:class:`qa.settings.LimitSettings` (``max_repeat_share``, ``repeat_min_words``,
``max_articles_per_file``); the fixed rules below describe what no news article
looks like and are documented in ``docs/reliability.md``.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections import Counter
from pathlib import Path, PurePath

from qa.settings import LimitSettings
from qa.types import Rejection

# Texts with fewer non-space characters than this are never called noise.
NOISE_MIN_CHARS = 200
# Share of "junk" characters (controls other than whitespace, private use,
# surrogates, U+FFFD) above which a text is binary-looking noise.
MAX_JUNK_SHARE = 0.1
# Runs of base64/hex-like characters at least this long count as encoded data ...
ENCODED_RUN_CHARS = 40
# ... and a text made more than this share of such runs is refused.
MAX_ENCODED_SHARE = 0.5
# Texts in which fewer than this share of the non-space characters are letters or
# digits are symbol soup (tables of numbers pass: digits count).
MIN_ALNUM_SHARE = 0.25
# A run of more sentence-end marks (. ! ? …) than this is refused: no article has
# one, and the sentence splitter's cost grows with the square of its length.
MAX_PUNCT_RUN = 50
# safe_name: longest name kept (characters, extension included; and UTF-8 bytes, as
# file systems count them) and the name used when nothing is left.
MAX_NAME_CHARS = 120
MAX_NAME_BYTES = 240
FALLBACK_NAME = "upload"

_WORD = re.compile(r"\w+(?:[.,'’-]\w+)*")
_JUNK = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ud800-\udfff\U000f0000-\U0010ffff]"
)
_ENCODED = re.compile(rf"[A-Za-z0-9+/=_-]{{{ENCODED_RUN_CHARS},}}")
_WORD_CHARS = re.compile(r"[^\W_]+")
_PUNCT_RUN = re.compile(rf"[.!?…]{{{MAX_PUNCT_RUN + 1},}}")

# (name, offset, magic bytes); bz2 also needs its block or end-of-stream magic
_MAGIC: tuple[tuple[str, int, bytes], ...] = (
    ("zip", 0, b"PK\x03\x04"),
    ("zip", 0, b"PK\x05\x06"),
    ("zip", 0, b"PK\x07\x08"),
    ("gzip", 0, b"\x1f\x8b"),
    ("xz", 0, b"\xfd7zXZ\x00"),
    ("7z", 0, b"7z\xbc\xaf\x27\x1c"),
    ("rar", 0, b"Rar!\x1a\x07"),
    ("zstd", 0, b"\x28\xb5\x2f\xfd"),
    ("compress (.Z)", 0, b"\x1f\x9d"),
    ("tar", 257, b"ustar"),
)
_BZ2 = re.compile(rb"BZh[1-9](?:\x31\x41\x59\x26\x53\x59|\x17\x72\x45\x38\x50\x90)")
# how many leading bytes archive_kind needs to see
HEAD_BYTES = 512
ARCHIVE_SUFFIXES = (
    ".zip",
    ".gz",
    ".tgz",
    ".bz2",
    ".tbz2",
    ".xz",
    ".txz",
    ".7z",
    ".rar",
    ".tar",
    ".zst",
    ".z",
)

_RESERVED_NAME_CHARS = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = frozenset(
    ["con", "prn", "aux", "nul"]
    + [f"com{n}" for n in range(1, 10)]
    + [f"lpt{n}" for n in range(1, 10)]
)
_EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


def archive_kind(path: str | PurePath, head_bytes: bytes) -> str | None:
    """The kind of compressed or archived data a file holds, if any.

    Magic bytes decide, whatever the file's name says: a ``story.txt`` that is
    really a zip is a zip. Without a known signature an archive extension
    (``.zip``, ``.gz`` ...) still names it one.

    Args:
        path: The file's path or name (only its extension is used).
        head_bytes: The file's first bytes (:data:`HEAD_BYTES` of them find a tar).

    Returns:
        ``"zip"``, ``"gzip"``, ``"bz2"``, ``"xz"``, ``"7z"``, ``"rar"``, ``"zstd"``,
        ``"compress (.Z)"`` or ``"tar"`` (from the bytes), ``"'.zip'"``-style names
        (from the extension alone), or ``None`` for anything else.
    """
    for name, offset, magic in _MAGIC:
        if head_bytes[offset : offset + len(magic)] == magic:
            return name
    if _BZ2.match(head_bytes):
        return "bz2"
    suffix = PurePath(str(path)).suffix.lower()
    if suffix in ARCHIVE_SUFFIXES:
        return f"'{suffix}' file"
    return None


def archive_message(kind: str) -> str:
    """The rejection message for a compressed or archived input of ``kind``."""
    return f"compressed or archived file ({kind}), not text: unpack it and add the files inside"


def binary_problem(path: str | PurePath, data: bytes) -> str | None:
    """Why a file's bytes are not text to read, or ``None``.

    Archives (:func:`archive_kind`), UTF-16 text (a byte-order mark: save it as
    UTF-8) and NUL bytes in the first 8 KiB (binary data) are named.

    Args:
        path: The file (its name goes into the message).
        data: The file's bytes.
    """
    kind = archive_kind(path, data[:HEAD_BYTES])
    if kind is not None:
        return archive_message(kind)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return f"{PurePath(str(path)).name} is UTF-16 text, not UTF-8: save it as UTF-8"
    if b"\x00" in data[:8192]:
        return "binary file (NUL bytes), not text"
    return None


def json_problem(exc: ValueError | RecursionError) -> str:
    """What an error of :func:`json.loads` says, in words for a rejection."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc).split(":")[0]  # "Exceeds the limit (4300 digits) for integer ..."


def degenerate(text: str, limits: LimitSettings) -> str | None:
    """Why ``text`` is not a plausible article, or ``None`` when it may be one.

    Refused are: binary-looking noise (over 10% control, private-use or
    replacement characters), encoded data (over half the text in runs of 40+
    base64/hex characters), symbol soup (under 25% letters and digits), a run of
    over 50 sentence-end marks, and repetition (one word more than
    ``limits.max_repeat_share`` of the words, once there are at least
    ``limits.repeat_min_words``). The character rules apply from 200 non-space
    characters on. News text, lists of names and tables of numbers pass.

    Args:
        text: The article text.
        limits: The limits in force.
    """
    run = _PUNCT_RUN.search(text)
    if run is not None:
        return (
            f"degenerate text: a run of {len(run.group()):,} sentence-end marks "
            f"(the limit is {MAX_PUNCT_RUN})"
        )
    solid = "".join(text.split())
    if len(solid) >= NOISE_MIN_CHARS:
        junk = len(_JUNK.findall(solid))
        if junk > MAX_JUNK_SHARE * len(solid):
            return (
                f"degenerate text: {junk / len(solid):.0%} of its characters are control or "
                "unprintable characters (binary data?)"
            )
        encoded = sum(len(m) for m in _ENCODED.findall(text))
        if encoded > MAX_ENCODED_SHARE * len(solid):
            return (
                f"degenerate text: {encoded / len(solid):.0%} of it is long runs of letters and "
                "digits without spaces (base64 or other encoded data?)"
            )
        alnum = sum(len(m) for m in _WORD_CHARS.findall(solid))
        if alnum < MIN_ALNUM_SHARE * len(solid):
            return (
                f"degenerate text: only {alnum / len(solid):.0%} of its characters are letters "
                "or digits"
            )
    return repeated_word(text, limits)


def repeated_word(text: str, limits: LimitSettings) -> str | None:
    """A message when one word makes up too much of ``text``, else ``None``.

    Words are runs of letters and digits, joined by inner ``.,'-`` ("1,234",
    "0.5", "U.S"), compared case-insensitively.

    Args:
        text: The article text.
        limits: Supplies ``max_repeat_share`` and ``repeat_min_words``.
    """
    words = _WORD.findall(text)
    if len(words) < max(1, limits.repeat_min_words):
        return None
    word, count = Counter(w.casefold() for w in words).most_common(1)[0]
    if count <= limits.max_repeat_share * len(words):
        return None
    shown = word if len(word) <= 30 else word[:30] + "…"
    return (
        f"degenerate text: the word {shown!r} makes up {count / len(words):.0%} of its "
        f"{len(words):,} words (the limit is {limits.max_repeat_share:.0%})"
    )


def too_many_records(limit: int, skipped: int) -> str:
    """The rejection message for the records of a file past ``max_articles_per_file``."""
    return (
        f"{skipped:,} more record(s) skipped: a file may hold at most {limit:,} "
        "(max_articles_per_file)"
    )


def safe_name(name: str, max_chars: int = MAX_NAME_CHARS) -> str:
    r"""An uploaded file's name made safe to store and show.

    Keeps the last path component only (``/`` and ``\`` both separate), turns
    any run of white space (tabs, line breaks, no-break spaces) into one space,
    drops control and format characters (NUL, bidi overrides), replaces the
    characters Windows reserves (``<>:"|?*``), strips leading dots and trailing
    dots and spaces (no hidden files, no ``..``), prefixes Windows device names
    (``CON``), and caps the length (characters and UTF-8 bytes) while keeping the
    extension. Never empty: a name with nothing left becomes ``upload`` (``.txt``
    becomes ``upload.txt``).

    Args:
        name: The name as the client sent it.
        max_chars: Longest name returned (at least 16).
    """
    max_chars = max(16, max_chars)
    cleaned = "".join(
        ch
        for ch in re.sub(r"\s+", " ", unicodedata.normalize("NFC", name))
        if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    )
    cleaned = re.split(r"[/\\]", cleaned)[-1]
    cleaned = _RESERVED_NAME_CHARS.sub("_", cleaned).strip()
    extension = ""
    match = _EXTENSION.search(cleaned)
    if match is not None:
        extension = match.group()
        cleaned = cleaned[: match.start()]
    stem = cleaned.lstrip(". ").rstrip(". ")
    if not stem:
        stem = FALLBACK_NAME
    if stem.split(".")[0].lower() in _WINDOWS_DEVICES:
        stem = "_" + stem
    stem = stem[: max_chars - len(extension)]
    room = MAX_NAME_BYTES - len(extension.encode())
    stem = stem.encode()[:room].decode(errors="ignore").rstrip(". ") or FALLBACK_NAME
    return stem + extension


def walk_folder(root: Path) -> tuple[list[Path], list[Rejection]]:
    """Files under ``root`` and the problems met on the way, never raising.

    Depth-first without recursion; dot-files and dot-folders are skipped. A linked
    folder is read once: a link back to a folder it is inside (a loop) or to one
    already read is reported and skipped, as are unreadable folders, broken or
    looping links, pipes and devices.

    Args:
        root: The folder to walk.

    Returns:
        The files found (unsorted) and a :class:`~qa.types.Rejection` per problem.
    """
    files: list[Path] = []
    problems: list[Rejection] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, frozenset[tuple[int, int]]]] = [(root, frozenset())]
    while stack:
        folder, ancestors = stack.pop()
        try:
            info = folder.stat()
            with os.scandir(folder) as scan:
                entries = list(scan)
        except OSError as exc:
            problems.append(Rejection(str(folder), f"cannot read folder ({exc.strerror or exc})"))
            continue
        ident = (info.st_dev, info.st_ino)
        if ident in ancestors or ident in seen:
            where = "a folder it is inside" if ident in ancestors else "a folder already read"
            problems.append(Rejection(str(folder), f"skipped: a link back to {where}"))
            continue
        seen.add(ident)
        for entry in entries:
            if entry.name.startswith("."):
                continue
            child = folder / entry.name
            try:
                if entry.is_dir():
                    stack.append((child, ancestors | {ident}))
                    continue
                if entry.is_file():
                    files.append(child)
                    continue
                broken = entry.is_symlink()
            except OSError:
                broken = True
            problems.append(
                Rejection(
                    str(child),
                    "broken link, or a link that loops"
                    if broken
                    else "not a regular file (a pipe, socket or device)",
                )
            )
    return files, problems
