"""The words inside identifiers, for the keyword index and the extractive answerer.

Both keyword indexes split text at every character that is not a letter or digit, so `total_ordering`
and `json.dumps` are already words, but `drawCentredString` or `fileURLToPath` stays one token
that no query word meets ("how do I center a string?"). `index_terms` lists the parts of such
identifiers (and their American spellings), which the database indexes after the chunk's text
(migration 0015): a query for "centered string" or "file url" then finds the chunk.
"""

from __future__ import annotations

import functools
import re

# A word with an inner capital: "setFillColor", "createHmac", "URLSearchParams", "pbkdf2Sync".
CAMEL_WORD = re.compile(r"[a-z][a-z0-9]*[A-Z]|[A-Z]{2,}[a-z]")
CAMEL_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 2000  # parts per chunk, at most (a chunk is a few hundred words)


@functools.lru_cache(maxsize=65_536)
def american(word: str) -> str:
    """A lower-case British spelling as the American one ("colour", "centred", "initialise"):
    either spelling then finds the other."""
    word = re.sub(r"(?<=[a-z]{3})our(s|ed|ing)?$", r"or\1", word)
    word = re.sub(r"(?<=[a-z]{3})tre(d|s)?$", lambda m: "ter" + {"d": "ed", "s": "s"}.get(
        m.group(1) or "", ""), word)
    return re.sub(r"(?<=[a-z]{4})is(e|ed|es|ing|ation|ations)$", r"iz\1", word)


def index_terms(text: str) -> str:
    """The distinct parts of `text`'s camel-case identifiers, lower-cased, each also in its
    American spelling when that differs ("drawCentredString" → "draw centred centered string"),
    space-separated; "" when the text has none."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text):
        if not CAMEL_WORD.search(word):
            continue
        for part in CAMEL_PART.findall(word):
            part = part.lower()
            if len(part) > 1 or part.isdigit():
                seen.setdefault(part)
                seen.setdefault(american(part))
        if len(seen) >= MAX_TERMS:
            break
    return " ".join(list(seen)[:MAX_TERMS])
