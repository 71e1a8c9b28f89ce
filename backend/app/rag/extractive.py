"""The answerer used when no language model is configured: the best sentences of the top sources,
each cited. Deterministic, no model call, nothing written that the documents do not say."""

from __future__ import annotations

import asyncio
import functools
import math
import re
import threading
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, cast

import snowballstemmer

from app.providers.llm.base import ChatMessage, GenerationParams
from app.rag.prompts import Source, parse_answer_messages

LEAD = "From your documents:"
NO_ANSWER = "I could not find an answer to that in your documents."
MAX_SOURCES = 8  # lower-ranked sources rarely hold the answer and only add noise
MAX_SENTENCE_CHARS = 400
MIN_COVERAGE = 0.2  # share of the question's (IDF-weighted) terms a sentence must contain
RELATIVE_FLOOR = 0.35  # drop picks scoring under this share of the best one
DUPLICATE_JACCARD = 0.7
RANK_BONUS = 0.25
SEMANTIC_WEIGHT = 0.5
SEMANTIC_FLOOR = 0.5
_K1, _B = 1.2, 0.75

_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves also may might must shall us per via
    within without whether tell explain describe please give list show mean means there's what's
    it's does doesn't don't isn't aren't can't""".split()
)
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_BULLET = re.compile(r"^\s*(?:[-*•▪◦‣·]|\d{1,3}[.)])\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
_TERMINAL = re.compile(r"[.!?…:;)][\"'”’)\]]*$")
_ABBREVIATIONS = frozenset(
    """e.g i.e etc vs mr mrs ms dr prof fig figs no nos vol pp p ch sec approx cf al inc ltd co jr
    sr st eq ref resp min max""".split()
)
# Reference markers printed in documents ("[12]") would read as citations of our own sources.
_PRINTED_REFERENCE = re.compile(r"\s*[\[【]\d{1,3}(?:\s*[,\-–]\s*\d{1,3})*[\]】]")


class _Stemmer(Protocol):
    def stemWord(self, word: str) -> str: ...  # snowballstemmer's API name


_local = threading.local()  # snowballstemmer objects are not thread-safe: one per thread


@functools.lru_cache(maxsize=65_536)
def _stem(word: str) -> str:
    # The pure-Python stemmer cost ~80 ms per answer (every word of six sources); documents and
    # questions reuse a small vocabulary, so a process-wide cache makes that a few ms.
    stemmer = cast("_Stemmer | None", getattr(_local, "stemmer", None))
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer.stemWord(word)


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: int  # position of the source in rank order
    source_index: int
    sentence_index: int
    text: str
    terms: frozenset[str]
    score: float


def split_sentences(text: str) -> list[str]:
    """Sentences (and list items) of a passage, in order. Use the same function when computing the
    semantic scores passed to `extractive_answer`, so that sentence indexes agree."""
    text = text.replace("\x02", "").replace("\u00ad", "")
    text = re.sub(r"(\w)-\n(?=[a-z])", r"\1", text)  # words hyphenated across a line break
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        for unit in _units(block):
            sentences.extend(_split_unit(unit))
    return [s for s in (" ".join(s.split()) for s in sentences) if s]


def _units(block: str) -> list[str]:
    """Join hard-wrapped lines back together, keeping list items and headings apart."""
    lines = [line.strip() for line in block.split("\n") if line.strip()]
    units: list[str] = []
    for i, line in enumerate(lines):
        heading_before = (
            i > 0 and len(lines[i - 1]) < 60 and not _TERMINAL.search(lines[i - 1])
            and line[:1].isupper()
        )
        if not units or _BULLET.match(line) or heading_before:
            units.append(line)
        else:
            units[-1] += " " + line
    return units


def _split_unit(unit: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(unit):
        following = unit[match.end() : match.end() + 1]
        if not (following.isupper() or following.isdigit() or following in "\"'“‘([-•"):
            continue
        words = unit[start : match.start() + 1].split()
        last = words[-1].rstrip(".").lower() if words else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            continue  # "e.g. The", "J. Smith"
        pieces.append(unit[start : match.end()])
        start = match.end()
    pieces.append(unit[start:])
    return pieces


def extractive_answer(
    question: str,
    sources: Sequence[Source],
    *,
    max_sentences: int = 4,
    embed_scores: Mapping[tuple[int, int], float] | None = None,
) -> str:
    """Compose an answer from the sentences of `sources` that best match `question`, each ending
    with its `[n]` marker; "" when no sentence matches."""
    query = set(_terms(question))
    ranked = sorted(sources, key=lambda s: s.index)[:MAX_SOURCES]
    units = [
        (rank, source, n, sentence, _terms(sentence))
        for rank, source in enumerate(ranked)
        for n, sentence in enumerate(split_sentences(source.text))
    ]
    if not units or (not query and not embed_scores):
        return ""
    df = Counter(term for *_, terms in units for term in set(terms))
    idf = {t: math.log(1 + (len(units) - df[t] + 0.5) / (df[t] + 0.5)) for t in query}
    query_mass = sum(idf.values()) or 1.0
    avg_len = sum(len(terms) for *_, terms in units) / len(units) or 1.0

    candidates: list[_Candidate] = []
    for rank, source, n, sentence, terms in units:
        if not _eligible(sentence, terms):
            continue
        counts = Counter(terms)
        matched = [t for t in query if counts[t]]
        coverage = sum(idf[t] for t in matched) / query_mass
        norm = _K1 * (1 - _B + _B * len(terms) / avg_len)
        lexical = sum(idf[t] * counts[t] / (counts[t] + norm) for t in matched) / query_mass
        lexical *= 1 + RANK_BONUS / (1 + rank)
        semantic = embed_scores.get((source.index, n)) if embed_scores else None
        if semantic is None:
            if coverage < MIN_COVERAGE:
                continue
            score = lexical
        else:
            if coverage < MIN_COVERAGE and semantic < SEMANTIC_FLOOR:
                continue
            score = (1 - SEMANTIC_WEIGHT) * lexical + SEMANTIC_WEIGHT * max(semantic, 0.0)
        candidates.append(_Candidate(rank, source.index, n, sentence, frozenset(terms), score))

    picked = _pick(candidates, max_sentences)
    return _compose(picked) if picked else ""


def content_terms(text: str) -> list[str]:
    """The stemmed content words of `text` (stop words dropped), as the answerer matches them."""
    return _terms(text)


def _terms(text: str) -> list[str]:
    words = [w.lower().replace("'", "") for w in _WORD.findall(text)]
    return [_stem(w) for w in words if w not in _STOPWORDS and (len(w) > 1 or w.isdigit())]


def _eligible(sentence: str, terms: list[str]) -> bool:
    """Whole statements only: not questions, headings, captions or stray fragments."""
    if sentence.endswith("?"):
        return False
    words = len(sentence.split())
    if _BULLET.match(sentence):
        return words >= 3 and len(terms) >= 2
    return words >= 5 and len(terms) >= 2 and (words >= 8 or bool(_TERMINAL.search(sentence)))


def _pick(candidates: list[_Candidate], limit: int) -> list[_Candidate]:
    # Ties broken by rank and position so the answer never depends on dict or sort accidents.
    ordered = sorted(candidates, key=lambda c: (-c.score, c.rank, c.sentence_index))
    picked: list[_Candidate] = []
    for candidate in ordered:
        if len(picked) >= limit or candidate.score < RELATIVE_FLOOR * ordered[0].score:
            break
        if any(_jaccard(candidate.terms, p.terms) >= DUPLICATE_JACCARD for p in picked):
            continue
        picked.append(candidate)
    return picked


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _compose(picked: list[_Candidate]) -> str:
    """One paragraph per source, sources in order of their best sentence, sentences in document
    order within a source."""
    order: list[int] = []
    for candidate in picked:
        if candidate.source_index not in order:
            order.append(candidate.source_index)
    paragraphs = []
    for source_index in order:
        group = sorted(
            (c for c in picked if c.source_index == source_index), key=lambda c: c.sentence_index
        )
        paragraphs.append(" ".join(_cite(c.text, source_index) for c in group))
    return LEAD + "\n\n" + "\n\n".join(paragraphs)


def _cite(sentence: str, index: int) -> str:
    text = _PRINTED_REFERENCE.sub("", sentence).strip()
    if len(text) > MAX_SENTENCE_CHARS:
        text = text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"
    # The marker goes before the closing punctuation: "… 30 seconds [2]."
    match = re.search(r"[.!?…]+[\"'”’)\]]*$", text)
    if match and match.start() > 0:
        return f"{text[: match.start()]} [{index}]{text[match.start():]}"
    return f"{text} [{index}]"


class ExtractiveChatModel:
    """A ChatModel that answers extractively, so the RAG pipeline can treat both modes alike.

    The pipeline should call `answer_stream(question, sources)`; `stream`/`complete` also work on
    the messages built by `build_answer_messages`, reading the question and sources back from them.
    """

    def __init__(self, *, max_sentences: int = 4, words_per_delta: int = 3) -> None:
        self._max_sentences = max_sentences
        self._words_per_delta = max(1, words_per_delta)

    @property
    def model_id(self) -> str:
        return "extractive"

    async def answer_stream(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        embed_scores: Mapping[tuple[int, int], float] | None = None,
    ) -> AsyncIterator[str]:
        # Sentence splitting and scoring are CPU work: off the event loop, like every parser.
        answer = await asyncio.to_thread(
            extractive_answer, question, sources, max_sentences=self._max_sentences,
            embed_scores=embed_scores,
        )
        words = re.findall(r"\S+\s*", answer or NO_ANSWER)
        for i in range(0, len(words), self._words_per_delta):
            yield "".join(words[i : i + self._words_per_delta])
            await asyncio.sleep(0)  # let the server flush each group, as a model's stream would

    async def stream(
        self, messages: Sequence[ChatMessage], params: GenerationParams
    ) -> AsyncIterator[str]:
        question, sources = parse_answer_messages(messages)
        async for delta in self.answer_stream(question, sources):
            yield delta

    async def complete(self, messages: Sequence[ChatMessage], params: GenerationParams) -> str:
        return "".join([delta async for delta in self.stream(messages, params)])

    async def ping(self) -> None:
        return None  # nothing remote to reach

    async def aclose(self) -> None:
        return None
