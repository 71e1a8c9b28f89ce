"""Whole-document requests: "Summarise the main points of my documents", "What is R-intro.pdf
about?", "Give me an overview of this file".

Searching for such a request's words found three random sentences: nothing in a manual is about
"main points". Instead the documents in scope are read and each is summarised extractively — its
sections (the heading paths the parsers kept) and its most central sentences, each cited with its
page — or, with a language model, those central passages are what the model is given.

Everything here is a bounded, explainable rule, no model:
- *Is it a whole-document request?* It must start like one ("summarise", "give me an overview",
  "what are the key points", "what is … about") and what follows may only name documents: words
  like "this", "my documents", "the main points", or words of one of the documents' names. "Summarise
  how R reads files" names no document, so it is a question like any other.
- *Which documents?* Those whose name the request spells out; else "this"/"it" after an answer
  means the document it cited first; else every ready document in the chat's scope, newest first,
  at most `MAX_DOCUMENTS`.
- *Which sentences?* Centroid summarisation: a sentence scores by how much of the document's
  characteristic vocabulary (term frequency × inverse frequency over the document's sentences) it
  holds, with a small bonus for the opening passages (abstracts, introductions) and for the words
  of the document's name and sections; picks are spread over the document (one per passage while
  it has enough, none repeating another) and shown in reading order.
"""

from __future__ import annotations

import asyncio
import math
import re
import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import plan_for
from app.collections.models import Collection
from app.documents.locations import location
from app.documents.models import Chunk, Document
from app.rag.prompts import Source
from app.rag.sentences import (
    BULLET,
    CAPTION,
    CODE_SPAN,
    CONTENTS_LINE,
    FIELD,
    KEYWORD_LIST,
    LEANS,
    PARAGRAPH_NUMBER,
    TERMINAL,
    is_code,
    quotable,
    rst_inline,
    split_sentences,
)
from app.rag.terms import content_terms

MAX_DOCUMENTS = 8  # summarised in one answer; the rest are counted
SENTENCES = 8  # central sentences in one answer, shared among its documents
MAX_PER_DOCUMENT = 5
MAX_CHUNKS = 400  # passages read per document: a long manual is sampled evenly (bounded work)
MAX_SECTIONS = 8
MAX_COLUMNS = 12  # column names listed per table
COLUMN_CHARS = 60  # a longer "label" before ": " is text, not a column name
SECTION_CHARS = 70
MIN_WORDS, MAX_WORDS = 7, 40
LEAD_PASSAGES = 0.05  # the opening share of a document (abstract, introduction) …
LEAD_BONUS = 0.5  # … scores this much more, and its first sentence of prose always leads
DETAIL_FACTOR = 0.4  # a sentence that opens on a condition or an example is a detail
NAME_BONUS = 0.15  # per word of the document's name or sections a sentence holds (at most 2)
REDUNDANT_JACCARD = 0.5

# The request itself: a verb or phrase that asks for the whole, then what it is about.
_ASKS = re.compile(
    r"^(?:(?:please|kindly|now)\s+)?(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?)?"
    r"(?:summari[sz]e|sum\s+up|recap|outline|"
    r"(?:give|write|make|provide|show)\s+(?:me\s+|us\s+)?(?:a|an)\s+"
    r"(?:(?:short|brief|quick|high[- ]level|general)\s+)?"
    r"(?:summary|overview|outline|rundown|synopsis|digest)|"
    r"tl;?dr|"
    r"what\s+(?:is|are|'s)\s+the\s+(?:gist|summary|(?:main|key)\s+"
    r"(?:points?|ideas?|topics?|takeaways?|messages?)))"
    r"\b(?P<rest>.*)$")
_ABOUT = re.compile(r"^what(?:\s+is|\s+are|'s|\s+does|\s+do)\s+(?P<rest>.+?)\s+"
                    r"(?:about|cover)$")
# Words that may follow such a request without making it a question about something specific.
_FILLER = frozenset(
    """the a an of in on for to me us please briefly quickly shortly this these that those it its
    my our all your each every whole entire main key important points point ideas idea topics topic
    takeaways takeaway messages message document documents doc docs file files pdf pdfs paper
    papers manual manuals book books report reports contract contracts text texts upload uploads
    uploaded source sources collection collections library knowledge base content contents
    selected attached above here them they is are about and with short few words sentences
    bullet bullets summary overview what we i have has been selected selection scope picked
    chosen""".split())
_SINGULAR = frozenset({"this", "it", "its", "that"})
_PLURAL = frozenset({"these", "those", "all", "documents", "files", "docs", "papers", "manuals",
                     "books", "reports", "contracts", "sources", "uploads", "them", "they"})
# Words that point at documents in general ("my documents", "these files", "all of them"): the
# request is about them, not about what the conversation was discussing.
_GENERAL = _PLURAL | frozenset({"my", "our", "document", "doc", "file", "pdf", "paper", "manual",
                                "book", "report", "contract", "upload", "uploaded", "library",
                                "collection", "collections", "selected", "selection", "scope"})
_WORDS = re.compile(r"[a-z0-9]+")
# A file name in the request ("contract.pdf", “R-intro.pdf”): all its words name it, extension
# included ("report.docx" is not every Word file, and "contract" is no filler there).
_FILENAME = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z0-9]{2,5}\b")
MAX_LISTED = 500  # documents read per request (newest first): names are matched among these
# Openings of a sentence that reads as a detail or leans on its context, not as a main point.
_DETAIL = re.compile(r"^(?:for (?:example|instance)|e\.g\.|so|at this point|as (?:\w+ )?noted|note"
                     r"|here|now|then|thus|hence|also|however|but|and|or|because|since|if|when"
                     r"|unless|otherwise|in (?:the|this|that) (?:assignment|example|case)"
                     r"|suppose|consider|see|similarly|finally|first|second|third)\b", re.I)
# Licences and notices say nothing about what a document is about.
_BOILERPLATE = re.compile(r"\b(?:copyright|permission is granted|all rights reserved"
                          r"|project gutenberg)\b", re.I)
_HEADING_NUMBER = re.compile(r"^\s*(?:chapter\s+)?[\dIVX]+(?:\.\d+)*\.?\s+", re.I)
_MARKDOWN = re.compile(r"([\\*_\[\]<>#|&])")  # inline `code` stays code
_NUMBER_IN_BRACKETS = re.compile(r"\[(?=\s*\d)")


@dataclass(frozen=True, slots=True)
class Request:
    """A whole-document request: the words naming documents, and whether it says "this"/"it"."""

    names: tuple[str, ...]
    singular: bool
    general: bool = False  # says "my documents", "these files", "all": not the conversation's


@dataclass(frozen=True, slots=True)
class Overview:
    text: str  # Markdown; each central sentence cites its source, [n] (n = Source.index)
    sources: list[Source]


@dataclass(frozen=True, slots=True)
class _Doc:
    id: str
    filename: str
    version: int
    chunk_count: int
    kind: str
    collection_id: str | None
    collection_name: str | None


@dataclass(frozen=True, slots=True)
class _Passage:
    chunk_id: str
    n: int
    page: int
    text: str
    heading_path: tuple[str, ...]


def overview_request(question: str) -> Request | None:
    """The request, if `question` asks about whole documents rather than something in them."""
    q = " ".join(question.lower().replace("’", "'").split()).strip(" ?!.:\"'")
    match = _ASKS.match(q) or _ABOUT.match(q)
    if match is None:
        return None
    rest = match.group("rest")
    words = _WORDS.findall(rest)
    in_names = [w for f in _FILENAME.findall(rest) for w in _WORDS.findall(f)]
    # (A number alone names nothing: "summarise in 3 bullets".)
    names = tuple(dict.fromkeys(in_names + [w for w in words if w not in _FILLER
                                            and not w.isdigit() and w not in in_names]))
    if _ABOUT.match(q) and not _ASKS.match(q) and not names and not set(words) & (
            _SINGULAR | _PLURAL | {"my", "our", "document", "file", "pdf"}):
        return None  # "what is it all about" is; "what are the rules about" never gets here
    singular = bool(set(words) & _SINGULAR) and not set(words) & _PLURAL
    return Request(names=names, singular=singular, general=bool(set(words) & _GENERAL))


def _name_words(filename: str) -> set[str]:
    return set(_WORDS.findall(filename.lower()))


async def summarise(session: AsyncSession, owner_id: str, request: Request, *,
                    scope: Sequence[str] | None, collection_ids: Sequence[str] | None,
                    previous_documents: Sequence[str] = ()) -> Overview | None:
    """The overview of the documents `request` names within the chat's scope (read under the
    same access rule as every search), or None when its words name none of them: then it is an
    ordinary question."""
    plan = await plan_for(session, owner_id, document_ids=scope, collection_ids=collection_ids)
    stmt = (select(Document.id, Document.filename, Document.owner_id, Document.collection_id,
                   Document.searchable_version, Document.chunk_count, Document.kind,
                   Collection.name)
            .outerjoin(Collection, Collection.id == Document.collection_id)
            .where(plan.access.condition(), Document.searchable_version.is_not(None))
            .order_by(Document.created_at.desc(), Document.id).limit(MAX_LISTED))
    if plan.documents or not plan.private:
        stmt = stmt.where(or_(Document.id.in_(sorted(plan.documents)),
                              Document.collection_id.in_(sorted(plan.collections))))
    docs = [_Doc(id=d, filename=name, version=int(version or 0), chunk_count=count, kind=kind,
                 collection_id=coll, collection_name=coll_name)
            for d, name, owner, coll, version, count, kind, coll_name
            in (await session.execute(stmt)).all()
            if plan.allows(owner, coll, d)]
    if request.names:
        named = [d for d in docs if set(request.names) <= _name_words(d.filename)]
        if not named:
            return None
        docs = named
    elif previous_documents and (request.singular or not request.general):
        # "Summarise it", "What are the key points?" after an answer: the document(s) that answer
        # cited, still in scope ("this"/"it": the first one).
        cited = previous_documents[:1] if request.singular else previous_documents
        by_id = {d.id: d for d in docs}
        docs = [by_id[d] for d in dict.fromkeys(cited) if d in by_id] or docs
    if not docs:
        return Overview(text="There is no ready document to summarise here yet.", sources=[])
    shown = docs[:MAX_DOCUMENTS]
    passages = {d.id: await _passages(session, d) for d in shown}
    return await asyncio.to_thread(_compose, shown, passages, len(docs) - len(shown))


async def _passages(session: AsyncSession, doc: _Doc) -> list[_Passage]:
    """The document's passages of its searchable version, every `step`-th of a long one."""
    step = max(1, math.ceil(doc.chunk_count / MAX_CHUNKS))
    stmt = (select(Chunk.id, Chunk.n, Chunk.page_start, Chunk.text, Chunk.heading_path)
            .where(Chunk.document_id == doc.id, Chunk.version == doc.version)
            .order_by(Chunk.n))
    if step > 1:  # the sampled numbers listed: read through ix_chunks_document_n, not a scan
        stmt = stmt.where(Chunk.n.in_(range(0, doc.chunk_count, step)))
    return [_Passage(chunk_id=cid, n=n, page=page, text=text, heading_path=tuple(path or ()))
            for cid, n, page, text, path in (await session.execute(stmt)).all()]


def _compose(docs: list[_Doc], passages: dict[str, list[_Passage]], more: int) -> Overview:
    per_doc = max(1, min(MAX_PER_DOCUMENT, SENTENCES // len(docs)))
    sources: dict[str, Source] = {}
    blocks: list[str] = []
    for doc in docs:
        own = passages[doc.id]
        sections = _sections(own)
        picks = _central(own, per_doc, _name_words(doc.filename) | {
            w for s in sections for w in _WORDS.findall(s.lower())})
        head = f"**{_plain(doc.filename)}**"
        if doc.collection_name:
            head += f" (collection {_plain(doc.collection_name)})"
        lines = [head]
        if len(sections) > 1:
            lines.append("Sections: " + " · ".join(_plain(s) for s in sections[:MAX_SECTIONS])
                         + (" …" if len(sections) > MAX_SECTIONS else ""))
        for passage, sentence in picks:
            source = sources.get(passage.chunk_id)
            if source is None:
                source = sources[passage.chunk_id] = Source(
                    index=len(sources) + 1, document_id=doc.id, filename=doc.filename,
                    page=passage.page, chunk_id=passage.chunk_id, text=passage.text, score=0.0,
                    collection_id=doc.collection_id, collection_name=doc.collection_name,
                    location=location(doc.kind, passage.page, passage.heading_path))
            lines.append(f"- {_plain(sentence)} [{source.index}]")
        if not picks:
            lines.append("- (no sentence of running text to quote: see the document itself)")
        blocks.append("\n".join(lines))
    if more:
        blocks.append(f"… and {more} more document{'s' if more > 1 else ''}. Choose documents "
                      "in the scope picker to summarise them.")
    return Overview(text="\n\n".join(blocks), sources=list(sources.values()))


def _sections(passages: list[_Passage]) -> list[str]:
    """The document's sections in order: the first heading level that differs between passages
    (the top level is often the document's own title, the same on every passage)."""
    paths = [p.heading_path for p in passages if p.heading_path]
    if not paths:
        return []
    level = 1 if len({p[0] for p in paths}) == 1 and any(len(p) > 1 for p in paths) else 0
    seen: dict[str, None] = {}
    for path in paths:
        if len(path) > level:
            name = _HEADING_NUMBER.sub(" ", PARAGRAPH_NUMBER.sub(" ", path[level])).strip()
            name = rst_inline(" ".join(name.split()))
            if (name and not CONTENTS_LINE.search(name) and not _BOILERPLATE.search(name)
                    and name.lower() != "table of contents"):
                seen.setdefault(name[:SECTION_CHARS].rstrip() + (
                    "…" if len(name) > SECTION_CHARS else ""), None)
    return list(seen)


def _candidate(sentence: str) -> str | None:
    """`sentence` as it may be quoted in a summary, or None: prose only, whole, of fair length."""
    sentence = quotable(sentence)
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or not sentence[:1].isupper():
        return None
    if not TERMINAL.search(sentence) or sentence.endswith((":", "?", ";")):
        return None
    if (is_code(sentence) or BULLET.match(sentence) or CONTENTS_LINE.search(sentence)
            or CAPTION.match(sentence) or KEYWORD_LIST.search(sentence)
            or LEANS.match(sentence) or _BOILERPLATE.search(sentence) or FIELD.match(sentence)
            or "http" in sentence or "{" in sentence or "|" in sentence
            or sentence.endswith("!")):
        return None
    letters = sum(ch.isalpha() for ch in sentence)
    return sentence if letters >= 0.8 * len(sentence.replace(" ", "")) else None


def _central(passages: list[_Passage], limit: int, names: set[str]
             ) -> list[tuple[_Passage, str]]:
    """The `limit` most central sentences of a document, spread over its passages, in reading order."""
    candidates: list[tuple[_Passage, int, str, set[str]]] = []
    df: Counter[str] = Counter()
    tf: Counter[str] = Counter()
    sentences_total = 0
    for passage in passages:
        for i, raw in enumerate(split_sentences(passage.text)):
            terms = content_terms(raw)
            sentences_total += 1
            df.update(set(terms))
            tf.update(terms)
            sentence = _candidate(raw)
            if sentence is not None and terms:
                candidates.append((passage, i, sentence, set(terms)))
    if not candidates:
        return _opening_lines(passages, limit)
    weight = {t: n * math.log((sentences_total + 1) / (df[t] + 0.5)) for t, n in tf.items()}
    name_terms = set(content_terms(" ".join(sorted(names))))
    lead = max(1, math.ceil(len(passages) * LEAD_PASSAGES))
    first_n = passages[0].n
    lead_until = passages[min(lead, len(passages)) - 1].n

    def score(sentence: str, terms: set[str], n: int) -> float:
        # The mean weight of its words: how characteristic of the document the sentence is,
        # whatever its length.
        base = sum(weight.get(t, 0.0) for t in terms) / len(terms)
        bonus = 1.0 + min(2, len(terms & name_terms)) * NAME_BONUS
        detail = DETAIL_FACTOR if _DETAIL.match(sentence) else 1.0
        return base * bonus * detail * (1.0 + LEAD_BONUS if first_n <= n <= lead_until else 1.0)

    ranked = sorted(candidates, key=lambda c: (-score(c[2], c[3], c[0].n), c[0].n, c[1]))
    # The document's first sentence of prose that is about its subject (scores at least the
    # median: not "We have made a number of small changes …" of a preface): what it says it is.
    floor = statistics.median(score(c[2], c[3], c[0].n) for c in candidates)
    first = next((c for c in sorted(candidates, key=lambda c: (c[0].n, c[1]))
                  if not _DETAIL.match(c[2]) and score(c[2], c[3], c[0].n) >= floor), None)
    picked: list[tuple[_Passage, int, str, set[str]]] = []
    # Spread over the document: one sentence per passage, more only when it has fewer passages
    # than sentences to show (a short file is often one passage).
    per_passage = math.ceil(limit / len({c[0].chunk_id for c in candidates}))
    used: Counter[str] = Counter()
    if first is not None:
        ranked = [first] + [c for c in ranked if c is not first]
    # First one sentence per passage; then, if room is left, more main points (no details).
    for extra in (False, True):
        for cand in ranked:
            if len(picked) == limit:
                break
            if extra and (per_passage == 1 or _DETAIL.match(cand[2])):
                continue
            if cand in picked or used[cand[0].chunk_id] >= (per_passage if extra else 1):
                continue
            if any(len(cand[3] & p[3]) / len(cand[3] | p[3]) > REDUNDANT_JACCARD for p in picked):
                continue
            picked.append(cand)
            used[cand[0].chunk_id] += 1
    picked.sort(key=lambda c: (c[0].n, c[1]))
    return [(p, s) for p, _, s, _ in picked]


def _opening_lines(passages: list[_Passage], limit: int) -> list[tuple[_Passage, str]]:
    """A document without running prose (a sheet, slides, a short message): each table's columns
    when its rows name them ("Stanley Cups: columns Team · Location · Stanley Cups"), then its
    first lines of a few words — rows, titles, fields — in order; not a row of one value repeated
    ("x | x | x"), nor the name of a sheet whose columns line gives it."""
    tables: list[tuple[_Passage, str]] = []
    described: set[tuple[str, ...]] = set()
    for passage in passages:
        if passage.heading_path not in described and len(tables) < limit:
            columns = _columns(passage.text)
            if columns:
                described.add(passage.heading_path)
                shown = " · ".join(columns[:MAX_COLUMNS]) + (
                    " …" if len(columns) > MAX_COLUMNS else "")
                sheet = passage.heading_path[-1] if passage.heading_path else None
                tables.append((passage, f"{sheet}: columns {shown}" if sheet
                               else f"Columns: {shown}"))
    found: list[tuple[_Passage, str]] = []
    seen: set[str] = set()
    for passage in passages:
        if len(tables) + len(found) >= limit:
            break
        for line in split_sentences(passage.text):
            line = quotable(line)
            if (len(line.split()) >= 3 and not is_code(line) and not CONTENTS_LINE.search(line)
                    and len(set(_WORDS.findall(line.lower()))) >= 2
                    and line not in seen
                    and not (passage.heading_path in described and line in passage.heading_path)):
                seen.add(line)
                found.append((passage, line[:300]))
                if len(tables) + len(found) >= limit:
                    break
    # Each table's columns line before its rows (a stable sort keeps the order within a passage).
    return sorted(tables + found, key=lambda pair: pair[0].n)


def _columns(text: str) -> list[str] | None:
    """The column names of a table whose rows are written "Name: value; Name: value" (a sheet
    with a header row, app/ingestion/parsers/_rows.py): those of its fullest row, when at least
    two rows are written that way; else None."""
    rows = [labels for line in text.splitlines() if (labels := _row_labels(line))]
    if len(rows) < 2:
        return None
    return max(rows, key=len)


def _row_labels(line: str) -> list[str] | None:
    parts = line.split("; ")
    if len(parts) < 2:
        return None
    labels = []
    for part in parts:
        label, sep, _ = part.partition(": ")
        label = label.strip()
        if not sep or not label or len(label) > COLUMN_CHARS:
            return None
        labels.append(label)
    return labels


def _plain(text: str) -> str:
    """Document text shown as Markdown text, never as markup or a citation marker (inline code
    spans stay code: a backslash there would show)."""
    parts = CODE_SPAN.split(" ".join(text.split()))  # odd parts: a code span's inside
    return "".join(f"`{part}`" if i % 2 else _text(part) for i, part in enumerate(parts))


def _text(part: str) -> str:
    # A lone backtick would open a code span to the end of the line, hiding the line's marker;
    # "[2]" in a name or a heading reads as a citation even escaped (Markdown unescapes it): a
    # word joiner after its bracket keeps it text.
    part = _NUMBER_IN_BRACKETS.sub("[\u2060", part.replace("`", "'"))
    return _MARKDOWN.sub(r"\\\1", part)
