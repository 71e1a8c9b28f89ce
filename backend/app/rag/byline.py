"""Where an author of a paper works, read off its title page.

A title page prints the authors with markers ("Zejiang Shen 1, …, Weining Li 5") and the
numbered affiliations after them ("1 Allen Institute for AI … 5 University of Waterloo"). The
sentence scorer cannot join a name to its affiliation, and it skips such lines as statements
(they are names, not sentences), so "Which university is Weining Li at?" needs this reading.
"""

from __future__ import annotations

import re

# "Where does X work?", "Which university is X affiliated with?", "X's institution".
AFFILIATION_QUESTION = re.compile(
    r"\b(?:work(?:s|ing)?|affiliat\w*|universit(?:y|ies)|institut\w*|employ\w*|"
    r"organi[sz]ations?|laborator(?:y|ies)|compan(?:y|ies))\b", re.I)
# A person's name as a question writes it: two to five capitalised words in a row.
_PERSON = re.compile(r"(?<![\w.])[A-Z][a-z’'-]+(?:\s+[A-Z][a-z’'-]+){1,4}\b")
MAX_AFFILIATION_CHARS = 100


def affiliation(question: str, text: str) -> tuple[str, str] | None:
    """(the author's name as the text writes it, their affiliation) when the question asks
    where a person it names works and `text` is a title page that marks the name and lists
    the marked affiliation after it; None otherwise."""
    if not AFFILIATION_QUESTION.search(question):
        return None
    for name in _PERSON.findall(question):
        words = name.split()
        # The name as printed (a line may break inside it), then its first marker: a number
        # or one letter ("Shen 1,2", "Smith a").
        marked = re.search(r"\b" + r"\s+".join(map(re.escape, words))
                           + r"\s*(\d{1,2}|[a-z])(?![\w@])", text)
        if not marked:
            continue
        mark = re.escape(marked.group(1))
        # The marker again at the start of a stretch of capitalised text, up to the end of its
        # line, an e-mail address or the next numbered affiliation; not another author ("1
        # Ruochen Zhang 2 ,", where authors are listed without commas).
        for place in re.finditer(rf"(?<![^\s,;])(?:{mark})\s+([A-Z][^\n@{{}}]*?)"
                                 rf"(?=\s+\S*@|\s+\d{{1,2}}\s+[A-Z]|\s*\n|\s*$)",
                                 text[marked.end():]):
            found = place.group(1).strip(" ,;")
            after = text[marked.end() + place.end():]
            if len(found) <= MAX_AFFILIATION_CHARS and not re.match(r"\s*\d{1,2}\s*(?:,|and\b)",
                                                                  after):
                return " ".join(marked.group(0)[: -len(marked.group(1))].split()), found
    return None
