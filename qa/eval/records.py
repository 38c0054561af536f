"""Per-question records: closed-book hits, answer and retrieval rows, citation checks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qa.common import metrics as m
from qa.eval.datasets import EvalDoc, EvalQuestion, EvalSet
from qa.settings import Settings
from qa.types import Answer, Article, Chunk, Hit

CLOSED_WHOLE_DOC_CHARS = 4000
ORIGIN = "eval"


def _article(doc: EvalDoc) -> Article:
    from qa.ingest.parsing import article_from_record

    return article_from_record(doc.record(), ORIGIN)


def closed_hits(doc: EvalDoc, settings: Settings) -> list[Hit]:
    """Return the gold document as hits: one hit if short, else the product's chunks."""
    from qa.ingest.chunking import chunk_article, chunk_id

    article = _article(doc)
    if len(article.text) <= CLOSED_WHOLE_DOC_CHARS:
        # A real, content-derived chunk id: extractors cache parses by chunk id.
        cid = chunk_id(article.article_id, 0, len(article.text), article.text)
        chunks = [Chunk(cid, article.article_id, 0, 0, len(article.text), article.text)]
    else:
        chunks = chunk_article(
            article, settings.chunking.max_tokens, settings.chunking.overlap_tokens
        )
    return [Hit(c, article, 1.0, i) for i, c in enumerate(chunks)]


def _citation_rows(
    answer: Answer, golds: Sequence[str], doc_of: dict[str, str], q: EvalQuestion
) -> tuple[list[dict[str, Any]], bool | None, bool | None]:
    rows = []
    for c in answer.citations:
        inside = c.passage_start <= c.start <= c.end <= c.passage_end
        rows.append(
            {
                "doc_id": doc_of.get(c.article_id, c.article_id),
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "passage_start": c.passage_start,
                "passage_end": c.passage_end,
                "score": round(float(c.score), 4),
                "ok": bool(inside and m.contains_answer(c.passage, golds)),
            }
        )
    if not rows or not answer.text:
        return rows, None, None
    return rows, bool(rows[0]["ok"]), rows[0]["doc_id"] in q.doc_ids


def answer_record(
    q: EvalQuestion, answer: Answer, latency: float, doc_of: dict[str, str]
) -> dict[str, Any]:
    """Build the per-question JSONL row for an answer."""
    pred = answer.text or None
    cites, ok, in_gold = _citation_rows(answer, q.answers, doc_of, q)
    exact = m.max_exact(pred, q.answers)
    return {
        "id": q.qid,
        "question": q.question,
        "gold": list(q.answers),
        "answerable": m.is_answerable(q.answers),
        "prediction": pred,
        "score": round(float(answer.score), 6),
        "exact": exact,
        "f1": round(m.max_f1(pred, q.answers), 6),
        "correct": exact == 1.0,
        "citation_ok": ok,
        "citation_in_gold_doc": in_gold,
        "citations": cites,
        "extractor": answer.extractor,
        "latency_s": round(latency, 6),
        "tags": list(q.tags),
        "as_of": q.as_of,
        "when": [answer.when.start, answer.when.end] if answer.when else None,
        "when_gold": q.when,
        "when_ok": (
            None
            if q.when is None
            else bool(answer.when and answer.when.start <= q.when <= answer.when.end)
        ),
        "others": [[o.text, o.citation.date, o.conflict] for o in answer.others],
        "conflict": answer.conflict,
    }


def retrieval_record(
    q: EvalQuestion, hits: Sequence[Hit], latency: float, doc_of: dict[str, str]
) -> dict[str, Any]:
    """Build the per-question JSONL row for a retrieval-only run."""
    rank = doc_rank = None
    top = []
    for i, h in enumerate(hits):
        doc_id = doc_of.get(h.article.article_id, h.article.article_id)
        has = m.contains_answer(h.chunk.text, q.answers)
        if has and rank is None:
            rank = i
        if doc_id in q.doc_ids and doc_rank is None:
            doc_rank = i
        top.append(
            {
                "doc_id": doc_id,
                "chunk_id": h.chunk.chunk_id,
                "score": round(float(h.score), 4),
                "has_answer": has,
            }
        )
    return {
        "id": q.qid,
        "question": q.question,
        "gold": list(q.answers),
        "gold_docs": list(q.doc_ids),
        "answerable": m.is_answerable(q.answers),
        "rank": rank,
        "doc_rank": doc_rank,
        "correct": rank is not None,
        "hits": top,
        "latency_s": round(latency, 6),
        "tags": list(q.tags),
    }


def _doc_map(eval_set: EvalSet) -> dict[str, str]:
    """Index article id -> evaluation document id."""
    return {_article(d).article_id: d.doc_id for d in (*eval_set.docs, *eval_set.distractors)}
