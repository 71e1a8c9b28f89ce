"""Grounding a generated answer in its sources, sentence by sentence.

A language model's answer is checked after it is written: every sentence is compared with every
retrieved source, and a source *supports* a sentence when

* every number in the sentence appears in the source (``42``, ``8,443`` = ``8443``, ``3.5``),
* every name in it appears there too (code spans, identifiers such as ``json.dumps`` or
  ``read_table()``, capitalised words after the first one), and
* the wording matches: most of the sentence's content words (stemmed) are in the source, or fewer of
  them but the sentence and the source are close in embedding space, and
* the words stand together as in the source: most pairs of neighbouring content words of the
  sentence are near each other there too, or else the sentence is a paraphrase very close to the
  source in embedding space. A small model recombines a passage's words into claims the passage
  does not make ("It generates a C source file that compiles the entire IDL header file into a
  single"): with the bag of words alone, a reader judged only about half of SmolLM2's citations
  supported (docs/benchmarks.md §2b, "SmolLM2's citations judged by a reader"), and
* a sentence that negates finds a negation in the passage sentence closest to it (negations are
  stop words: the words of "X can be integrated" hold "X is not available" as well).

Then citations follow the evidence: markers pointing at a source that does not support the sentence
are dropped, the best supporting source is cited where the model cited none, and a sentence no
source supports is flagged with `UNSUPPORTED_MARK` (and listed in `Grounded.unsupported`). Short
fragments ("Sure!"), headings, code blocks and statements that the documents do not cover are left
as written: they claim nothing to check. The rule is fixed and explainable; no model is asked.

`Grounder.feed` takes the answer as it streams and starts checking each sentence as soon as it is
complete, so little is left to do when generation ends; `Grounder.finish` returns the result.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import math
import re
from collections.abc import Callable, Coroutine, Sequence, Set
from dataclasses import dataclass
from typing import Any

from app.rag.citations import FENCED_BLOCK, repair_citations
from app.rag.extractive import NOT_FOUND_LEAD, extract, extractive_answer
from app.rag.prompts import Source
from app.rag.question import naming_terms
from app.rag.sentences import (
    CODE_SPAN,
    CONTENTS_LINE,
    LEADERS,
    PARAGRAPH_NUMBER,
    TABLE_ROW,
    abbreviated,
    is_code,
    outside_code,
    quotable,
    split_sentences,
)
from app.rag.terms import (
    STOPWORDS,
    WORD,
    content_terms,
    plain_word,
    stemmed_terms,
    term_sequence,
)

UNSUPPORTED_MARK = "[not found in your documents]"

# A source supports a sentence when this share of the sentence's content words is in it...
LEXICAL_SUPPORT = 0.6
# ...or at least this share, with the sentence and the source this close (cosine).
LEXICAL_WITH_EMBEDDING = 0.3
EMBEDDING_SUPPORT = 0.55
MIN_CONTENT_TERMS = 3  # fewer: a fragment, nothing to check
# ...and this share of the sentence's neighbouring content-word pairs also stand together in the
# source, at most ORDER_WINDOW content words apart.
ORDER_SUPPORT = 0.6
ORDER_WINDOW = 3
# A sentence whose words come in another order is a paraphrase: supported only this close (cosine).
PARAPHRASE_SUPPORT = 0.8

Embed = Callable[[list[str]], Coroutine[Any, Any, list[list[float]]]]

_SENTENCE_END = re.compile(r"(?<=[.!?])((?:[ \t]*\[\d{1,3}\])*)[ \t]+(?=[A-Z0-9`\"'(*_\[])")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")
_IDENTIFIER = re.compile(r"\b[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+\b|\b\w+\(\)|\b[a-z]+_[\w]+\b")
_CAPITALISED = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-zA-Z0-9]+\b")
_MARKERS = re.compile(r"[ \t]*\[\d{1,3}\]")
# A statement of code written as prose ("return func(*args, **kwargs)"): held to the passage's
# code line for line, not to its words.
_CODE_STATEMENT = re.compile(r"^(?:return|raise|yield|await|print)\b.*[(\[=]")
# The prompt's own delimiters (app/rag/prompts.py) that a small model sometimes copies into its
# answer: they are not claims, and left in they would be flagged as unsupported sentences.
_ECHOED_DELIMITER = re.compile(r'[ \t]*(?:<source id="\d+"[^>\n]*>|</source>|</?sources>)[ \t]*')
# R's printed output copied as a line of prose: '[1] "u" "v" "w"', "  [1]  3.5 4.2 NaN", knitr's
# "## [1] 1 2". Its "[1]" is the index of the first value, not a citation of source 1: the line is
# kept as inline code (which no citation rewriting touches) and checked for nothing, like a
# fenced block. Two values at least, or one quoted, or one after R's prompt ("> x"): "[1] 2023"
# alone may be a model's list of sources.
_VALUE = r'(?:"[^"\n`]*"|[-+]?\d(?:[\w.+-]*\w)?|-?Inf|NaN|NA|<NA>|TRUE|FALSE|NULL)'
_PRINTED_VALUES = re.compile(rf"[ \t]*(?:#[#>][ \t]*)?\[\d{{1,3}}\]((?:[ \t]+{_VALUE})+)[ \t]*")
_BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
# A numbered section heading: "B.1 Invoking R …", "6.1 Writing …", "3.2.4 Timeouts".
_NUMBERED_HEADING = re.compile(r"^(?:[A-Z]|\d{1,3})(?:\.\d{1,3})+\.?\s+[A-Z]")
QUOTE_CHARS = 300  # the longest quote of `closest_sentence`
POINTERS = 3  # passages a "not found" quotes
# A Markdown link reference definition ("[`sign.update()`]: #signupdatedata"): an address, no text.
LINK_DEFINITION = re.compile(r"\[[^\]]+\]:\s*\S")
DATA_WORDS = 4  # a line of values this long is held to the passage's text, like code
_NEGATIVE = re.compile(
    r"\b(?:(?:do|does|did)(?: not|n't)|not|no|cannot|can't|couldn't|could not)\b.{0,40}"
    r"\b(?:cover|mention|contain|say|state|find|found|provide|include|information|answer)", re.I)
# A claim that negates ("… is not available", "takes no arguments at all") must find a negation in
# the passage's sentence it shares the most words with: stop words are no content terms, so the
# words of "its functions can be integrated with existing pipelines" hold "the function is not
# available" as well. (SmolLM2 on the seven blind QA batches: 5 of 5 negated claims whose closest
# passage sentence negates nothing were judged unsupported; 0 of the 85 others lost.)
_NEGATION = re.compile(r"\b(?:not|no|never|cannot|none|nor|neither|nothing|without)\b|n['’]t\b",
                       re.I)
_COMMON_CAPITALS = frozenset("I The A An In On It This That These Those If When For To Yes No You "
                             "Your We Our They Source Sources Note However Also".split())


@dataclass(frozen=True, slots=True)
class Support:
    lexical: float  # share of the sentence's content terms found in the source
    similarity: float | None  # cosine of sentence and source embeddings (None: not computed)
    facts_match: bool  # every number and name of the sentence is in the source
    order: float = 1.0  # share of the sentence's neighbouring word pairs near each other there
    polarity: bool = True  # a negated sentence's closest passage sentence negates too

    @property
    def supported(self) -> bool:
        if not self.facts_match or not self.polarity:
            return False
        close = self.similarity is not None and self.lexical >= LEXICAL_WITH_EMBEDDING
        if self.order < ORDER_SUPPORT:  # other word order: only a paraphrase close in meaning
            return close and self.similarity is not None and self.similarity >= PARAPHRASE_SUPPORT
        return self.lexical >= LEXICAL_SUPPORT or (
            close and self.similarity is not None and self.similarity >= EMBEDDING_SUPPORT)

    @property
    def strength(self) -> float:
        return self.lexical + (self.similarity or 0.0)


@dataclass(frozen=True, slots=True)
class Grounded:
    text: str  # the answer with verified markers and unsupported sentences flagged
    cited: list[int]  # source indexes cited, in order of first use
    unsupported: list[str]  # the flagged sentences, as written (without markers)
    checked: int  # sentences that made a claim and were checked


@dataclass(slots=True)
class _Verdict:
    keep: list[int]
    unsupported: bool
    checked: bool
    as_written: str = ""  # for a sentence not checked: its text with only valid markers kept


def numbers(text: str) -> set[str]:
    """Numbers written in `text`, thousands separators removed ("8,443" and "8443" are one)."""
    out = set()
    for raw in _NUMBER.findall(text):
        value = raw.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+", raw) else raw
        out.add(value.rstrip(".").lower())
    return out


def names(sentence: str) -> set[str]:
    """The names a sentence relies on: code spans, dotted or called identifiers, snake_case words,
    and capitalised words other than the sentence's first word and common openers."""
    found = {m.strip().lower() for m in CODE_SPAN.findall(sentence)}
    plain = CODE_SPAN.sub(" ", sentence)
    found |= {m.lower() for m in _IDENTIFIER.findall(plain)}
    body = _BULLET.sub("", plain).lstrip("*_ ")
    found |= {m.lower() for m in _CAPITALISED.findall(body) if m not in _COMMON_CAPITALS}
    return {n.rstrip("()") for n in found if n}


def support(sentence: str, source_text: str, *, similarity: float | None = None) -> Support:
    terms = set(content_terms(_THOUSANDS.sub("", sentence)))
    source_terms = set(content_terms(_THOUSANDS.sub("", source_text)))
    lexical = len(terms & source_terms) / len(terms) if terms else 0.0
    haystack = _flat(source_text)
    source_numbers = numbers(source_text)
    facts = all(n in source_numbers for n in numbers(sentence)) and all(
        n in haystack for n in names(sentence))
    return Support(lexical=lexical, similarity=similarity, facts_match=facts,
                   order=word_order(sentence, source_text),
                   polarity=negation_held(sentence, source_text))


def negation_held(sentence: str, source_text: str) -> bool:
    """True unless the sentence negates (outside its code: "bulletText=None", "`-no-include`")
    and no passage sentence among those sharing the most of its content words does."""
    claim = CODE_SPAN.sub(" ", sentence)
    terms = set(content_terms(claim)) if _NEGATION.search(claim) else set()
    best, negated = 0, False
    for words, negates in _passage_sentences(source_text) if terms else ():
        shared = len(terms & words)
        if shared > best:
            best, negated = shared, negates
        elif shared == best and shared:
            negated = negated or negates
    return not best or negated


@functools.lru_cache(maxsize=512)  # a source is read against every sentence of the answer
def _passage_sentences(text: str) -> tuple[tuple[frozenset[str], bool], ...]:
    """Each sentence of a passage: its content terms, and whether it negates."""
    return tuple((frozenset(content_terms(s)), bool(_NEGATION.search(s)))
                 for s in split_sentences(text))


@functools.lru_cache(maxsize=512)  # a source is read against every sentence of the answer
def _sequence(text: str) -> tuple[str, ...]:
    """`term_sequence` with thousands separators dropped ("8,443" is one number)."""
    return tuple(term_sequence(_THOUSANDS.sub("", text)))


def word_order(sentence: str, source_text: str) -> float:
    """The share of the sentence's neighbouring content-word pairs that also stand at most
    `ORDER_WINDOW` content words apart in the source (either way round: "port 8443 over TLS" says
    what "over TLS on port 8,443" says); 1.0 for a sentence of one word."""
    words = _sequence(sentence)
    pairs = list(itertools.pairwise(words))
    if not pairs:
        return 1.0
    positions: dict[str, list[int]] = {}
    for i, term in enumerate(_sequence(source_text)):
        positions.setdefault(term, []).append(i)
    found = 0
    for a, b in pairs:
        after = positions.get(b, [])
        found += any(0 < abs(j - i) <= ORDER_WINDOW for i in positions.get(a, []) for j in after)
    return found / len(pairs)


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=False))
    na = math.sqrt(sum(x * x for x in a))
    nb = math.sqrt(sum(y * y for y in b))
    return dot / (na * nb) if na and nb else 0.0


def _units(text: str) -> list[tuple[str, bool]]:
    """The answer cut into (piece, is_sentence): code blocks and separators are pieces that are
    kept verbatim; prose lines are cut into sentences (each with its trailing markers)."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for block in FENCED_BLOCK.finditer(text):
        out.extend(_prose_units(text[pos:block.start()]))
        out.append((block.group(), False))
        pos = block.end()
    out.extend(_prose_units(text[pos:]))
    return out


def _prose_units(prose: str) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = []
    previous = ""  # the line before, for R's prompt
    for line in re.split(r"(\n+)", _ECHOED_DELIMITER.sub("", prose)):
        if not line or line.startswith("\n"):
            if line:
                out.append((line, False))
            continue
        after_prompt, previous = previous.lstrip().startswith(">"), line
        if _printed_values(line, after_prompt=after_prompt):
            out.append((f"`{line.strip()}`", False))
            continue
        start = 0
        for match in _SENTENCE_END.finditer(line):
            before = line[start:match.start(1)].split()
            if not match.group(1) and before and abbreviated(
                    before[-1], line[match.end():], " ".join(before[-2:-1])):
                continue  # "St. Moritz", "J. Smith": one sentence
            out.append((line[start:match.start(1)] + match.group(1), True))
            out.append((line[match.end(1):match.end()], False))
            start = match.end()
        out.append((line[start:], True))
    return [(piece, is_sentence and bool(piece.strip())) for piece, is_sentence in out if piece]


def _printed_values(line: str, *, after_prompt: bool) -> bool:
    """Whether `line` is R's printed output (`_PRINTED_VALUES`): two values at least, or one
    quoted, or one after R's prompt."""
    printed = _PRINTED_VALUES.fullmatch(line)
    if not printed:
        return False
    values = printed.group(1).split(maxsplit=1)  # (a quoted value may hold spaces)
    return after_prompt or len(values) > 1 or values[0].startswith('"')


class Grounder:
    """Checks an answer against `sources` while it streams (see the module docstring)."""

    def __init__(self, sources: Sequence[Source], embed: Embed | None = None) -> None:
        self._sources = list(sources)
        self._by_index = {s.index: s for s in sources}
        # (Without the paragraph numbers some exports print: "18.6 A base image … 「901」".)
        lines = [line for s in sources for line in s.text.splitlines()]
        self._lines = frozenset(_flat(PARAGRAPH_NUMBER.sub("", line)) for line in lines)
        self._contents = [_flat(line) for line in lines if CONTENTS_LINE.search(line)]
        self._embed = embed
        self._source_vectors: asyncio.Task[list[list[float]]] | None = None
        self._text = ""
        self._checks: dict[str, asyncio.Task[_Verdict]] = {}

    def feed(self, delta: str) -> None:
        """Add streamed text; sentences completed by it start being checked in the background."""
        self._text += delta
        units = _units(self._text)
        for piece, is_sentence in units[:-1]:  # the last piece may still grow
            if is_sentence:
                self._start(piece)

    async def finish(self) -> Grounded:
        units = _units(self._text)
        for piece, is_sentence in units:
            if is_sentence:
                self._start(piece)
        try:
            verdicts = {key: await task for key, task in self._checks.items()}
        finally:
            if self._source_vectors is not None and not self._source_vectors.done():
                self._source_vectors.cancel()
        parts: list[str] = []
        cited: list[int] = []
        unsupported: list[str] = []
        checked = 0
        for piece, is_sentence in units:
            if not is_sentence:
                parts.append(piece)
                continue
            verdict = verdicts[piece]
            checked += verdict.checked
            bare = _without_markers(piece).rstrip()
            if verdict.unsupported:
                unsupported.append(bare.strip())
            parts.append(_rewrite(piece, bare, verdict))
            cited.extend(i for i in verdict.keep if i not in cited)
        return Grounded(text="".join(parts), cited=cited, unsupported=unsupported, checked=checked)

    def cancel(self) -> None:
        for task in self._checks.values():
            task.cancel()
        if self._source_vectors is not None:
            self._source_vectors.cancel()

    def _start(self, piece: str) -> None:
        if piece not in self._checks:
            self._checks[piece] = asyncio.create_task(self._check(piece))

    async def _check(self, piece: str) -> _Verdict:
        repaired = repair_citations(piece, set(self._by_index))
        bare = _without_markers(piece).strip()
        claim = _BULLET.sub("", bare)
        if _is_heading(claim, self._lines) or self._is_contents(claim):
            # A heading states nothing: left as written, never given a citation the model did
            # not write (one would vouch for a claim never made: "B.1 Invoking R from the
            # command line [6]" as the answer to "which function unpacks a tarball?"). Only a
            # numbered one copied from a passage: a line of names ("Xavier Leroy and Damien
            # Doligez") is a claim to check, though it looks like a title. Nor does a line of
            # a table of contents ("1.2 What is the ReportLab PDF Library? . . . . 6").
            return _Verdict(keep=repaired.cited, unsupported=False, checked=False,
                            as_written=repaired.text)
        if ((len(set(content_terms(claim))) < MIN_CONTENT_TERMS or claim.endswith((":", "?"))
                or claim.startswith("#") or _NEGATIVE.search(claim)) and not _is_code(claim)) \
                or re.fullmatch(r"[\W_]+", claim):
            # (Nor a line of brackets closing the model's code, "})": it names nothing.)
            return _Verdict(keep=repaired.cited, unsupported=False, checked=False,
                            as_written=repaired.text)
        marked = repaired.cited
        if _is_code(claim) or _is_data(claim):
            # A line of code is supported by a passage that holds that line, not its words (a
            # call may close where the passage's goes on: "plot(fitted(fm), resid(fm),"); so
            # is a line of data, whose words say nothing in another order.
            line = _flat(claim).rstrip(";) ")
            supporting = [s.index for s in self._sources if line in _flat(s.text)]
            keep = [i for i in marked if i in supporting] or supporting[:1]
            return _Verdict(keep=keep, unsupported=not supporting, checked=True)
        similarities = await self._similarities(claim)
        scored = {s.index: support(claim, s.text, similarity=similarities.get(s.index))
                  for s in self._sources}
        supporting = [i for i, sup in scored.items() if sup.supported]
        keep = [i for i in marked if i in supporting]
        if not keep and supporting:
            keep = [max(supporting, key=lambda i: (scored[i].strength, -i))]
        return _Verdict(keep=keep, unsupported=not supporting, checked=True)

    def _is_contents(self, claim: str) -> bool:
        """A line of a table of contents: with dot leaders, or copied (in part: "Installing R  5"
        of "2 Installing R  5") from a passage's contents line. A claim that merely ends in a
        spaced number, "… within 30 seconds  45", is checked as any other."""
        if not CONTENTS_LINE.search(claim):
            return False
        flat = _flat(claim)
        return bool(LEADERS.search(claim)) or any(flat in line for line in self._contents)

    async def _similarities(self, claim: str) -> dict[int, float]:
        if self._embed is None or not self._sources:
            return {}
        if self._source_vectors is None:
            self._source_vectors = asyncio.create_task(
                self._embed([s.text for s in self._sources]))
        vectors = await self._source_vectors
        [query] = await self._embed([claim])
        return {s.index: _cosine(query, v) for s, v in zip(self._sources, vectors, strict=True)}


def _flat(text: str) -> str:
    """`text` lower-cased on one line, runs of whitespace as one space: for finding names and
    code in a passage whatever its line breaks."""
    return " ".join(text.lower().split())


def _is_heading(claim: str, lines: frozenset[str]) -> bool:
    """A numbered section heading that the model copied from a passage as an answer line ("B.1
    Invoking R from the command line"): `lines` are the passages' lines, flattened. (A claim
    that only starts with a number, "2.4 GHz gives a longer range", is no line of a passage.)"""
    return bool(_NUMBERED_HEADING.match(claim)) and _flat(claim) in lines


def _is_data(claim: str) -> bool:
    """A line of short lower-case values without a single function word ("tas sa qld nsw nt wa
    wa qld vic"): printed output, not prose, nor a model's list item ("Upload limit: 50 MB")."""
    words = WORD.findall(claim)
    return len(words) >= DATA_WORDS and claim[-1] not in ".!?" and ":" not in claim \
        and all(w == w.lower() for w in words) and sum(map(len, words)) <= 4 * len(words) \
        and not any(plain_word(w) in STOPWORDS for w in words)


def _is_code(claim: str) -> bool:
    # (A Markdown heading, "# Usage", is no shell comment here.)
    return not claim.startswith("#") and (is_code(claim) or bool(_CODE_STATEMENT.match(claim)))


def _without_markers(piece: str) -> str:
    """The piece without its citation markers; its code keeps its own brackets ("`x[1]`")."""
    return outside_code(piece, lambda part: _MARKERS.sub("", part))


def _rewrite(piece: str, bare: str, verdict: _Verdict) -> str:
    """The sentence with its verified markers (before the closing punctuation, as the prompt asks
    the model to write them), and the flag when nothing supports it."""
    if not verdict.checked:
        return verdict.as_written
    lead = piece[: len(piece) - len(piece.lstrip())]
    trail = piece[len(piece.rstrip()):]
    body = bare.strip()
    marks = "".join(f" [{i}]" for i in verdict.keep)
    if verdict.unsupported:
        marks += " " + UNSUPPORTED_MARK
    end = re.search(r"[.!?…:;]+[\"'”’)]*$", body)
    if marks and end and end.start() > 0:
        body = body[: end.start()] + marks + body[end.start():]
    else:
        body += marks
    return lead + body + trail


def cite_something(question: str, sources: Sequence[Source]) -> str:
    """What to append to an answer that ends citing nothing although sources were found: the
    sentences of the sources that best match the question, each cited (the extractive answerer's
    pick), or else the top source's sentence closest to the question, quoted: a bare pointer
    ("The closest passage … is [1].") would cite a passage for a sentence that claims nothing."""
    picked = extractive_answer(question, sources, max_sentences=2)
    if picked:
        return picked
    top = min(sources, key=lambda s: s.index)
    return closest_quote(question, top) or f"The closest passage in your documents is [{top.index}]."


def not_found_pointing(question: str, sources: Sequence[Source]) -> str:
    """What the extractive answerer says when nothing answers: "not found", then the sentences
    closest to the question of up to POINTERS passages, quoted and cited, so that the reader can
    check those pages themselves: first the passage the answerer's best sentence came from (too
    weak to answer, still the passage that shares most of the question), then the top source,
    then the others in retrieval order; a passage counts when a sentence of it holds two of the
    question's words (one shared word points at passages about something else too often), and
    none counting gives the plain "not found" (""). The answerability check also refuses
    answerable questions: on the QA set's tune split, quoting the best sentence's passage rather
    than the top source's cited an acceptable page for 7 more of them and for 3 fewer, a second
    passage quoted for 6 more, and a third for 3 more (docs/benchmarks.md §2b)."""
    if not sources:
        return ""
    top = min(sources, key=lambda s: s.index)
    best = extract(question, sources).best_source
    order = [s for s in sources if s.index == best and s is not top] + [top]
    order += sorted((s for s in sources if s not in order), key=lambda s: s.index)
    quoted: list[tuple[int, str]] = []
    for source in order:
        # (The words naming the document count as its own: "… do the offsite notes give?")
        sentence = closest_sentence(question, source.text, min_words=2,
                                    held=naming_terms(question, source.filename))
        if sentence and sentence not in (q for _, q in quoted):
            quoted.append((source.index, sentence))
            if len(quoted) == POINTERS:
                break
    if not quoted:
        return ""
    if len(quoted) == 1:
        return f"{NOT_FOUND_LEAD} {_quoted(*quoted[0])}"
    said = [f"“{sentence}” [{index}]" for index, sentence in quoted]
    return (f"{NOT_FOUND_LEAD} The closest passages in your documents say: "
            f"{', '.join(said[:-1])} and {said[-1]}.")


def closest_quote(question: str, source: Source, *, min_words: int = 1) -> str | None:
    """`source`'s sentence closest to the question, quoted and cited; None when no sentence of it
    holds `min_words` of the question's words (or all of them, when it has fewer)."""
    quote = closest_sentence(question, source.text, min_words=min_words)
    return None if quote is None else _quoted(source.index, quote)


def _quoted(index: int, sentence: str) -> str:
    return f"The closest passage in your documents says: “{sentence}” [{index}]."


def closest_sentence(question: str, text: str, *, min_words: int = 1,
                     held: Set[str] = frozenset()) -> str | None:
    """The sentence of `text` holding the most of the question's words (the first of equals),
    clipped to QUOTE_CHARS; None when none holds `min_words` of them (or all, when the question
    has fewer), counting the `held` ones as every sentence's. Lines of contents and code (or
    mostly symbols: "['30', '31'] t=Table(data, …") are skipped."""
    asked = set(stemmed_terms(question, parts=False))
    best, best_count = None, max(0, min(min_words, len(asked)) - 1 - len(held & asked))
    for sentence in split_sentences(text):
        # (Without printed reference markers: "[2]" would read as a citation of our source 2.)
        sentence = quotable(sentence)
        letters = sum(c.isalpha() or c.isspace() for c in sentence)
        # (A table's row is mostly short values, "Table: 2 | A: A2 | B: B2", and still quotable.)
        if (CONTENTS_LINE.search(sentence) or is_code(sentence) or LINK_DEFINITION.match(sentence)
                or (letters < 0.7 * len(sentence) and not TABLE_ROW.match(sentence))):
            continue
        count = len(asked & set(stemmed_terms(sentence, parts=False)))
        if count > best_count:
            best, best_count = sentence, count
    if best is None or len(best) <= QUOTE_CHARS:
        return best
    return best[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
