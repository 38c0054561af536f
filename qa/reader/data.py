"""SQuAD-format data: examples, tokenized windows with stride, length-bucketed batches."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from qa.common.squad import read_squad


@dataclass(frozen=True)
class Example:
    """One question over one passage, with its gold answers (may be empty)."""

    qid: str
    question: str
    context: str
    answers: tuple[tuple[str, int], ...]  # (text, char start)
    title: str = ""


def load_squad(path: str | Path) -> list[Example]:
    """Read a SQuAD-format JSON file into examples (answers in file order).

    Raises:
        DataError: If the file is missing or not SQuAD-shaped (it is named).
    """
    return [
        Example(q.qid, q.question, para.context, q.answers, para.title)
        for para in read_squad(path)
        for q in para.questions
    ]


def split_heldout(
    examples: Sequence[Example], fraction: float, seed: int
) -> tuple[list[Example], list[Example]]:
    """Split by passage (so no context is in both halves): (train, held-out)."""
    contexts = sorted({e.context for e in examples})
    rng = random.Random(seed)
    rng.shuffle(contexts)
    held = set(contexts[: int(round(len(contexts) * fraction))])
    train = [e for e in examples if e.context not in held]
    heldout = [e for e in examples if e.context in held]
    return train, heldout


def _gold_span(ex: Example) -> tuple[int, int] | None:
    """The training answer's character span: the first answer that matches the context."""
    for text, start in ex.answers:
        if text and ex.context[start : start + len(text)] == text:
            return start, start + len(text)
    for text, _ in ex.answers:  # offsets off: fall back to the first occurrence
        if text:
            i = ex.context.find(text)
            if i >= 0:
                return i, i + len(text)
    return None


@dataclass
class Features:
    """Tokenized windows (lists of equal length, one entry per window)."""

    input_ids: list[list[int]]
    token_type_ids: list[list[int]]
    example_index: list[int]
    offsets: list[list[tuple[int, int] | None]]  # None outside the context
    start_positions: list[int]
    end_positions: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


def tokenize_windows(
    tokenizer: Any,
    questions: Sequence[str],
    contexts: Sequence[str],
    *,
    max_length: int,
    stride: int,
    max_question_tokens: int = 64,
) -> dict[str, Any]:
    """Tokenize (question, context) pairs into overflowing windows.

    ``stride`` is the number of context tokens shared by consecutive windows.
    Returns the tokenizer's encoding (no padding) with ``overflow_to_sample_mapping``
    and ``offset_mapping``; offsets outside the context are set to ``None``.
    """
    qs = []
    for q in questions:  # keep long questions from starving the context
        q = q.strip()
        ids = tokenizer(q, add_special_tokens=False)["input_ids"]
        if len(ids) > max_question_tokens:
            q = tokenizer.decode(ids[:max_question_tokens])
        qs.append(q)
    enc = tokenizer(
        qs,
        list(contexts),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        return_token_type_ids=True,
        padding=False,
    )
    offsets = []
    for i, offs in enumerate(enc["offset_mapping"]):
        seq_ids = enc.sequence_ids(i)
        offsets.append([tuple(o) if s == 1 else None for o, s in zip(offs, seq_ids, strict=True)])
    return {
        "input_ids": enc["input_ids"],
        "token_type_ids": enc["token_type_ids"],
        "sample": list(enc["overflow_to_sample_mapping"]),
        "offsets": offsets,
    }


def featurize(
    tokenizer: Any, examples: Sequence[Example], *, max_length: int, stride: int
) -> Features:
    """Windows with start/end token labels (0 = [CLS] when the answer is not inside)."""
    enc = tokenize_windows(
        tokenizer,
        [e.question for e in examples],
        [e.context for e in examples],
        max_length=max_length,
        stride=stride,
    )
    starts, ends = [], []
    for offs, ei in zip(enc["offsets"], enc["sample"], strict=True):
        gold = _gold_span(examples[ei])
        s_tok = e_tok = 0
        if gold is not None:
            cs, ce = gold
            ctx = [i for i, o in enumerate(offs) if o is not None]
            if ctx and offs[ctx[0]][0] <= cs and offs[ctx[-1]][1] >= ce:
                s_tok = next((i for i in ctx if offs[i][1] > cs), 0)
                e_tok = next((i for i in reversed(ctx) if offs[i][0] < ce), 0)
                if e_tok < s_tok:
                    s_tok = e_tok = 0
        starts.append(s_tok)
        ends.append(e_tok)
    return Features(
        enc["input_ids"], enc["token_type_ids"], enc["sample"], enc["offsets"], starts, ends
    )


def bucketed_batches(
    lengths: Sequence[int], batch_size: int, seed: int, epoch: int, bucket_batches: int = 50
) -> list[list[int]]:
    """One epoch's batches, grouped by length.

    Shuffle, sort by length inside pools of ``bucket_batches`` batches, cut, shuffle the
    batches. Deterministic in (seed, epoch), so a resumed run regenerates the same order
    and skips the batches already done.
    """
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    pool = batch_size * bucket_batches
    batches: list[list[int]] = []
    for p in range(0, len(order), pool):
        chunk = sorted(order[p : p + pool].tolist(), key=lambda i: lengths[i])
        batches.extend(chunk[b : b + batch_size] for b in range(0, len(chunk), batch_size))
    perm = rng.permutation(len(batches))
    return [batches[i] for i in perm]


def collate(
    features: Features, idx: Sequence[int], pad_id: int = 0, multiple: int = 8
) -> dict[str, Any]:
    """Pad one batch of windows to its longest (rounded up to ``multiple``) as torch tensors."""
    import torch

    longest = max(len(features.input_ids[i]) for i in idx)
    width = -(-longest // multiple) * multiple
    n = len(idx)
    ids = torch.full((n, width), pad_id, dtype=torch.long)
    tt = torch.zeros((n, width), dtype=torch.long)
    mask = torch.zeros((n, width), dtype=torch.long)
    for r, i in enumerate(idx):
        L = len(features.input_ids[i])
        ids[r, :L] = torch.tensor(features.input_ids[i])
        tt[r, :L] = torch.tensor(features.token_type_ids[i])
        mask[r, :L] = 1
    return {
        "input_ids": ids,
        "token_type_ids": tt,
        "attention_mask": mask,
        "start_positions": torch.tensor([features.start_positions[i] for i in idx]),
        "end_positions": torch.tensor([features.end_positions[i] for i in idx]),
    }


def iter_batches(batches: list[list[int]], start: int = 0) -> Iterator[tuple[int, list[int]]]:
    """Enumerate batches from ``start`` (the resume position)."""
    for b in range(start, len(batches)):
        yield b, batches[b]
