"""Training examples that teach the reader every gold answer and when to abstain.

:func:`expand_training` turns SQuAD v1.1-style examples (every question has an answer
in its passage) into a training mix:

- *every gold answer*: one example per distinct gold span of a question (SQuAD-style
  sets have up to five annotations; the first alone under-teaches span boundaries);
- *same-article negatives*: the question paired with another paragraph of its own
  article (a near topic, no answer), labelled no-answer;
- *retrieved negatives*: the question paired with the paragraph that BM25 ranks
  highest among those that are not its own and do not contain a gold answer text:
  what open retrieval hands the reader when the answer is elsewhere;
- *perturbed twins*: the question changed (an antonym, a swapped name or number, a
  negation) over its own paragraph, SQuAD 2.0's hard kind (:mod:`qa.reader.perturb`).

A negative paragraph is never one that mentions a gold answer (case-insensitive), so
a "negative" cannot secretly hold the answer. Only paragraphs of the examples given are
used, so a held-out slice stays unseen when the training half is expanded.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, replace

from qa.reader.data import Example


@dataclass(frozen=True)
class NegativeConfig:
    """How many negatives to add.

    Attributes:
        same_article: Probability that a question also gets a same-article negative.
        retrieved: Probability that a question also gets a BM25-retrieved negative.
        perturbed: Probability that a question also gets an unanswerable twin over its
            own passage (:mod:`qa.reader.perturb`).
        candidates: BM25 candidates looked at per question for a retrieved negative.
        foreign_names: Whether a swapped-name twin may take a name from another passage
            (:func:`qa.reader.perturb.perturb_all`).
    """

    same_article: float = 0.0
    retrieved: float = 0.0
    perturbed: float = 0.0
    candidates: int = 8
    foreign_names: bool = True


def distinct_answers(example: Example) -> list[Example]:
    """One example per distinct gold span whose offsets match the passage (first kept first)."""
    seen: set[tuple[int, int]] = set()
    out: list[Example] = []
    for text, start in example.answers:
        if not text or example.context[start : start + len(text)] != text:
            continue
        key = (start, start + len(text))
        if key in seen:
            continue
        seen.add(key)
        out.append(replace(example, answers=((text, start),)))
    return out if out else [example]


def _mentions_answer(context: str, example: Example) -> bool:
    low = context.lower()
    return any(t.strip() and t.strip().lower() in low for t, _ in example.answers)


def negative(example: Example, context: str, kind: str) -> Example:
    """``example``'s question over ``context``, with no answer."""
    return Example(f"{example.qid}#neg-{kind}", example.question, context, (), example.title)


def retrieved_negatives(
    examples: Sequence[Example], contexts: Sequence[str], candidates: int
) -> dict[int, str]:
    """For each example index, the best-ranked BM25 paragraph that is a true negative."""
    import bm25s
    import numpy as np

    if not examples or len(contexts) < 2:
        return {}
    k = min(candidates, len(contexts))
    corpus = bm25s.tokenize(list(contexts), stopwords="en", show_progress=False)
    model = bm25s.BM25()
    model.index(corpus, show_progress=False)
    out: dict[int, str] = {}
    batch = 2048
    for lo in range(0, len(examples), batch):
        part = examples[lo : lo + batch]
        queries = bm25s.tokenize([e.question for e in part], stopwords="en", show_progress=False)
        ids, scores = model.retrieve(queries, k=k, show_progress=False, n_threads=1)
        for row, example in enumerate(part):
            for doc, score in zip(np.asarray(ids[row]), np.asarray(scores[row]), strict=True):
                ctx = contexts[int(doc)]
                if score <= 0:
                    break
                if ctx != example.context and not _mentions_answer(ctx, example):
                    out[lo + row] = ctx
                    break
    return out


def expand_training(
    examples: Sequence[Example],
    *,
    all_answers: bool,
    negatives: NegativeConfig,
    seed: int,
) -> list[Example]:
    """The training mix described in the module docstring, in a deterministic order.

    Args:
        examples: Answerable examples (the training half only).
        all_answers: One example per distinct gold span instead of the first only.
        negatives: How many negatives of each kind to add.
        seed: Seeds which questions get negatives and which paragraph is drawn.
    """
    rng = random.Random(seed)
    out: list[Example] = []
    for ex in examples:
        out.extend(distinct_answers(ex) if all_answers else [ex])
    answerable = [e for e in examples if e.answers]
    if negatives.same_article > 0:
        by_title: dict[str, list[str]] = {}
        for e in answerable:
            paras = by_title.setdefault(e.title, [])
            if not paras or paras[-1] != e.context:
                paras.append(e.context)
        for title in by_title:
            by_title[title] = sorted(set(by_title[title]))
        for e in answerable:
            if rng.random() >= negatives.same_article:
                continue
            pool = [c for c in by_title.get(e.title, []) if c != e.context]
            rng.shuffle(pool)
            ctx = next((c for c in pool[:10] if not _mentions_answer(c, e)), None)
            if ctx is not None:
                out.append(negative(e, ctx, "article"))
    if negatives.retrieved > 0 or negatives.perturbed > 0:
        contexts = sorted({e.context for e in answerable})
    if negatives.retrieved > 0:
        chosen = [e for e in answerable if rng.random() < negatives.retrieved]
        found = retrieved_negatives(chosen, contexts, negatives.candidates)
        out.extend(negative(chosen[i], ctx, "bm25") for i, ctx in sorted(found.items()))
    if negatives.perturbed > 0:
        from qa.reader.perturb import perturb_all

        chosen = [e for e in answerable if rng.random() < negatives.perturbed]
        out.extend(perturb_all(chosen, rng, contexts, negatives.foreign_names))
    return out
