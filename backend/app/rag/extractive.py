"""The answerer used when no language model is configured: the best sentences of the top sources,
each cited. Deterministic, no model call, nothing written that the documents do not say."""

from __future__ import annotations

import asyncio
import functools
import math
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from app.documents.locations import PAGE_UNITS
from app.providers.keyword.identifiers import CAMEL_PART, CAMEL_WORD
from app.providers.llm.base import ChatMessage, GenerationParams
from app.rag.byline import affiliation
from app.rag.prompts import Source, parse_answer_messages
from app.rag.question import (
    AUTHORSHIP,
    HOWTO_QUESTION,
    LOOSE_QUANTITIES,
    TITLE_QUESTION,
    DatedSubject,
    asked_kind,
    asked_names,
    asked_quantity,
    asked_shape,
    asks_default,
    asks_version,
    called_with,
    code_names,
    dated_subject,
    defined_phrase,
    definition_subject,
    document_words,
    dotted_names,
    file_words,
    in_setting,
    measured,
    naming_terms,
    proper_names,
    quoted_code,
    setting_phrase,
    specificity,
    spelled_identifiers,
    without_context,
)
from app.rag.sentences import (
    BULLET,
    CAPTION,
    CODE_SPAN,
    CONTENTS_LINE,
    FIELD,
    KEYWORD_LIST,
    LEANS,
    LIST_NUMBER,
    TABLE_ROW,
    TERMINAL,
    is_code,
    quotable,
    split_sentences,
)
from app.rag.table_cells import find_cell
from app.rag.terms import (
    STOPWORDS,
    acronyms,
    joined_terms,
    stemmed_terms,
    term_sequence,
    with_acronyms,
)

LEAD = "From your documents:"
NO_ANSWER = "I could not find an answer to that in your documents."
NOT_FOUND_LEAD = "I could not find an answer to that."  # before the closest passage, quoted
MAX_SOURCES = 8  # lower-ranked sources rarely hold the answer and only add noise
MAX_SENTENCE_CHARS = 400
# Sentences picked at most (before the code, fields and in-between sentences that complete them):
# the fact is often in the 5th or 6th best sentence of the right passage (QA tune split: 6 put
# the fact in 3 more answers than 4; median answer 105 words instead of 81).
MAX_PICKS = 6
MIN_COVERAGE = 0.2  # share of the question's (IDF-weighted) terms a sentence must contain
RELATIVE_FLOOR = 0.35  # drop picks scoring under this share of the best one
# A pick from a passage not cited yet must reach this share of the best. 0.4 since the QA tune
# split grew to 858 + 237 questions (0.5 before): fact +5, citation +5, "not found" −1, answers
# a median 110 → 123 words (0.45: +2 / +3 / 0; 0.35, the relative floor: +7 / +6 / −1, 129 words).
OTHER_SOURCE_FLOOR = 0.4
OTHER_DOCUMENT_FLOOR = 0.7  # … and from a document not cited yet, this share
DUPLICATE_JACCARD = 0.7
RANK_BONUS = 0.25
SEMANTIC_WEIGHT = 0.5
SEMANTIC_FLOOR = 0.5
# "Not found" unless the best evidence is this similar to the question: the best retrieved
# passage or, when that is lower, the best of the sentences picked (a passage can be long and
# mixed while one sentence answers). Chosen on the QA set's tune split (bench/qa_eval.py): its
# first unanswerable questions' evidence scored 0.25-0.55, its answerable ones' 0.57-0.88; 0.58
# since "not found" quotes two passages (a refusal keeps its citation more often): on the 738 +
# 201 questions, 7 more refusals of unanswerable questions for 4 facts, no citation lost (0.57:
# 1 for 4; 0.60: 12 for 13). Above the retrieval floor (which also gates a model's answer): an
# extract cannot say "they don't say".
EVIDENCE_FLOOR = 0.58
# The more of the question's (weighted) words occur in none of the passages, the more likely they
# are about something next to it ("lru_cache" for "… on async coroutine functions?", "json" for
# "… generate a JSON Schema …?", LayoutParser's models for "… mAP on PubLayNet?"): beyond this
# share missing, the evidence that answers rises by MISSING_SLOPE per unit missing. Chosen on
# the tune split and the second batch: their answerable questions with most words missing have
# evidence 0.58-0.81 (e.g. 0.73 at 0.68 missing), their unanswerable ones 0.59-0.64 at 0.54-0.72.
# The slope was 0.35 until "not found" quoted two passages; 0.5 since (tune split, 738 + 201
# questions: 3 more refusals of unanswerable questions for 1 fact; 0.7: 5 for 5).
MISSING_SHARE = 0.4
HELD_MISSING = 0.5  # see `held_mass` in extract
MISSING_SLOPE = 0.5
CONTEXT_WEIGHT = 0.35  # a follow-up's borrowed words (previous question) count this much
NAME_BONUS = 0.5  # a sentence holding a name the question spells out ("json.dumps")
WINDOW_LINES = 3  # lines of code or header fields that may complete a sentence
# A sentence of at most RESTATE_TERMS words, RESTATE_SHARE of them the question's, restates it:
# the next sentence joins it (chosen on the QA tune split: +1 fact, no answer lost; 0.6 of
# "Be cautious when parsing JSON data from untrusted sources" is the question's).
RESTATE_TERMS = 10
RESTATE_SHARE = 0.6
SIGNATURE_LINES = 8  # how far above a sentence the signature it describes may be
SIGNATURE_GROUP = 3  # more signatures stacked right above it that it describes too
# "How do I …?" over a manual is answered by the function, command, option (or for "where do
# I …?", the path) to use, which the asker cannot name: a sentence naming one ("… governed by
# the --apt argument to lb config", "We use …ttfonts.TTFont to create a true type font object")
# gains this much.
HOWTO_BONUS = 0.6
SLIDE_LINES = 15  # a slide of at most this many lines is quoted whole
_SLIDES = re.compile(r"\.(?:pptx?|odp|key)$", re.I)
_SLIDE_JOIN = " • "
DEFINITION_BONUS = 0.5  # "X is a …" for "what is X?"
NAMELESS_FACTOR = 0.3  # a source naming none of the question's model numbers or documents,
# when others do
IDF_FLOOR = 1.0  # see `covered` in extract: a word in ~40 % of the passages' sentences weighs 1
QUANTITY_BONUS = 0.5  # "It is over 1300 yards in length" for "how long is …?"
# Under EVIDENCE_FLOOR, an answer still stands when its best sentence holds most of the
# question's weighted terms and every one of them occurs in the passages ("For example t(X) is
# the matrix transpose function" for "How do I transpose a matrix in R?", dense 0.49): the
# dense similarity of short questions to long passages is low while the words say it all.
# Chosen on the QA tune split (its answerable questions under the floor: coverage 0.77-1.0;
# its unanswerable ones: 0-0.42 but for one, a sentence naming the "Australian Capital
# Territory" for "What is the capital of Australia?", which the definition rule holds). The
# coverage sits mid-gap, not at its top: a phrasing verb the answer does not repeat ("How do I
# compute the transpose …", 0.65) must not turn an answer into "not found" (0.6 to 0.75: the
# same tune figures).
RESCUE_FLOOR = 0.45
RESCUE_COVERAGE = 0.6
RESCUE_MISSING = 0.1
# A question ending on a tool or setting no passage names ("How do I draw a bar chart with
# matplotlib?" over ReportLab's charts, 0.68) needs this much.
UNHELD_FLOOR = 0.75
# A name the question spells out that no passage nor file name holds ("What is the Message-ID
# header of Mallori's fake email …?" over the e-mail's other headers, 0.79; "Which Caml type
# does camlidl map the IDL error_status_t type to?", 0.76) is a stronger sign than a setting:
# QA tune split, 0.82–1.0 all refuse 5 more unanswerable questions and lose no fact.
UNNAMED_FLOOR = 0.85
# Under this relevance of the best passage, a specific word of the question that no passage holds
# is what it asks about (`ExtractiveChatModel.answer`).
WEAK_RELEVANCE = 0.4
# Under RESCUE_FLOOR, a question asking for a quantity ("What is the average time to run the
# Cresta course?") is still answered by a sentence with a number and a unit of what it asks
# ("… traversed in a shade over 60 seconds", dense 0.40) when every term of the question occurs
# in the passages and the sentence holds most of them: the answer has the type asked for, which
# the dense similarity of a long sentence to a short question does not see. (QA tune split:
# its unanswerable quantity questions miss a term from every passage, 0.51-0.67 of their weight.)
TYPED_FLOOR = 0.35
TYPED_COVERAGE = 0.5
# A question with this many words of at least this specificity (`question.specificity`) that no
# passage holds is not answered (QA tune split: "not found" 225 -> 234, nothing lost).
UNASKED_SPECIFICITY = 0.95
UNASKED_WORDS = 2
_K1, _B = 1.2, 0.75
# Documentation states a default as such ("defaults to", "**Default:**", "if omitted", "unless …"):
# what answers a question asking for one (`question.asks_default`).
# ("… and ignored otherwise" ends on the word: it says when a setting counts, not what is used.)
_STATES_DEFAULT = re.compile(
    r"\bdefault|\bomitted\b|\bnot\s+(?:specified|given|set|provided|supplied|passed)\b"
    r"|\bif\s+(?:no|none)\b|\bunless\b|\botherwise\b(?!\s*(?:[.;)]|$))|\binitially\b|\bif\s+absent\b", re.I)

# A sentence that starts on a code name: "`partial` objects are …", ":class:`partial` objects …".
_LEADING_CODE_NAME = re.compile(r"(?:the\s+)?(?::[\w:-]+:)?`~?([\w.]+)(?:\(\))?`", re.I)
_PAGE_UNITS = frozenset(PAGE_UNITS.values())  # "p. 12", "slide 3": a location that is no section
_BARE_NAME = re.compile(r"[a-z_][\w.]*")  # an entry heading of one name: "singledispatch"
# Sphinx's version notes, which date the entry they close: "New in version 3.5.", "Changed in
# version 3.2: Allow strings for indent …" (and what the reStructuredText parser writes for them).
_VERSION_NOTE = re.compile(r"^(?:(?:new|added|changed|removed)\s+in|deprecated\s+since)\s+version\s+\d",
                           re.I)
# A sentence about the example right above it: those lines are code it explains, not signatures
# it describes ("The above code creates a canvas …", "In this example, …").
_EXAMPLE_REFERENCE = re.compile(
    r"\s*(?:in\s+)?(?:this|these|the\s+(?:above|preceding|previous))\s+"
    r"(?:code|examples?|snippet|lines)\b|\s*(?:in\s+)?the\s+(?:code|example)\s+above\b", re.I)

# An API reference's signature line heads the sentences that describe it.
_SIGNATURE = re.compile(r"^`?(?:class\s+)?[A-Za-z_][\w.]*\([^()]*\)`?:?$"
                        r"|^\.\.\s+(?:\w+:)?(?:function|method|class|decorator|data|attribute)::\s+\S+"
                        # a bare name heading its entry: "total_ordering", "`urlSearchParams.size`"
                        r"|^`?[A-Za-z]\w*(?:[._]\w+)+`?$"
                        # OCaml's "val initialize : unit -> unit" (after a page number, in a PDF)
                        r"|^(?:\d{1,4}\s+)?(?:val|external)\s+[a-z_]\w*\s*:\s*\S.*$"
                        # a command-line option heading its description: "-nocpp", "-I dir",
                        # "-D symbol=value", "--width[=N]", or several: "-h, --help",
                        # "--indent, --tab, --no-indent, --compact"
                        r"|^--?[A-Za-z][\w-]*(?:[ =][\w<>.=\[\]-]{1,30})?"
                        r"(?:,\s*--?[A-Za-z][\w-]*(?:[ =][\w<>.=\[\]-]{1,30})?)*$")
# A definition list's term on a line of its own, right above its description: a lower-case
# name ("lineno", "colno" over "The line corresponding to pos."; an HTML <dt> as extracted;
# "startAngle" in a PDF's attribute table).
_TERM = re.compile(r"^[a-z_][A-Za-z0-9_]{1,30}$")
# What may stand between a term and its description: "Defaults to None.", "Default: 0.5."
_DEFAULT_LINE = re.compile(r"^defaults?\b(?:\s+(?:to|is))?:?\s+\S{1,30}\.$", re.I)
# A sentence that continues the previous one ("If you do this, …", "It returns …").
# (Or sets what it names against the previous one: "In contrast, a cached_property allows writes."
# after "A regular property blocks attribute writes …".)
# ("Whereas & and | apply element-wise …, && and || apply to vectors of length one" after the
# sentence that names && and ||.)
_CONTINUES = re.compile(r"^(?:it|its|this|these|they|such|if you|in this case|then|thus|"
                        r"otherwise|so|in contrast|by contrast|conversely|on the other hand|"
                        # "… when the path contains illegal characters. Currently, only spaces
                        # are rejected …": what the rule is today
                        r"whereas|currently|at present|at the moment)\b"
                        # "… must then be played": what follows from it
                        r"|^[^.;:]{0,60}?\b(?:must|shall|should|will|can|is|are)\s+then\b",
                        re.I)
# A sentence whose subject is a pronoun: "It is over 1300 yards" (not "This paper introduces").
_PRONOUN_SUBJECT = re.compile(
    r"^(?:it|they|he|she|this|these|that|those)\s+(?:is|was|are|were|has|had|have|can|could|will"
    r"|would|may|might|must|should|does|did|also|then|means|takes|returns|gives|makes|uses|"
    r"shows|holds|contains|compares|differs|depends|requires|allows|includes|produces|applies|"
    r"works|happens|causes|ensures|prevents)\b"
    r"|^(?:each|all|both|some|many|most|none|one)\s+(?:one\s+)?of\s+(?:these|them|those|it)\b",
    re.I)
# "However axes are still drawn" (after "type="n" No plotting at all."): a sentence that turns
# against the one before says nothing without it.
_CONTRASTS = re.compile(r"^(?:however|but|nevertheless|nonetheless)\b", re.I)
# "this field", "these options": a sentence about what an earlier one names.
_DEMONSTRATIVE = re.compile(
    r"\b(?:this|these|that|those)\s+(field|option|value|setting|variable|parameter|argument|"
    r"function|method|command|file|key|flag|module|class|attribute|property|feature|directory|"
    r"program|tool|package|type|mode)s?\b", re.I)
# "Valid options for these can be found in …": a pronoun in the subject, not at its start.
_PRONOUN_OBJECT = re.compile(r"\b(?:for|of|to|with|on|about)\s+(?:these|those)\s+(?:can|could|may"
                             r"|might|must|will|would|should|are|were)\b", re.I)
# A sentence that announces what the next one names: "There are several functions available for
# fitting regression models in a way resistant to … outliers." (then "Function lqs in … MASS …").
_ANNOUNCES = re.compile(r"^there\s+(?:are|is|exist)\s+(?:several|many|various|some|two|three"
                        r"|a\s+(?:few|number|variety))\b", re.I)
# How passages state a bound: "maximum", "at most", "shall be of no greater weight than".
_STATES_BOUND = {
    stemmed_terms("maximum")[0]: re.compile(
        r"\b(?:max(?:imum|imal)?|at\s+most|up\s+to|(?:not|never)\s+exceed|(?:no|not)\b[^.;]{0,40}?"
        r"\b(?:greater|more|larger|longer|higher|bigger)\b[^.;]{0,20}?\bthan\b)", re.I),
    stemmed_terms("minimum")[0]: re.compile(
        r"\b(?:min(?:imum|imal)?|at\s+least|(?:no|not)\b[^.;]{0,40}?"
        r"\b(?:less|fewer|smaller|shorter|lower)\b[^.;]{0,20}?\bthan\b)", re.I),
}
_ALTITUDE = re.compile(r"\s+(?:above|below)\s+(?:the\s+)?(?:sea|level)", re.I)
_YES_NO = re.compile(r"\s*(?:is|are|was|were|does|do|did|can|could|will|would|should|has|have)\b",
                     re.I)  # "Is there a maximum length …?"
_ASKS = re.compile(r"\?[\"'”’)\]]*$")  # a sentence that asks: "1.2 What is COM?"
_LABELLED = re.compile(r"^[^\s:]{1,30}:\s")  # "apt: With this method, …"
REFERENT_HOPS = 3  # how far back a sentence about "this field" may look for what names it
_JOIN = "\x1f"  # between the sentences of one pick, each cited on its own
# A sentence followed by the lines of code it introduces, each shown as an inline span
# (`_window`): in the answer, the lines become a code block ("… like this:" + the block).
_CODE_AFTER = re.compile(r"^(.*:)\s+((?:`[^`\n]+`\s*){2,})$", re.S)
_MORE_CODE = "…"
EXAMPLE_LINES = 8  # an example quoted for the code a question quotes: at most this many lines
EXAMPLE_WORDS = 4  # … of which a line that does not look like code has at most this many words
QUOTED_LINE_MORE = 10  # a line holding quoted code answers when it says this many chars more
QUOTED_LINE_CHARS = 200  # … and is at most this long
LIST_ITEM_WORDS = 14  # an item of a list that lost its bullets: at most this many words
DEFAULT_NAME_WORDS = 4  # "the default value of tickUp": the name this many words after "default"
DEFAULT_AFTER = 2  # a default stated after a pick that states none: at most this many sentences on
ENTRY_SENTENCES = 3  # a definition list's entry: the sentences under its term, at most this many
_EXAMPLE_LEAD = "Example:"
# An item of a list of values whose bullet the format's parser dropped (Markdown, HTML): a code
# span, a note in brackets, a colon: "`'ieee-p1363'`: Signature format `r || s` …",
# "`crypto.constants.RSA_PKCS1_PADDING` (default)".
_OPTION = re.compile(r"^`[^`\n]{1,60}`(?:\s*\([^()\n]{1,30}\))?(?::\s|$)")
# A person's name on a line of its own: "Xavier Leroy", "Jean-Paul de la Tour", "J. R. Smith".
_PERSON = re.compile(r"^[A-Z](?:[a-z'’-]+|\.)(?:\s+(?:[A-Z](?:[a-z'’-]+|\.)|van|von|de|der|da|"
                     r"di|du|le|la)){1,3}$")
BYLINE_LINES = 4  # a byline is among the first lines of a title page
# A name from code in running text: `code`, --option, call(), dotted.name, snake_case, CamelCase.
# (And a path: "Where do I list the packages?" — "in config/package-lists/".)
_CODE_NAME = re.compile(r"`[^`\s][^`]*`|(?<![\w-])--?[a-z][\w-]{2,}|\b[A-Za-z_][\w.]*\(|"
                        # a path: "/etc/x", "./x", "a/b/", "a/b/c", "a/b.txt" (not "and/or")
                        r"(?<![\w/])(?:\.{0,2}/[\w.-]+(?:/[\w.-]*)*|[\w.-]+/(?:[\w.-]+/)+[\w.-]*"
                        r"|[\w.-]+/[\w-]+\.\w{1,4}\b)|"
                        r"\b[A-Za-z_]\w*\.[A-Za-z_]\w*\b|\b[a-z]+_[a-z_\d]+\b|"
                        r"\b[a-z]+[A-Z]\w*\b|\b[A-Z][a-z]+[A-Z]\w*\b|:(?:func|meth|class|mod|data):")


@dataclass(frozen=True, slots=True)
class _Candidate:
    rank: int  # position of the source in rank order
    source_index: int
    document_id: str
    sentence_index: int
    text: str
    terms: frozenset[str]
    score: float
    coverage: float = 0.0  # share of the question's weighted terms the sentence holds
    lead: str | None = None  # the signature the sentence describes, shown before it once
    typed: bool = False  # a number with a unit of the quantity the question asks for


def extractive_answer(
    question: str,
    sources: Sequence[Source],
    *,
    max_sentences: int = MAX_PICKS,
    embed_scores: Mapping[tuple[int, int], float] | None = None,
    context: str | None = None,
) -> str:
    """Compose an answer from the sentences of `sources` that best match `question`, each ending
    with its `[n]` marker; "" when no sentence matches. `context` (the previous question of an
    elliptic follow-up) adds its words at a lower weight: the follow-up's own words lead.
    """
    return extract(question, sources, max_sentences=max_sentences, embed_scores=embed_scores,
                   context=context).text


@dataclass(frozen=True, slots=True)
class Extract:
    text: str  # the composed answer, "" when no sentence matches
    evidence: list[str]  # the best-scoring sentences, best first (for a relevance check)
    coverage: float = 0.0  # share of the question's weighted terms the best sentence holds
    missing: float = 0.0  # share of the question's weighted terms no source contains
    # The tool or setting the question ends on ("… with matplotlib?") is in no source (text or
    # file name): the passages answer another question unless the evidence is strong.
    unheld: bool = False
    # A "what is X?" question and a picked sentence that says what X is ("X is …", "X, a …").
    defined: bool = True
    typed: bool = False  # the best sentence has the type of answer asked for (a quantity)
    untyped: bool = False  # the question asks for a quantity or a year no picked sentence gives
    # The question asks for a default ("… if I leave out the namedCurve option?") and the answer
    # states none: "`namedCurve` {string} Name of the curve to use" is not what is used without it.
    undefaulted: bool = False
    # A question about what no passage speaks of (`UNASKED_WORDS` specific words held by none:
    # "Can lru_cache be used on async coroutine functions?").
    unasked: bool = False
    # A name the question spells out ("the Chicago Blackhawks") is in no passage nor file name:
    # what the passages say is about something else, unless the evidence is strong
    # (UNNAMED_FLOOR: "… does Node.js use for chacha20-poly1305 …?" over the crypto module's
    # passages, which never say "Node").
    unnamed: bool = False
    # Read off the document's structure, not scored (an author's affiliation on a title page):
    # no relevance check applies.
    stated: bool = False
    # How many of the question's specific words no passage holds ("volleyball"; see `unasked`).
    unheld_words: int = 0
    best_source: int | None = None  # the index of the source of the best-scoring sentence


def extract(
    question: str,
    sources: Sequence[Source],
    *,
    max_sentences: int = MAX_PICKS,
    embed_scores: Mapping[tuple[int, int], float] | None = None,
    context: str | None = None,
) -> Extract:
    """`extractive_answer`, with the sentences it rests on."""
    asks_for, quantity = asked_quantity(question)
    measured_terms = set(measured(question)) if quantity is not None else set()
    # A quantity the question states ("In the 128MB USB key example, how big was the image?")
    # is not the one it asks for.
    given = {_measure(m.group(0)) for m in quantity.finditer(question)} if quantity else set()
    # "long" in "how long is …" asks for a length; documents say "1300 yards", not "long"; and
    # "wrote" in "who wrote …?" asks for a byline, which names the author under the title.
    authorship = AUTHORSHIP.match(question)
    asks_for = asks_for or (authorship.group(1) if authorship else None)
    query = (set(stemmed_terms(question, parts=False)) - set(stemmed_terms(asks_for or ""))
             - set(stemmed_terms(" ".join(document_words(question)))))
    weights = dict.fromkeys(query, 1.0)
    for term in stemmed_terms(context or "", parts=False):
        weights.setdefault(term, CONTEXT_WEIGHT)
    ranked = sorted(sources, key=lambda s: s.index)[:MAX_SOURCES]
    for rank, source in enumerate(ranked):
        author = affiliation(question, source.text)
        if author:
            said = f"{author[0]}: {author[1]}."
            found = _Candidate(rank, source.index, source.document_id, 0, said, frozenset(), 1.0)
            return Extract(_compose([found], ranked), [said], 1.0, stated=True,
                           best_source=source.index)
    example = _quoted_example(question, ranked) or _quoted_line(question, ranked)
    if example is not None:
        return Extract(_compose([example], ranked), [example.text], 1.0, stated=True,
                       best_source=example.source_index)
    cell = find_cell(question, [source.text for source in ranked])
    if cell is not None:  # "… what is in column C of the second row?": that cell, and its row
        source = ranked[cell.text]
        said = f"{cell.header}: {cell.value}"
        found = _Candidate(cell.text, source.index, source.document_id, 0,
                           f"{said}{_JOIN}{cell.row}", frozenset(), 1.0)
        return Extract(_compose([found], ranked), [f"{said} {cell.row}"], 1.0, stated=True,
                       best_source=source.index)
    # (A question asking for a title is answered by a slide's first line: the lines stay apart.)
    titles = bool(TITLE_QUESTION.search(question))
    per_source = [(rank, source, _slide_or_sentences(source, whole=not titles))
                  for rank, source in enumerate(ranked)]
    # An acronym a passage defines ("byte order mark (BOM)") stands for its words in every passage.
    spelled = acronyms("\n".join(source.text for source in ranked))
    units = [
        (rank, source, n, sentences,
         with_acronyms(stemmed_terms(LIST_NUMBER.sub("", sentence)), spelled))
        for rank, source, sentences in per_source
        for n, sentence in enumerate(sentences)
    ]
    if not units or (not query and not embed_scores):
        return Extract("", [])
    df = _sentence_counts(units)
    # "… in upper case?" over "The textTransform attribute can be 'uppercase'": the one word a
    # passage writes for two of the question's holds both. (Only when the passages never write
    # one of the two: else the words match as they are.)
    joined = {term: (first, second) for term, first, second in joined_terms(question)
              if df[term] and not (df[first] and df[second])}
    if joined:
        # (Not in code: "bigobject" in `iterencode(bigobject)` is a name, not "big object".)
        units = [(rank, source, n, sentences, terms if is_code(sentences[n]) else
                  terms + [w for t in joined if t in terms for w in joined[t] if w not in terms])
                 for rank, source, n, sentences, terms in units]
        df = _sentence_counts(units)
    # An identifier of a family the passages list ("What does the SSL_OP_ALL constant do?"
    # over "SSL_OP_ALLOW_NO_DHE_KEX", "SSL_OP_NO_TICKET", …) is a term of its own where a
    # sentence writes it whole: its parts ("ssl", "op") are every member's, and "all" no term.
    whole = _listed_members(question, "\n".join(source.text for source in ranked))
    if whole:
        units = [(rank, source, n, sentences,
                  terms + [t for t, written in whole.items() if written.search(sentences[n])])
                 for rank, source, n, sentences, terms in units]
        df = _sentence_counts(units)
        query |= set(whole)
        weights.update(dict.fromkeys(whole, 1.0))
    # What some passage or file name holds: a tool or name the question ends on or spells out
    # that none holds means the passages are about something else.
    files = {t for source in ranked for t in stemmed_terms(source.filename)}
    known = set(df) | files
    where = setting_phrase(question)
    # (One-letter names such as R leave no term: no setting to find.)
    setting = stemmed_terms(where, parts=False) if where else []
    unheld = bool(setting) and not any(t in known for t in setting)
    # A one-letter name ("… in R?") leaves no term; it is held where a passage writes it as a
    # word of its own, in capitals (not in "R_USER"), or a file name has it as a part ("R-intro").
    if re.fullmatch(r"[A-Z]", where or ""):
        letter = re.compile(rf"(?<![\w.-]){where}(?![\w-])")
        unheld = not any(letter.search(s.text) or where in re.split(r"[\W_]+", s.filename)
                         for s in ranked)
    # A name of several words is held by any of them: "the St. Louis Blues" by "Blues" ("STL").
    # A name the question is set in ("… in Node.js when …") that no passage repeats is the
    # context of what it asks, as a setting it ends on is: the evidence must be strong.
    absent = [name for name in proper_names(question)
              if not any(_holds(known, word) for word in name)]
    unnamed = any(not in_setting(question, " ".join(name)) for name in absent)
    # So is an identifier it spells out as code ("splitInRow", "__init_subclass__", "wchar_t")
    # that no passage writes: documentation that never writes it does not document it.
    unwritten = spelled_identifiers(question, dotted=True)
    # So is a dotted name it writes ("Can singledispatch dispatch on a typing.Protocol …?") when
    # no passage writes it, nor its last part as a word.
    dotted = dotted_names(question)
    if unwritten or dotted:  # (most questions spell none: the passages' text is joined only then)
        written = "\n".join(f"{s.before}{s.text}{s.after}\n{s.filename}" for s in ranked).lower()
        # "read.spss()" is written as "read.spss" or, as "json.dumps()" is, as "spss(" (not
        # by the word "SPSS").
        unwritten = [name for name in unwritten if name.lower() not in written
                     and f"{name.rsplit('.', 1)[-1].lower()}(" not in written]
        unwritten += [name for name in dotted if name.lower() not in written and not re.search(
            rf"(?<!\w){re.escape(name.rsplit('.', 1)[-1].lower())}(?!\w)", written)]
    unnamed = unnamed or bool(unwritten)
    unheld = unheld or bool(absent) or bool(unwritten)
    idf = {t: w * math.log(1 + (len(units) - df[t] + 0.5) / (df[t] + 0.5))
           for t, w in weights.items()}
    # Coverage (is the sentence about the question at all?) counts a word every passage shares
    # at no less than IDF_FLOOR: when all of them are about "HMAC", the word still says what
    # the question is about (else only its phrasing — "compute", "Node.js" — would count).
    covered = {t: max(v, w * IDF_FLOOR) for (t, v), w in zip(idf.items(), weights.values(),
                                                             strict=True)}
    # A word of the question that no passage holds counts as missing by how specific it is:
    # "get" or "several" in the question is phrasing, "coroutine" or "workbook" a subject.
    phrasing = {t: covered[t] * (1.0 - specificity(t, question)) for t in query if not df[t]}
    # "Can functools.lru_cache be used on async coroutine functions?" over passages that never
    # write "async" nor "coroutine", "… a JSON Pointer (RFC 6901) …" over the json docs: a
    # question two of whose specific words no passage holds asks about what they do not discuss.
    # (Nor a word of a file name: "camlidl" over camlidl-1.04.doc.pdf, whose pages seldom say it.)
    unheld_words = _unheld_words(question, df, set(setting) | files | set(stemmed_terms(
        " ".join(document_words(question)))))
    unasked = unheld_words >= UNASKED_WORDS
    query_mass = (sum(v for t, v in covered.items() if t in query)
                  - sum(phrasing.values())) or 1.0
    # What a sentence must hold of the question to be a candidate is measured against the words
    # the passages hold at all: a clause no passage speaks of ("… without wrapping new URL() in
    # try/catch") would otherwise leave every sentence under MIN_COVERAGE.
    # (Not when the passages lack most of it: "… a Kubernetes ingress controller file?" over
    # manuals that only say "file".)
    missing = sum(covered[t] - phrasing[t] for t in phrasing) / query_mass
    held_mass = (sum(v for t, v in covered.items() if t in query and df[t]) or 1.0
                 if missing < HELD_MISSING else query_mass)
    avg_len = sum(len(terms) for *_, terms in units) / len(units) or 1.0
    names = code_names(question)
    # The platform a question ends on ("… in Node.js?") is what every passage of its document is
    # about: a sentence that happens to spell it out names nothing the question asks for.
    asked_names = [n for n in names if not where or n not in code_names(where)]
    spoken = term_sequence(question)
    subject = definition_subject(question)
    # When some sources mention a model number the question spells out ("Z200"), sentences of
    # the sources that mention none are about another product with the same manual sections.
    # (Not for names like "Node.js" that a whole document is about without repeating them.)
    models = [name for name in names if re.fullmatch(r"(?=\w*\d)(?=\w*[a-z])\w+", name)]
    named_sources = {source.index for source in ranked
                     if any(name in source.text.lower() for name in models)}
    named_sources |= _of_naming_documents(question, ranked)
    # "… of the sample presentation": that file's passages, not a guide's; and they need not
    # write the words that name it.
    file_naming = {source.index: naming_terms(question, source.filename) for source in ranked}
    named_sources |= {index for index, naming in file_naming.items() if naming}
    howto = bool(HOWTO_QUESTION.match(question))
    # "6090 feet above sea-level" is where a place lies, no length of anything it has.
    altitude = bool(re.search(r"\b(?:sea|altitude|elevation|high|height)\b", question, re.I))
    version_asked = asks_version(question)
    dating = dated_subject(question)
    who = bool(re.match(r"\s*(?:who|whom|whose)\b", question, re.I))  # names may answer it

    # Each passage's section when it is an API entry, and the line of its first heading or
    # signature: the sentences above it are in that entry.
    sections = {source.index: _section_entry(source) for source in ranked}
    opening = {source.index: _first_entry_line(sentences) for _, source, sentences in per_source}

    candidates: list[_Candidate] = []
    for rank, source, n, sentences, own_terms in units:
        text, terms = _window(sentences, n, own_terms, query)
        if file_naming[source.index]:
            terms = terms + [t for t in file_naming[source.index] if t not in terms]
        # Before any signature of its passage, a sentence is in the entry the passage's section
        # is, when the document heads each entry ("singledispatch" several passages up).
        entry_section = sections[source.index] if n <= opening[source.index] else None
        note = version_asked and bool(_VERSION_NOTE.match(text))
        dated = _entry_above(sentences, n) if note else None
        section = entry_section if note and dated is None else None  # the entry a note closes
        if dated is not None or section is not None:
            # "New in version 3.5." under "exception json.JSONDecodeError(msg, doc, pos)" and its
            # attributes dates them: the question's words that its entry names are its own.
            entry = stemmed_terms(section or " ".join(sentences[dated:n]))
            terms = terms + [t for t in set(entry) if t in weights and t not in terms]
        title = _title_above(sentences, n) if authorship else None
        if title:  # "Xavier Leroy" under "Camlidl user's manual": shown and scored with it
            text, terms = f"{title}{_JOIN}{text}", terms + stemmed_terms(title)
        elif titles and _is_heading(sentences[n]) and len(own_terms) >= 2:
            pass  # "What is the title of the first slide?": a heading is the answer
        elif CONTENTS_LINE.search(sentences[n]) or (dated is None and section is None and not _eligible(
                _with_term(sentences, n, text), terms, query, names=who)):
            continue
        previous = _referent(sentences, n)
        if previous:  # "It is over 1300 yards in length" is about what the sentence before names
            text = f"{previous}{_JOIN}{text}"
            # Only the question's words it names, so that the pair is not a longer sentence.
            terms = terms + [t for t in set(stemmed_terms(previous))
                             if t in weights and t not in terms]
        signature = (_signature_text(sentences[dated].strip()) if dated is not None
                     else section or _signature_before(sentences, n)
                     or (None if is_code(sentences[n]) else entry_section))  # (code: an example's)
        if signature:
            # The sentence is about what the signature names.
            terms = terms + stemmed_terms(signature)
        heading = _heading_before(sentences, n)
        if heading:  # a sentence under "Updating the firmware" is about updating the firmware
            terms = terms + [t for t in stemmed_terms(heading) if t not in terms]
        counts = Counter(terms)
        matched = [t for t in idf if counts[t]]
        held = sum(covered[t] for t in matched if t in query)
        coverage = held / query_mass
        held /= held_mass
        norm = _K1 * (1 - _B + _B * len(terms) / avg_len)
        lexical = sum(idf[t] * counts[t] / (counts[t] + norm) for t in matched) / query_mass
        lexical *= 1 + RANK_BONUS / (1 + rank)
        defines = bool(subject) and _defines(text, subject or "")
        measures = quantity is not None and any(
            _measure(m.group(0)) not in given and (altitude or not _ALTITUDE.match(text, m.end()))
            for m in quantity.finditer(text))
        if measures and dating is not None and quantity is not None:
            # "Changed in version 3.4: Added support for … Enum classes" does not date allow_nan.
            measures = _dates(text, signature, quantity, dating)
        named = text.lower() + " " + (signature or "").lower()
        if (asked_names and any(name in named for name in asked_names)) \
                or _spelled_out(f"{text} {signature or ''}", spoken):
            lexical *= 1 + NAME_BONUS  # the function, command or number the question names
        if named_sources and source.index not in named_sources:
            lexical *= NAMELESS_FACTOR
        if defines:
            lexical *= 1 + DEFINITION_BONUS
        if howto and _CODE_NAME.search(f"{text} {signature or ''}"):
            lexical *= 1 + HOWTO_BONUS
        if measures:
            lexical *= 1 + QUANTITY_BONUS  # a number with a unit of what the question asks
        lead = signature if signature and signature.lower() not in text.lower() else None
        semantic = embed_scores.get((source.index, n)) if embed_scores else None
        # "A cell is …" is about the cell; "… 18 inches of solid ice" answers "how thick is
        # the ice of a rink?" with one word of it.
        # So is "… a salt is random and at least 16 bytes long" for "how long should the salt
        # be when I derive a key with pbkdf2 …?", with what the question measures.
        floor = 0.0 if defines or (measures and measured_terms & set(terms)) \
            else MIN_COVERAGE / 2 if measures else MIN_COVERAGE
        if semantic is None:
            if held < floor:
                continue
            score = lexical
        else:
            if held < MIN_COVERAGE and semantic < SEMANTIC_FLOOR:
                continue
            score = (1 - SEMANTIC_WEIGHT) * lexical + SEMANTIC_WEIGHT * max(semantic, 0.0)
        candidates.append(_Candidate(rank, source.index, source.document_id, n, text,
                                     frozenset(terms), score, coverage, lead, measures))

    picked = _pick(candidates, max_sentences)
    picked = _with_top_passage(picked, candidates, max_sentences)
    if quantity is not None and picked and not any(c.typed for c in picked):
        # "How thick should the ice be?": the best sentence that gives a thickness joins the
        # answer, even when others share more of the question's words.
        typed_ones = sorted((c for c in candidates if c.typed),
                            key=lambda c: (-c.score, c.rank, c.sentence_index))
        if typed_ones:
            picked = [*picked[: max(max_sentences - 1, 1)], typed_ones[0]]
    # A question asking for a number, a measure or a year that no picked sentence gives is not
    # answered by them ("How big is the attached file?" over the e-mail's header lines).
    untyped = (quantity is not None and asks_for not in LOOSE_QUANTITIES
               and not any(c.typed for c in picked))
    # Nor is one asking for a bound ("What is the minimum weight of a curling stone?") by
    # passages that state no such bound ("The usual weight is from about 36 to 40 lb.").
    if quantity is not None and not untyped and not _YES_NO.match(question):
        text = "\n".join(source.text for source in ranked)
        untyped = any(t in query and not pattern.search(text) for t, pattern in _STATES_BOUND.items())
    # What the answer shows of each pick (with the signature it describes), for the relevance
    # check: "Must be called once …" alone is about nothing, under "val initialize" it is not.
    evidence = [(f"{c.lead}: " if c.lead else "") + c.text.replace(_JOIN, " ") for c in picked]
    by_source = {source.index: sentences for _, source, sentences in per_source}
    picked = _fill_gaps(picked, by_source)
    # … and each passage's paragraph as the answer shows it: a method's signature, what it
    # does and "set the effect to 'dissolve'" answer together what none of them does alone.
    evidence += [" ".join(pieces) for _, pieces in _paragraphs(picked) if len(pieces) > 1]
    picked = _continue(picked, by_source, query)
    if asks_default(question):
        picked = _with_default(picked, by_source)
    coverage = picked[0].coverage if picked else 0.0
    # "X is …", or for "what is the capital of Australia?", "the capital of Australia is …".
    phrase = (defined_phrase(question) or "").lower()
    defined = not subject or any(_defines(c.text, subject) or _defines(c.text, phrase)
                                 for c in picked)
    typed = bool(picked) and picked[0].typed
    composed = _compose(picked, ranked) if picked else ""
    # "What phone number does Mallori give …?" over the e-mail's header lines: a kind of value
    # with a shape of its own (a phone number, an exception's name; a name for "who wrote …?")
    # that the answer does not show is not given.
    shape = asked_shape(question)
    untyped = untyped or bool(composed and shape and not shape.search(composed))
    undefaulted = bool(composed) and asks_default(question) and (
        not _STATES_DEFAULT.search(composed)
        or not _default_of(_default_names(question), picked, by_source))
    # "Which conference do the Flyers play in?" over a workbook's rows ("Team: Flyers; Location:
    # PHI; Stanley Cups: 2"): records whose fields name nothing of what is asked, nor does any
    # passage, hold no such value.
    kind = asked_kind(question)
    unasked = unasked or (bool(picked) and kind is not None
                          and all(_is_record(c.text) for c in picked)
                          and not any(df[t] for t in stemmed_terms(kind, parts=False)))
    # "Which Python version introduced functools.cache?": the best pick is a version note of
    # the entry the question names ("`cache(user_function)`: Added in version 3.9."), read off
    # the reference's structure as an author's affiliation is; no relevance check applies.
    stated = bool(dating and picked and picked[0].typed and picked[0].lead
                  and _VERSION_NOTE.match(picked[0].text) and dating.named_by(picked[0].lead))
    if picked and not unnamed and _named_elsewhere(question, picked, units, ranked):
        unnamed = unheld = True
    return Extract(composed, evidence, coverage, missing, unheld, defined, typed, untyped,
                   undefaulted, unasked, unnamed, stated, unheld_words,
                   best_source=picked[0].source_index if picked else None)


def _sentence_counts(units: Sequence[tuple[int, Source, int, list[str], list[str]]]
                     ) -> Counter[str]:
    """How many sentences (units) hold each term."""
    return Counter(term for *_, terms in units for term in set(terms))


def _listed_members(question: str, text: str) -> dict[str, re.Pattern[str]]:
    """The identifiers the question spells out that `text` writes whole beside another member of
    their family (the same name up to its last "_": "SSL_OP_ALL" beside "SSL_OP_NO_TICKET"), each
    as a term of its own ("=ssl_op_all") with the pattern of its whole spelling."""
    members: dict[str, re.Pattern[str]] = {}
    for name in spelled_identifiers(question):
        family = name[: name.rstrip("_").rfind("_") + 1]  # "SSL_OP_"
        if not family.strip("_"):
            continue
        last = re.escape(name[len(family):])
        written = re.compile(rf"(?<![\w.]){re.escape(name)}(?![\w(])")
        kin = re.compile(rf"(?<![\w.]){re.escape(family)}(?!{last}(?!\w))\w")
        if written.search(text) and kin.search(text):
            members[f"={name.lower()}"] = written
    return members


def _named_elsewhere(question: str, picked: list[_Candidate],
                     units: Sequence[tuple[int, Source, int, list[str], list[str]]],
                     ranked: Sequence[Source]) -> bool:
    """Whether a name the question spells out ("the Pittsburgh Penguins") is held only by
    documents the picks are not from ("Statistical Inference. Penguin, London." of a manual's
    bibliography, while the picks are a workbook's rows of other teams): what they say is about
    something else. (Only names it asks about: `question.asked_names`; and the words of another
    retrieved document's file name, `question.file_words`.)"""
    answering = {c.document_id for c in picked}
    held = {t for _, source, _, _, terms in units if source.document_id in answering
            for t in terms}
    held |= {t for source in ranked if source.document_id in answering
             for t in stemmed_terms(source.filename)}
    if any(not any(_holds(held, word) for word in name) for name in asked_names(question)):
        return True
    # So is a word of another retrieved document's file name that the answering documents never
    # write: "Under which software license is camlidl distributed?" over the live manual's GPL
    # notice, while camlidl-1.04.doc.pdf's passages say nothing of a license.
    return any(word not in held for source in ranked if source.document_id not in answering
               for word in file_words(question, source.filename))


def _quoted_example(question: str, ranked: Sequence[Source]) -> _Candidate | None:
    """The example of one passage that holds code the question quotes verbatim ("What does new
    URL('https:Example.com/', 'https://example.org/') produce?"): its lines of code, with the
    comments that say what it does or prints ("// https://example.org/Example.com/"), as the
    document shows them. None when no example, or several different ones, hold it."""
    quoted = {" ".join(q.split()) for q in quoted_code(question)}
    quoted |= called_with(question, [source.text for source in ranked])
    if not quoted:
        return None
    # Each example with how many of the quoted fragments it holds: "What does getAll('query')
    # give for ['first', 'second']?" is the example that holds both, not one that holds "'second'".
    found: dict[str, tuple[int, int, Source]] = {}
    for rank, source in enumerate(ranked):
        for block in re.split(r"\n\s*\n", source.text):
            lines = [line.strip() for line in block.split("\n") if line.strip()]
            flat = " ".join(" ".join(lines).split())
            held = sum(q in flat for q in quoted)
            if held and len(lines) <= EXAMPLE_LINES and _is_example(lines):
                found.setdefault("\n".join(lines), (held, rank, source))
    most = max((held for held, *_ in found.values()), default=0)
    best = [(block, rank, source) for block, (held, rank, source) in found.items()
            if held == most]
    if len(best) != 1:
        return None
    (block, rank, source), = best
    text = f"{_EXAMPLE_LEAD} " + " ".join(_code(line) for line in block.split("\n"))
    return _Candidate(rank, source.index, source.document_id, 0, text, frozenset(), 1.0)


def _default_of(names: list[str], picked: list[_Candidate],
                sentences: Mapping[int, list[str]]) -> bool:
    """Whether a picked sentence states a default of one of the identifiers `names` (any, when
    there are none): "What is the default of sideLabelsOffset?" is not answered by "The default
    is '90'" under startAngle, two lines above sideLabelsOffset's own entry."""
    if not names:
        return True
    for c in picked:
        if not _STATES_DEFAULT.search(c.text):
            continue
        # ("`generator`: {number} … **Default:** `2`" states the default of the option it
        # starts on, not of the function whose entry it is in.)
        lead = "" if _LEADING_CODE_NAME.match(c.text) else c.lead or ""
        heading = " ".join((lead, _entry_term(sentences[c.source_index], c.sentence_index) or ""))
        if any(name.lower() in heading.lower() or _states_default_of(c.text, name)
               for name in names):
            return True
    return False


def _default_names(question: str) -> list[str]:
    """The names whose default `question` asks for: the identifiers it spells out, and dotted
    names ("What default value does R use for the cex.main graphics parameter?"), whose last
    part alone ("main") would be a word."""
    return spelled_identifiers(question) + dotted_names(question)


def _states_default_of(text: str, name: str) -> bool:
    """Whether `text` states a default of `name`: the name before the default ("`tickUp` …
    Defaults to 5") or right after it ("the default value of tickUp"). A name further on starts
    another entry of a flattened reference table ("Defaults to None strokeWidth Width of axis in
    points tickUp"): the default is of what came before it."""
    lowered, name = text.lower(), name.lower()
    first = _STATES_DEFAULT.search(text)
    if first is None or name not in lowered:
        return False
    if lowered.find(name) < first.start():
        return True
    return any(name in " ".join(lowered[m.end():].split()[:DEFAULT_NAME_WORDS])
               for m in _STATES_DEFAULT.finditer(text))


def _with_default(picked: list[_Candidate], sentences: Mapping[int, list[str]]
                  ) -> list[_Candidate]:
    """The picks, with the sentence stating a default that follows one of them within its entry
    when none states one: "For expert use only: set the initial trigger sizes for garbage
    collection …" [+ "The defaults are 6Mb and 350k respectively …"]."""
    if not picked or any(_STATES_DEFAULT.search(c.text) for c in picked):
        return picked
    taken = {(c.source_index, c.sentence_index) for c in picked}
    for c in picked:
        own = sentences[c.source_index]
        for k in range(c.sentence_index + 1, min(len(own), c.sentence_index + 1 + DEFAULT_AFTER)):
            line = own[k].strip()
            if _TERM.match(line) or _is_heading(line) or is_code(line):
                break  # another entry
            if _STATES_DEFAULT.search(line) and (c.source_index, k) not in taken:
                return [*picked, _Candidate(c.rank, c.source_index, c.document_id, k, line,
                                            frozenset(stemmed_terms(line)), c.score)]
    return picked


def _entry_term(sentences: list[str], n: int) -> str | None:
    """The definition list's term whose entry sentence `n` belongs to: the nearest term line at
    most ENTRY_SENTENCES above it ("barWidth" / "As it says." / "Defaults to 10.")."""
    for k in range(n - 1, max(-1, n - 1 - ENTRY_SENTENCES), -1):
        if _TERM.match(sentences[k].strip()):
            return sentences[k].strip()
    return None


def _quoted_line(question: str, ranked: Sequence[Source]) -> _Candidate | None:
    """The one line of the passages that holds code the question quotes and says more of it: a
    table's row ("int j([in] int x, [out] double * y) j : int -> int * double" for "What Caml
    type does camlidl give to int j([in] int x, [out] double * y)?"). None when no line or
    several different ones do, or the line is only the quoted code or a statement of an example
    ("new URL('file:///x y').pathname; // Incorrect: …", which its example shows whole)."""
    quoted = [" ".join(q.split()) for q in quoted_code(question)]
    found: dict[str, tuple[int, Source]] = {}
    for rank, source in enumerate(ranked):
        for line in source.text.split("\n"):
            flat = " ".join(line.split())
            held = [q for q in quoted if q in flat]
            if held and len(flat) - max(map(len, held)) >= QUOTED_LINE_MORE \
                    and len(flat) <= QUOTED_LINE_CHARS and not is_code(flat) \
                    and ";" not in flat:
                found.setdefault(flat, (rank, source))
    if len(found) != 1:
        return None
    (line, (rank, source)), = found.items()
    return _Candidate(rank, source.index, source.document_id, 0, line, frozenset(), 1.0)


def _is_example(lines: list[str]) -> bool:
    """Lines of code, as an example shows them: an object literal's entries ("user: 'abc',",
    "query: ['first', 'second'],") read as words, so a few short lines need not look like code;
    a line of prose among them makes it a paragraph."""
    prose = [line for line in lines if not is_code(line)]
    return len(prose) * 2 < len(lines) and all(len(line.split()) <= EXAMPLE_WORDS
                                               for line in prose)


def _measure(text: str) -> str:
    """A quantity as compared with the question's own: "128 MB" is "128mb"."""
    return re.sub(r"[\s-]+", "", text.lower())


def _slide_or_sentences(source: Source, *, whole: bool) -> list[str]:
    """A passage's sentences; a slide's short lines (title, bullets, table rows) as one unit, so
    that "what is on the second content slide?" is answered by the slide, not by a line of it."""
    sentences = split_sentences(source.before + source.text + source.after)
    if whole and _SLIDES.search(source.filename) and 1 < len(sentences) <= SLIDE_LINES:
        return [_SLIDE_JOIN.join(sentences)]
    return sentences


def _fill_gaps(picked: list[_Candidate], sentences: Mapping[int, list[str]]) -> list[_Candidate]:
    """The one sentence between two picked sentences of a passage, so that the answer quotes
    the passage without a hole ("You can use apt or aptitude. [Which one is set by --apt.]
    Choose the one that …")."""
    taken = {(c.source_index, c.sentence_index) for c in picked}
    filled = list(picked)
    for c in picked:
        gap = c.sentence_index + 1
        if (c.source_index, gap + 1) not in taken or (c.source_index, gap) in taken:
            continue
        text = sentences[c.source_index][gap]
        terms = stemmed_terms(text)
        # A line of code between them is what the sentence before introduces: "We can use the F
        # test …" [> var.test(A, B)] "F test to compare two variances …" (not a signature: the
        # sentence after it, which it heads, shows it already; not a lone "};").
        code = is_code(text) and bool(terms) and not _is_signature(text.strip()) \
            and not any(text in p.text for p in picked)
        if code or _joins(text, terms, picked):
            filled.append(_Candidate(c.rank, c.source_index, c.document_id, gap,
                                     _code(text) if code else text, frozenset(terms), c.score))
            taken.add((c.source_index, gap))
    return filled


def _continue(picked: list[_Candidate], sentences: Mapping[int, list[str]], query: set[str]
              ) -> list[_Candidate]:
    """The sentence after the best pick, when it still speaks of the question's words: the
    passage goes on to say what the best sentence leads to ("… will not complete until there is
    sufficient entropy. [The only time … may block … is right after boot, when the whole system
    is still low on entropy.]"). After the "not found" check, which weighs the picks alone."""
    if not picked:
        return picked
    best = picked[0]
    after = best.sentence_index + 1
    own = sentences[best.source_index]
    if after >= len(own) or any(c.source_index == best.source_index
                                and c.sentence_index == after for c in picked):
        return picked
    text = own[after]
    terms = stemmed_terms(text)
    if query & set(terms) and not _is_heading(text) and _joins(text, terms, picked):
        return [*picked, _Candidate(best.rank, best.source_index, best.document_id, after, text,
                                    frozenset(terms), best.score)]
    return picked


def _joins(text: str, terms: list[str], picked: list[_Candidate]) -> bool:
    """Whether a sentence next to a pick may join the answer: prose that is not already in it."""
    return _eligible(text, terms) and not is_code(text) and not CONTENTS_LINE.search(text) \
        and not any(text in p.text for p in picked)


def _window(sentences: list[str], n: int, terms: list[str], query: set[str]
            ) -> tuple[str, list[str]]:
    """A sentence with what completes it: the code or list items it introduces ("… with the
    command:" + "> source(…)"), the answer to a question the document asks, the header lines
    that follow a header line ("Subject: …", "From: …"), or the next sentence when that one
    continues it ("If you do this, …"), when the sentence only restates the question
    (`_restates`) or announces what the next one names ("There are several functions …")."""
    text, sentence = sentences[n], sentences[n]
    follows = sentences[n + 1 : n + 1 + WINDOW_LINES]
    if is_code(sentence):
        return _code(text), terms
    if sentence.endswith("?") and follows and TERMINAL.search(follows[0]) \
            and not follows[0].endswith(("?", ":")) and not is_code(follows[0]) \
            and not _is_heading(follows[0]):
        # A question the document asks and answers ("Where is the start angle of the first pie
        # slice?" + "The default is '90' which is twelve o'clock."): scored on the question's
        # words, which are the reader's, shown with its answer.
        return f"{sentence}{_JOIN}{follows[0]}", terms
    if follows and TERMINAL.search(sentence) and not is_code(follows[0]) and (
            _CONTINUES.match(follows[0]) or (
                # (Not a sentence that introduces code or a list, nor one the next introduces.)
                (_restates(terms, query) or _ANNOUNCES.match(sentence))
                and not sentence.endswith(":")
                and TERMINAL.search(follows[0]) and not follows[0].endswith(":")
                and not _is_heading(follows[0]))):
        # Scored on its own words, shown with the sentence that continues it (each cited).
        return f"{sentence}{_JOIN}{follows[0]}", terms
    if TABLE_ROW.match(sentence):
        return text, terms  # a row stands alone
    if sentence.endswith(":") or not TERMINAL.search(sentence) or FIELD.match(sentence):
        extra: list[str] = []
        # Short sentences after "… these minimum requirements:" are its list's items, when the
        # list lost its bullets ("Use an initial ramdisk." / "Include the union filesystem …").
        items = sentence.endswith(":") and len(follows) >= 2 and all(
            _list_item(line) and not BULLET.match(line) and not _OPTION.match(line)
            for line in follows[:2])
        for i, line in enumerate(follows):
            if (is_code(line) or _amid_code(follows, i)) \
                    and (sentence.endswith(":") or not FIELD.match(sentence)):
                extra.append(_code(line))
            elif FIELD.match(sentence) and FIELD.match(line):
                extra.append(line)
            elif sentence.endswith(":") and (BULLET.match(line) or _OPTION.match(line)
                                             or (items and _list_item(line))):
                extra.append(line)  # "… the following components:" + its list items
            else:
                break
        if extra:
            joined = " ".join(extra)
            terms = terms + stemmed_terms(joined)
            more = sentences[n + 1 + len(extra) : n + 2 + len(extra)]
            if len(extra) == WINDOW_LINES and more and is_code(more[0]) and \
                    all(line.startswith("`") for line in extra):
                joined += f" {_code(_MORE_CODE)}"  # the code goes on in the passage
            text = f"{sentence} {joined}"
    return text, terms


def _list_item(line: str) -> bool:
    """A short sentence that may be an item of a list whose bullets were lost."""
    return len(line.split()) <= LIST_ITEM_WORDS and bool(TERMINAL.search(line)) \
        and not line.endswith(":") and not _is_heading(line) and not is_code(line)


def _is_record(text: str) -> bool:
    """A row of named fields ("Team: Flyers; Location: PHI") or header lines ("From: …")."""
    return all(TABLE_ROW.match(line) or FIELD.match(line)
               for line in text.replace(_JOIN, "\n").splitlines() if line.strip())


def _amid_code(lines: list[str], i: int) -> bool:
    """A bare word between two lines of code is code too: a package in a package list's
    condition ("#if ARCHITECTURES amd64" / "ia32-libs" / "#endif", each line a paragraph of
    its own in a word processor's file); not "or" between two commands."""
    return 0 < i < len(lines) - 1 and bool(re.fullmatch(r"[\w.+-]+", lines[i])) \
        and lines[i].lower() not in STOPWORDS and is_code(lines[i - 1]) and is_code(lines[i + 1])


def _restates(terms: list[str], query: set[str]) -> bool:
    """Most of a short sentence's words are the question's ("Be cautious when parsing JSON data
    from untrusted sources" for "Is it risky to parse JSON from untrusted sources?"): it says
    what was asked, and the next sentence says the rest."""
    own = set(terms)
    return 3 <= len(own) <= RESTATE_TERMS and len(own & query) >= RESTATE_SHARE * len(own)


def _term_above(sentences: list[str], n: int) -> str | None:
    """The definition list's term on the line right above sentence `n` ("lineno"), or above the
    default it states first ("barLabelFormat" / "Defaults to None." / "As with the YValueAxis, if
    you supply a function …, labels will be drawn next to each bar"), if any."""
    for k in range(n - 1, max(-1, n - 3), -1):
        line = sentences[k].strip()
        if _TERM.match(line):
            return line
        if not _DEFAULT_LINE.match(line):
            return None
    return None


def _with_term(sentences: list[str], n: int, text: str) -> str:
    """A definition list's description with the term above it ("msg: The unformatted error
    message."): short, yet a whole statement of what the term is."""
    term = _term_above(sentences, n)
    return f"{term}: {text}" if term else text


def _signature_before(sentences: list[str], n: int) -> str | None:
    """The signature line that heads sentence `n` ("`crypto.randomBytes(size[, callback])`"),
    if one does within a few lines, with no other prose heading in between."""
    if _EXAMPLE_REFERENCE.match(sentences[n]):
        return None  # "hello(c)" / "c.save()" over "The above code creates …": an example
    term = _term_above(sentences, n)
    if term:
        return term  # "lineno" over "The line corresponding to pos."
    for i in range(n - 1, max(-1, n - 1 - SIGNATURE_LINES), -1):
        line = sentences[i].strip()
        if _is_heading(line) and not _SIGNATURE.match(line):
            return None  # "Signatures" above "The `dsaEncoding` option …": another section
        if _is_signature(line):
            # Signatures stacked right above one another share the description below them
            # ("qqnorm(x)" / "qqline(x)" / "qqplot(x, y)" / "… The first form plots …").
            first = i
            while first > 0 and i - first < SIGNATURE_GROUP and \
                    _is_signature(sentences[first - 1].strip()):
                first -= 1
            if i < n - 1 and _about_another(sentences[n], sentences[i].strip()):
                return None  # "partial.keywords" … ":class:`partial` objects are like …"
            return ", ".join(_signature_text(s.strip()) for s in sentences[first:i + 1])
    return None


def _unheld_words(question: str, df: Counter[str], setting: set[str]) -> int:
    """How many of the question's words, as written ("Node.js", "command-line": one each), are
    specific (`UNASKED_SPECIFICITY`) and held by no passage; not those of `setting` (what it ends
    on, "the docs" it names) nor the names that set its context ("What does Benson say …?")."""
    count = 0
    for word in without_context(question).split():
        terms = [t for t in stemmed_terms(word, parts=False) if t not in setting]
        if terms and not any(df[t] for t in terms) and max(
                specificity(t, question) for t in terms) >= UNASKED_SPECIFICITY:
            count += 1
    return count


def _dates(text: str, signature: str | None, version: re.Pattern[str],
           subject: DatedSubject) -> bool:
    """Whether a pick gives a version for what the question dates: by what its version note says
    ("Changed in version 3.9: The keyword argument encoding has been removed"), by the entry a
    bare note closes ("New in version 3.5." under `json.JSONDecodeError`), or for any other
    sentence with a version by its own words."""
    for sentence in (part.strip() for part in text.split(_JOIN)):
        if not version.search(CODE_SPAN.sub(" ", sentence)):
            continue  # (not "1.2" in `echo '{1.2:3.4}' | python -m json.tool`: code, no version)
        note = _VERSION_NOTE.match(sentence)
        said = sentence[note.end():].partition(":")[2] if note else sentence
        if subject.dated_by(said if said.strip() or not note else signature or ""):
            return True
    return False


def _entry_above(sentences: list[str], n: int) -> int | None:
    """The line of the signature heading the entry that sentence `n` closes (a version note),
    with no heading between them, if there is one."""
    for i in range(n - 1, -1, -1):
        line = sentences[i].strip()
        # (An exception's entry too, "exception json.JSONDecodeError(msg, doc, pos)", and a
        # class's whose parameters make its line too long to lead a sentence elsewhere.)
        head = re.sub(r"^exception\s+", "", line)
        if _SIGNATURE.match(head) and not _example_call(head):
            return i
        if _is_heading(line):
            return None
    return None


def _first_entry_line(sentences: list[str]) -> int:
    """The index of a passage's first heading or signature (its length when it has none)."""
    return next((i for i, line in enumerate(sentences)
                 if _is_heading(line) or (_SIGNATURE.match(line.strip())
                                          and not _example_call(line.strip()))),
                len(sentences))


def _section_entry(source: Source) -> str | None:
    """The API entry a passage lies in, when its section is one: a signature or a bare name
    ("cmp_to_key(func)", "singledispatch", "partial.keywords"), as a parser heads the entries
    of a reference (reStructuredText's ".. function::", a Markdown heading
    "`crypto.generateKeyPair(type, options, callback)`"); None for a page or a titled section."""
    section = (source.location or "").rstrip("…")
    if not section or section.split()[0] in _PAGE_UNITS:
        return None
    return section if _SIGNATURE.match(section) or _BARE_NAME.fullmatch(section) else None


def _about_another(sentence: str, signature: str) -> bool:
    """Whether `sentence`, a few lines under a bare name heading its entry ("partial.keywords"),
    starts on another code name: a later paragraph about something else. (Under a signature
    with parameters, a leading name is often one of its options: "`cost` {number} …".)"""
    match = _LEADING_CODE_NAME.match(sentence)
    name = _signature_text(signature).lower()
    return match is not None and "(" not in name and match[1].lower() not in {
        name, name.rsplit(".", 1)[-1]}


def _is_signature(line: str) -> bool:
    return bool(_SIGNATURE.match(line)) and len(line) <= 120 and not _example_call(line)


def _signature_text(line: str) -> str:
    line = re.sub(r"^\d{1,4}\s+(?=val|external)", "", line)  # a page number before it
    return re.sub(r"^\.\.\s+(?:\w+:)?\w+::\s+", "", line).strip("`:").strip()


def _example_call(line: str) -> bool:
    """A call with values, not a signature with parameters: `canvas.drawString(100, 675, msg)`,
    `UseMethod("coef")`, `print(x.counter)`, `self.tricks.append(trick)`. A signature's
    parameters are names, optionally with a default (`fill=1`, `mode='r'`), `*args`, `/`, `[, x]`."""
    match = re.search(r"([\w.]*)\(([^()]*)\)", line)
    if not match:
        return False
    if match.group(1).startswith("self."):
        return True
    for arg in re.sub(r"[\[\]]", "", match.group(2)).split(","):
        arg = arg.strip()
        if arg and not re.fullmatch(r"\*{0,2}[A-Za-z_]\w*(?:\s*=\s*\S.*)?|[/*]|\.\.\.", arg):
            return True
    return False


def _heading_before(sentences: list[str], n: int) -> str | None:
    """The heading of the section sentence `n` is in (within its passage), if there is one."""
    for i in range(n - 1, -1, -1):
        if _is_heading(sentences[i]):
            return sentences[i]
    return None


def _is_heading(line: str) -> bool:
    return (len(line) <= 80 and len(line.split()) <= 10 and not TERMINAL.search(line)
            and line[:1].isupper() and not is_code(line) and not FIELD.match(line)
            and not BULLET.match(line) and not CONTENTS_LINE.search(line))


def _title_above(sentences: list[str], n: int) -> str | None:
    """The title a byline stands under: "Xavier Leroy" (a name of two to four words) in the
    opening lines of a passage ("Camlidl user’s manual" / "Version 1.04" / "Xavier Leroy"),
    every line before it a short heading, the first one the title."""
    if not 0 < n <= BYLINE_LINES or not _PERSON.match(sentences[n]):
        return None
    if not all(_is_heading(line) for line in sentences[:n]):
        return None
    return sentences[0]


def _referent(sentences: list[str], n: int) -> str | None:
    """The sentences a pronoun sentence leans on ("It is over 1300 yards in length." after "…
    the Cresta run …"): whole prose sentences right before it, back to one that names its subject
    ("The maximum length for this field is 32 characters" after "This is used as a label …"
    after "--iso-volume NAME: This should specify the volume ID …"), joined with `_JOIN`."""
    sentence = sentences[n]
    if n == 0 or is_code(sentence) or not (
            _PRONOUN_SUBJECT.match(sentence) or _PRONOUN_OBJECT.search(sentence)
            or _CONTRASTS.match(sentence)
            or (_DEMONSTRATIVE.search(sentence) and not _LABELLED.match(sentence))):
        return None  # ("apt: With this method, …": the field's label is what it is about)
    k = n - 1
    while k > 0 and n - k < REFERENT_HOPS and LEANS.match(sentences[k]):
        k -= 1
    # "This argument will override …" is about the sentence that names an argument ("The
    # cornerRadii argument can be …"), not about the one right before it ("A positive radius …").
    demonstrative = None if _PRONOUN_SUBJECT.match(sentence) else _DEMONSTRATIVE.search(sentence)
    if demonstrative:
        noun = re.compile(rf"(?<!this )(?<!that )(?<!these )(?<!those )\b{demonstrative[1]}s?\b",
                          re.I)
        k = next((i for i in range(n - 1, max(-1, n - 1 - REFERENT_HOPS), -1)
                  if noun.search(sentences[i])), k)
    chain = sentences[k:n]
    if any(is_code(s) or not TERMINAL.search(s) or s.endswith(":")
           or len(s) > MAX_SENTENCE_CHARS for s in chain):
        return None
    return _JOIN.join(chain)


def _defines(sentence: str, subject: str) -> bool:
    """"LayoutParser, an open-source library …", "A namespace is a mapping …"."""
    return bool(re.search(rf"\b{re.escape(subject)}\b\s*(?:,\s*(?:an?|the)\s|\((?:[^)]*)\)\s*|"
                          r"(?:is|are|stands for|means|refers to)\s)", sentence.lower()))


def _code(text: str) -> str:
    return f"`{text}`" if "`" not in text else text


def _holds(known: set[str], name: str) -> bool:
    """`known` (the passages' and file names' terms) holds `name`: its word, or every part of a
    CamelCase name ("NodeJS" as "node" + "js"), or a word it starts with ("intro")."""
    if re.fullmatch(r"[A-Z]{2,}s", name):  # "PDFs": the plural of an acronym
        name = name[:-1]
    elif re.fullmatch(r"[A-Z]\w+-[a-z][\w-]*", name):  # "DER-encoded", "Bash-only" (not
        name = name.split("-", 1)[0]  # "AES-SIV", "R-CNN"): the name is its first part
    whole = stemmed_terms(name, parts=False)
    parts = [t for t in stemmed_terms(name) if t not in whole]
    if all(t in known for t in whole) or (bool(parts) and all(t in known for t in parts)):
        return True
    # "Introduction" by the "intro" of "R-intro.pdf": a word the name starts with.
    return len(whole) == 1 and any(len(t) >= 5 and whole[0].startswith(t) for t in known)


def _eligible(sentence: str, terms: list[str], query: set[str] | None = None, *,
              names: bool = False) -> bool:
    """Whole statements only: not questions, headings, captions, keyword lists or stray
    fragments (nor lines of names, unless `names`: the question asks who)."""
    if sentence.endswith("?") or KEYWORD_LIST.search(sentence):
        return False
    caption = CAPTION.match(sentence)
    kind = caption and ("figure" if caption.group(1).lower().startswith("fig") else caption.group(1))
    if kind and not (query and set(stemmed_terms(kind)) & query):
        return False  # unless the question asks about a figure or table
    words = len(sentence.split())
    if BULLET.match(sentence):
        return words >= 3 and len(terms) >= 2
    if _SLIDE_JOIN in sentence:  # a slide's lines ("Budget • Venue: Lakeside Lodge, …")
        return len(terms) >= 2
    if TABLE_ROW.match(sentence) or (FIELD.match(sentence) and query is not None
                                     and query & set(stemmed_terms(sentence.split(":", 1)[0]))):
        # A table row, or a header field the question names ("Attachments: report.txt" for
        # "which file is attached?"), states its facts without a verb or a full stop.
        return len(terms) >= 2
    if not names and not TERMINAL.search(sentence) and _title_case(sentence):
        return False  # a paper's author or affiliation line, a title: names, no statement
    return words >= 5 and len(terms) >= 2 and (words >= 8 or bool(TERMINAL.search(sentence)))


def _title_case(text: str) -> bool:
    """Nearly every word capitalised: "Zejiang Shen 1 (), Ruochen Zhang 2 , Melissa Dell 3"."""
    words = re.findall(r"[^\W\d_]+", text)
    return len(words) >= 3 and sum(w[0].islower() for w in words) < 0.25 * len(words)


def _pick(candidates: list[_Candidate], limit: int) -> list[_Candidate]:
    # Ties broken by rank and position so the answer never depends on dict or sort accidents.
    ordered = sorted(candidates, key=lambda c: (-c.score, c.rank, c.sentence_index))
    picked: list[_Candidate] = []
    for candidate in ordered:
        if len(picked) >= limit or candidate.score < RELATIVE_FLOOR * ordered[0].score:
            break
        # A code line may also be shown within the sentence that introduces it.
        twin = _twin(candidate, picked)
        if twin is not None:
            if (twin.text in candidate.text and len(candidate.text) > len(twin.text)) or (
                    candidate.text == twin.text and candidate.lead and not twin.lead):
                # Overlapping passages: the copy cut before the code its sentence introduces
                # gives way to the whole one (so does a code line to its introduction, and a
                # copy cut below the signature it describes to the one that shows it), which
                # keeps the rank and the answer type the shorter copy earned.
                picked[picked.index(twin)] = replace(
                    candidate, score=max(candidate.score, twin.score),
                    coverage=max(candidate.coverage, twin.coverage),
                    typed=candidate.typed or twin.typed)
            continue
        if picked and candidate.source_index not in {p.source_index for p in picked}:
            # Another passage only when it answers about as well (each one is one more
            # citation to check); another document only when it answers nearly as well.
            same_document = candidate.document_id in {p.document_id for p in picked}
            floor = OTHER_SOURCE_FLOOR if same_document else OTHER_DOCUMENT_FLOOR
            if candidate.score < floor * ordered[0].score:
                continue
        picked.append(candidate)
    return picked


def _twin(candidate: _Candidate, picked: list[_Candidate]) -> _Candidate | None:
    """The pick that shows what `candidate` says already (the same sentence, as part of a longer
    one, or, from another passage, nearly the same words and numbers), if any. Two sentences of
    one passage are no copies of each other: "If the environment variable R_USER is defined, that
    gives the home directory. Next, if the environment variable HOME is defined, …"."""
    return next((p for p in picked if candidate.text in p.text or p.text in candidate.text
                 or (p.source_index != candidate.source_index
                     and _jaccard(candidate.terms, p.terms) >= DUPLICATE_JACCARD
                     and _numbers(candidate.terms) == _numbers(p.terms))), None)


def _with_top_passage(picked: list[_Candidate], candidates: list[_Candidate], limit: int
                      ) -> list[_Candidate]:
    """The picks, with the best sentence of the passage retrieval ranked first when none of them
    comes from it and it reaches RELATIVE_FLOOR (in the last place; not when one sentence is
    asked for, which is the best one). The other-passage floors
    of `_pick` keep a lower passage out unless it answers as well; the top passage is what the
    hybrid ranking (the whole passage against the whole question) found best, and a sentence
    of another document may share more of the question's words by chance ("lower or upper case
    letters" for "does R treat upper-case and lower-case letters in names as different?")."""
    if limit < 2 or not picked or any(c.rank == 0 for c in picked):
        return picked
    top = min((c for c in candidates if c.rank == 0),
              key=lambda c: (-c.score, c.sentence_index), default=None)
    if top is None or top.score < RELATIVE_FLOOR * picked[0].score or _twin(top, picked):
        return picked
    return [*picked[: limit - 1], top]


_IDENTIFIER = re.compile(r"\b[A-Za-z][A-Za-z0-9_]*")


def _spelled_out(text: str, spoken: list[str]) -> bool:
    """Whether `text` holds an identifier the question spells out in words, in its order:
    `pathToFileURL` for "… a path to a file URL" (not `fileURLToPath`, same words),
    `drawCentredString` for "draw a centred string", `cache_info` for "cache info"."""
    return any(_in_order(list(parts), spoken) for parts in _identifiers(text))


@functools.lru_cache(maxsize=4096)
def _identifiers(text: str) -> tuple[tuple[str, ...], ...]:
    """The content-word parts of each camel- or snake-case identifier of `text` (two or more)."""
    found = []
    for match in _IDENTIFIER.finditer(text):
        word = match.group()
        if CAMEL_WORD.search(word) or "_" in word.strip("_"):
            parts = term_sequence(" ".join(CAMEL_PART.findall(word.replace("_", " "))))
            if len(parts) >= 2:
                found.append(tuple(parts))
    return tuple(found)


def _in_order(parts: list[str], words: list[str]) -> bool:
    rest = iter(words)
    return all(part in rest for part in parts)  # a subsequence: each found after the last


def _numbers(terms: frozenset[str]) -> frozenset[str]:
    # Rows that differ only in their figures ("Stanley Cups: 0" / "… 13") are not duplicates.
    return frozenset(t for t in terms if t.isdigit())


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _compose(picked: list[_Candidate], sources: Sequence[Source] = ()) -> str:
    """One paragraph per source, sources in order of their best sentence, sentences in document
    order within a source, each sentence cited; the lines of code a sentence introduces as a
    code block after it, indented as in its passage."""
    texts = {source.index: source.text for source in sources}
    paragraphs = []
    for source_index, pieces in _paragraphs(picked):
        parts: list[str | list[str]] = []  # cited sentences, and the lines of code blocks
        for k, piece in enumerate(pieces):
            line = CODE_SPAN.fullmatch(piece)
            if line and parts and isinstance(parts[-1], list) and parts[-1][-1] == _MORE_CODE:
                parts[-1][-1] = line.group(1)  # the line the block's "…" stands for was picked
                continue
            block = _CODE_AFTER.match(piece)
            # A question the passage asks ("1.2 What is COM?") claims nothing: the sentences
            # after it that answer it carry the citation.
            asks = k + 1 < len(pieces) and not block and _ASKS.search(piece) is not None
            parts.append(_cite(block.group(1) if block else piece, source_index, mark=not asks))
            if block:
                parts.append(CODE_SPAN.findall(block.group(2)))
        paragraphs.append(_render(parts, _indents(texts.get(source_index, ""))))
    return LEAD + "\n\n" + "\n\n".join(paragraphs)


def _render(parts: list[str | list[str]], indents: Mapping[str, str]) -> str:
    out = ""
    for part in parts:
        if isinstance(part, list):
            code = "\n".join(indents.get(line, "") + _clip(line) for line in part)
            out += f"\n\n```\n{code}\n```\n\n"
        else:
            out += (" " if out and not out.endswith("\n") else "") + part
    return out.strip()


def _cut(text: str) -> str:
    """`text`, or its first MAX_SENTENCE_CHARS characters cut at a word."""
    return text if len(text) <= MAX_SENTENCE_CHARS else \
        text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0]


def _clip(line: str) -> str:
    cut = _cut(line)
    return cut if cut == line else f"{cut} …"


def _indents(text: str) -> dict[str, str]:
    """Each line of a passage, stripped, to its indentation (the first line's, for repeats)."""
    found: dict[str, str] = {}
    for line in text.split("\n"):
        body = line.strip()
        if body:
            found.setdefault(body, line[: len(line) - len(line.lstrip())])
    return found


def _paragraphs(picked: list[_Candidate]) -> list[tuple[int, list[str]]]:
    """The answer's paragraphs, uncited: (source index, its sentences as shown)."""
    order: list[int] = []
    for candidate in picked:
        if candidate.source_index not in order:
            order.append(candidate.source_index)
    paragraphs = []
    for source_index in order:
        group = sorted(
            (c for c in picked if c.source_index == source_index), key=lambda c: c.sentence_index
        )
        shown: set[str] = set()
        pieces: list[str] = []
        for c in group:
            text = c.text
            # What the sentence describes, unless the paragraph already shows it as code (an
            # example the sentence before introduces: "… generated: `doc.multiBuild(story)`").
            if c.lead and c.lead not in shown and not any(_code(c.lead) in p for p in pieces):
                shown.add(c.lead)
                text = f"{_code(c.lead)}: {text}"
            for piece in text.split(_JOIN):
                # A continuation may also have been picked itself, and a sentence shown with the
                # list it introduces may have been shown without it already.
                if piece in shown or any(piece in p for p in pieces):
                    continue
                shown.add(piece)
                if pieces and piece.startswith(pieces[-1]):
                    pieces[-1] = piece
                else:
                    pieces.append(piece)
        paragraphs.append((source_index, pieces))
    return paragraphs


def _cite(sentence: str, index: int, *, mark: bool = True) -> str:
    """`sentence` as shown, with its `[index]` marker unless `mark` is false."""
    text = quotable(sentence)
    if (cut := _cut(text)) != text:
        # Cut inside inline code: close it, or the marker would be read as code and the answer
        # would cite nothing (`citations` treats an unclosed span as code to the line's end).
        text = cut + ("` …" if cut.count("`") % 2 else " …")
    if not mark:
        return text
    # The marker goes before the closing punctuation: "… 30 seconds [2]."
    match = re.search(r"[.!?…]+[\"'”’)\]]*$", text)
    if match and match.start() > 0:
        return f"{text[: match.start()]} [{index}]{text[match.start():]}"
    return f"{text} [{index}]"


def answers(evidence: float, found: Extract) -> bool:
    """Whether `found` answers, given the best dense similarity of its evidence to the question:
    at EVIDENCE_FLOOR, or down to RESCUE_FLOOR when its best sentence holds nearly all of the
    question's weighted terms, no term of the question is missing from the passages and, for a
    "what is X?" question, a picked sentence says what X is (or gives the quantity it asks for);
    or down to TYPED_FLOOR when that sentence holds a quantity the question asks for and most
    of its terms. A name no passage holds needs UNNAMED_FLOOR, a setting no passage holds
    UNHELD_FLOOR."""
    if found.unnamed:
        return evidence >= UNNAMED_FLOOR
    if found.unheld:
        return evidence >= UNHELD_FLOOR
    if evidence >= floor_for(found):
        return True
    # Under the floor, "what is the capital of Australia?" needs a sentence saying what it is:
    # every word of it in "the Australian Capital Territory, New South Wales, …" is no answer.
    # A quantity of the type asked answers "what is the maximum weight of a curling stone?"
    # although it does not say "the maximum weight is" ("… no greater weight than 44 lb").
    if found.missing > RESCUE_MISSING or not (found.defined or found.typed):
        return False
    if found.typed:
        return evidence >= TYPED_FLOOR and found.coverage >= TYPED_COVERAGE
    return evidence >= RESCUE_FLOOR and found.coverage >= RESCUE_COVERAGE


def _of_naming_documents(question: str, sources: Sequence[Source]) -> set[int]:
    """The sources of the documents whose passages (and file name) name what the question names
    ("Which Python version does LayoutParser require?": the LayoutParser paper, not ReportLab's
    guide saying "requires Python versions 3.7+"), when some documents do and others don't;
    empty otherwise. A name the question is set in ("… with ReportLab?") or that names the
    document ("the Python tutorial") does not count."""
    names = [[word.lower() for word in name] for name in asked_names(question)]
    if not names:
        return set()
    texts: dict[str, str] = {}  # each document's file name and passages, lower-cased once
    for source in sources:
        texts[source.document_id] = (f"{texts.get(source.document_id, source.filename.lower())}"
                                     f"\n{source.text.lower()}")
    naming = {document for document, text in texts.items()
              if all(any(word in text for word in name) for name in names)}
    if not naming or naming == set(texts):
        return set()
    return {source.index for source in sources if source.document_id in naming}


def floor_for(found: Extract) -> float:
    """The evidence that answers without a rescue: higher when the passages lack most of the
    question's words."""
    return EVIDENCE_FLOOR + MISSING_SLOPE * max(0.0, found.missing - MISSING_SHARE)


Similarity = Callable[[str, list[str]], Awaitable[float]]
"""The best dense similarity between a question and some sentences."""


class _Embedder(Protocol):
    async def embed_query(self, text: str) -> list[float]: ...
    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]: ...


async def sentence_similarity(embedder: _Embedder, question: str, sentences: list[str]) -> float:
    """The best cosine similarity between `question` (embedded as a query) and `sentences` (as
    passages): a handful of short texts, so tens of milliseconds."""
    if not sentences:
        return 0.0
    query = await embedder.embed_query(question)
    best = 0.0
    for vector in await embedder.embed_documents(sentences):
        dot = sum(a * b for a, b in zip(query, vector, strict=True))
        norm = math.sqrt(sum(a * a for a in query) * sum(b * b for b in vector)) or 1.0
        best = max(best, dot / norm)
    return best


class ExtractiveChatModel:
    """A ChatModel that answers extractively, so the RAG pipeline can treat both modes alike.

    The pipeline calls `answer` (then `stream_text`); `stream`/`complete` also work on
    the messages built by `build_answer_messages`, reading the question and sources back from them.
    """

    def __init__(self, *, max_sentences: int = MAX_PICKS, words_per_delta: int = 3) -> None:
        self._max_sentences = max_sentences
        self._words_per_delta = max(1, words_per_delta)

    @property
    def model_id(self) -> str:
        return "extractive"

    async def answer_stream(self, question: str, sources: Sequence[Source]) -> AsyncIterator[str]:
        """`answer` without the relevance check, streamed (see `stream_text`)."""
        async for delta in self.stream_text(await self.answer(question, sources)):
            yield delta

    async def answer(
        self,
        question: str,
        sources: Sequence[Source],
        *,
        embed_scores: Mapping[tuple[int, int], float] | None = None,
        context: str | None = None,
        relevance: float | None = None,
        similarity: Similarity | None = None,
    ) -> str:
        """The answer, "" when nothing answers. `relevance`: the best retrieved passage's dense
        similarity to the question; under `EVIDENCE_FLOOR`, the picked sentences are compared
        with the question (`similarity`) and the answer is "" unless one of them reaches it."""
        # Sentence splitting and scoring are CPU work: off the event loop, like every parser.
        found = await asyncio.to_thread(
            extract, question, sources, max_sentences=self._max_sentences,
            embed_scores=embed_scores, context=context,
        )
        if found.stated:
            return found.text
        if relevance is not None and relevance < WEAK_RELEVANCE and found.unheld_words:
            # No passage is much about the question, and it names something specific that none
            # holds: "How many players does each volleyball team have on the court?" over the
            # ice-hockey rules ("The team shall consist of six players", relevance 0.37).
            return ""
        if found.untyped or found.undefaulted or found.unasked or (
                found.unnamed and relevance is None):
            # The passages do not give the number, measure, year or default asked for, or do
            # not name what the question names and there is no evidence to weigh against that.
            return ""
        if found.text and found.coverage < MIN_COVERAGE and not found.typed:
            # The best sentence holds under MIN_COVERAGE of all the question's weighted words,
            # those no passage holds included ("How do I give lru_cache entries a time-to-live
            # so that they expire?" over the lru_cache docs): it speaks of the subject, not of
            # what is asked. On the QA set's tune split: 5 more refusals of unanswerable
            # questions, 2 facts fewer and 1 more (a refusal quotes the closest passages).
            return ""
        if found.text and relevance is not None and (relevance < floor_for(found) or found.unheld):
            best = await similarity(question, found.evidence) if similarity else relevance
            if not answers(max(relevance, best), found):
                return ""  # what was found shares words with the question, not its subject
        return found.text

    async def stream_text(self, answer: str) -> AsyncIterator[str]:
        """`answer` (or the "not found" sentence when it is empty) in groups of a few words."""
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
