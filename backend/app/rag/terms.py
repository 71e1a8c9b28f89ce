"""The words the answerer matches: a text's content words, stemmed, stop words dropped; identifiers
also by their parts ("setFillColor" holds "fill" and "color")."""

from __future__ import annotations

import functools
import itertools
import re
import threading
from typing import Protocol, cast

import snowballstemmer

from app.providers.keyword.identifiers import CAMEL_PART, CAMEL_WORD, american

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves also may might must shall us per via
    within without whether tell explain describe please give list show mean means there's what's
    it's does doesn't don't isn't aren't can't i'm i've i'd we're we've you're you've they're
    they've that's let's didn't wasn't weren't hasn't haven't won't wouldn't shouldn't couldn't
    """.replace("'", "").split()
)  # compared with words whose apostrophe is gone (`plain_word`): "doesn't" is "doesnt"
# Words that name the same bound: "the longest key" is what "the maximum … output" gives.
_BOUNDS = {**dict.fromkeys(("max", "maximal", "longest", "largest", "biggest", "greatest",
                            "highest"), "maximum"),
           **dict.fromkeys(("min", "minimal", "shortest", "smallest", "fewest", "lowest"),
                           "minimum")}
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_HYPHENATED = re.compile(r"\b([^\W\d_]{2,})-([a-z]{2,})\b")


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


def content_terms(text: str) -> list[str]:
    """The stemmed content words of `text` (stop words dropped), as the answerer matches them."""
    return stemmed_terms(text)


def stemmed_terms(text: str, *, parts: bool = True) -> list[str]:
    found = WORD.findall(text)
    if parts:
        # A document's identifiers count by their parts too ("setFillColor" for "fill colour";
        # not a question's: "LayoutParser" there would weigh three words).
        found += [p for w in found if CAMEL_WORD.search(w) for p in CAMEL_PART.findall(w)]
    words = [_bound(american(plain_word(w))) for w in found]
    terms = [_stem(w) for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
    # PDF text keeps a line-end hyphen inside words ("frame-works", "applica-tions"): the
    # joined word counts too, so "frameworks" in a question finds it.
    terms += [_stem(a.lower() + b) for a, b in _HYPHENATED.findall(text)]
    return terms


def _bound(word: str) -> str:
    return _BOUNDS.get(word, word)


def plain_word(word: str) -> str:
    """A word without its apostrophe, and without a possessive "'s": "R's" is R (no term of
    its own), not "rs", a word no document holds; "don't" stays "dont" (a stop word)."""
    word = word.lower()
    return (word[:-2] if word.endswith("'s") else word).replace("'", "")


def term_sequence(text: str) -> list[str]:
    """The content words of `text` in reading order, stemmed as `stemmed_terms` stems them (one term
    per word: no identifier parts)."""
    words = (_bound(american(plain_word(w))) for w in WORD.findall(text))
    return [_stem(w) for w in words if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


# Ordinal words by the number they stand for: "the second one", "the third row".
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
            "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10}


def joined_terms(text: str) -> list[tuple[str, str, str]]:
    """Each two neighbouring words of `text` written as one, stemmed, with the two words' own
    terms: "upper case" is also "uppercase" (documentation joins words a question keeps apart)."""
    words = [american(plain_word(w)) for w in WORD.findall(text)]
    return [(_stem(a + b), _stem(a), _stem(b)) for a, b in itertools.pairwise(words)
            if a.isalpha() and b.isalpha() and a not in STOPWORDS and b not in STOPWORDS]


# "a byte order mark (BOM)": the words before the brackets whose initials spell it.
_DEFINED_ACRONYM = re.compile(r"((?:[A-Za-z][\w'’-]*\s+){2,8})\(([A-Z]{2,8})s?\)")


def acronyms(text: str) -> dict[str, list[str]]:
    """The acronyms `text` defines, each with the terms of what it stands for:
    {"bom": ["byte", "order", "mark"]} for "… a byte order mark (BOM) …"."""
    found: dict[str, list[str]] = {}
    for match in _DEFINED_ACRONYM.finditer(text):
        letters = match.group(2).lower()
        words = match.group(1).split()[-len(letters):]
        if len(words) == len(letters) and all(w[0].lower() == c for w, c in zip(words, letters,
                                                                                strict=True)):
            found.setdefault(_stem(letters), stemmed_terms(" ".join(words), parts=False))
    return found


def with_acronyms(terms: list[str], defined: dict[str, list[str]]) -> list[str]:
    """`terms`, and for each acronym among them the terms of what it stands for: "The
    deserializer raises a ValueError when an initial BOM is present" holds "byte order mark"."""
    extra = [t for a in terms if a in defined for t in defined[a] if t not in terms]
    return terms + list(dict.fromkeys(extra))
