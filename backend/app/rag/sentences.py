"""A passage cut into what the answerer can quote: sentences, list items, lines of code, headings
and table rows, with hard-wrapped lines joined back."""

from __future__ import annotations

import re
from collections.abc import Callable

from app.rag.terms import STOPWORDS, WORD, plain_word

CODE_LINES = 8  # lines an open code statement may continue on
_ITEM_NUMBER = r"\d{1,3}[.)]"  # a numbered list item's own number: "2." or "2)"
LIST_NUMBER = re.compile(rf"^{_ITEM_NUMBER}\s+")  # "2. The goal-posts …": no term of the sentence
BULLET = re.compile(rf"^\s*(?:[-*•▪◦‣·]|{_ITEM_NUMBER})\s+")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s+")
TERMINAL = re.compile(r"[.!?…:;)][\"'”’)\]]*$")
CODE_SPAN = re.compile(r"`([^`\n]+)`")  # inline code in Markdown: "`json.dumps`"
# Abbreviations that never end a sentence ("e.g. The", "St. Moritz", "Dr. Smith"); those that
# stand for a word only before a number or a code ("Fig. 3", "Eq. (3)", "Sec. II", "p. 12"), and
# end one before a word ("… the answer is no. The …"); and those that end one
# before a capital ("… plots, etc. The …", "Acme Inc. The company …", but "et al. (2019)").
ABBREVIATIONS = frozenset("e.g i.e vs cf mr mrs ms dr prof st".split())
NUMBERED_ABBREVIATIONS = frozenset("fig figs no nos vol pp p ch sec eq ref approx".split())
ENDING_ABBREVIATIONS = frozenset("etc al inc ltd co jr sr min max resp".split())
# Words before a one-letter name of a language or a tool ("in R.", "using C."), not of a person.
# ("with", "from", "for" come before a person's initials as often: "with J. Smith".)
_SETTING = frozenset("in using than".split())
# Lines and sentences that are not statements to quote as they stand (the answerer and the
# document overview share them).
# Reference markers printed in documents ("[12]") would read as citations of our own sources.
# … but an index in running text ("Lst[[1]]", "pc.slices[3]", "argv[2]") is code (group 1).
_INDEX_OR_REFERENCE = re.compile(
    r"((?<![\w`.$])[A-Za-z_.][\w.$]*(?:\[\[?\d[\d, ]*\]\]?)+(?:\.\w+)*(?![\w`]))"
    r"|\s*[\[【]\d{1,3}(?:\s*[,\-–]\s*\d{1,3})*[\]】]")
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
# reStructuredText's inline markup, as Markdown shows it: ":func:`~functools.cache`" is the
# name as code ("`cache`"), ":pep:`412`" is "PEP 412", "``__dict__``" is code, and a link
# "`Fibonacci numbers <https://…>`_" is its words.
_RST_ROLE = re.compile(r":(?:[\w-]+:)?([\w-]+):`(~?)([^`<]*?)\s*(?:<([^`>]*)>)?`")
_RST_LITERAL = re.compile(r"``([^`\n]+)``")
_RST_LINK = re.compile(r"`([^`<\n]+?)\s*<[^`>\n]+>`__?")

# Table-of-contents and index lines: "7 Reading data ....... 34", "Chapter 7 … 34".
# (Spaced leaders ". . . ." always; unspaced ones only up to a page number: a sentence ending
# in "water...." is no contents line.)
LEADERS = re.compile(r"(?:\.\s){3,}\.|\.{4,}\s*\d|…\s*\d+\s*$")
CONTENTS_LINE = re.compile(LEADERS.pattern + r"|\s{2,}\d{1,4}\s*$"
                           # a list of illustrations: "Ski-joring ( colour ) | Facing p. 166",
                           # "XLIV. | Bobbing on the Schatz Alp Run, Davos", "… | At end of
                           # Chap. VI, between pp. 166 and 167"
                           r"|\b(?:facing|to face)\s+p(?:age|\.)\s*\d+|\bfrontispiece\b"
                           r"|^\s*[IVXLC]+\.\s*\||\bbetween\s+pp\.\s*\d+", re.I)
# A sentence that leans on the one before it: "It …", "By default, this is …".
LEANS = re.compile(r"^(?:(?:by default|in this case|otherwise|however|also|then|here|now),\s*)?"
                   r"(?:it|its|this|these|they|that|those|such)\b", re.I)
# "From: …", "Author: …": a field line answers "who sent/wrote …" although it is no sentence.
FIELD = re.compile(r"^[A-Z][\w -]{1,24}:\s+\S")
# A figure's or a listing's caption ("Figure 3-6: Using a the Vera TrueType Font") names what a
# picture shows, in the question's words, and answers nothing the picture does not show here.
CAPTION = re.compile(r"^(fig(?:ure)?|table|listing|exhibit|plate)\.?\s+[\dA-Z][\w.-]*[:.]\s", re.I)
# A paper's keyword list ("Keywords: Document Image Analysis· Deep Learning· …") names topics.
KEYWORD_LIST = re.compile(r"^(?:key\s?words|index terms)\s*[:—-]|·[^·]+·", re.I)
# Paragraph numbers some exports print ("「183」"): noise that also splits a sentence from its code.
PARAGRAPH_NUMBER = re.compile(r"[ \t]*「\d{1,5}」")
# A numbered heading or footnote starts a line of its own ("5.8 Forming partitioned matrices",
# "1 Readers should note …" under a table of figures), never the rest of the line before.
_NUMBERED = re.compile(r"^\d{1,3}(?:\.\d{1,3})*\.?\s+[A-Z][a-z]")
# An attribute's or a parameter's name: "startAngle", "lineno", "max_depth"; an OCaml
# signature: "val combine : 'a interface -> 'b interface -> 'a interface".
_TERM_LINE = re.compile(r"[a-z_][A-Za-z0-9_]{1,40}|(?:val|external)\s+[a-z_]\w*\s*:\s*\S.*")
# A running header at the top of a PDF page: "Chapter 12: Graphical procedures 69".
_PAGE_HEADER = re.compile(r"^(?:Chapter|Appendix)\s+[\w.]+:?\s+\S.{0,80}?\s\d{1,4}$")
# A Python expression without spaces, and the operators that join such in a condition.
_EXPR = r"[\w.\[\]:'\"()+*/%-]+"
_OPERATOR = r"(?:and|or|is|in|not in|is not|==|!=|<=|>=|<|>)"
# A line of code or a shell command: prompts, assignments, calls, preprocessor directives.
_CODE = re.compile(r"^(?:[$#>%]\s|>>>|\.\.\.\s|[\w.$]+\s*(?:<-|=|:=)\s|[\w.]+\(.*\)\s*;?$"
                   r"|(?:const|let|var)\s+[\w${\[]|[\w$]+[.(]\S*.*\);(?:\s*//.*)?$|import\s.*\sfrom\s+['\"].*$"
                   # Python: "def f(x):", "class Mapping:", "from a.b import c", "import os",
                   # "@decorator", "for x in y:", "if not found and line[:8] == 'Name':" (a
                   # condition of names and operators, unlike "if you want the following:")
                   r"|(?:async\s+)?def\s+\w+\(.*\)(?:\s*->.*)?:$|class\s+\w+(?:\(.*\))?:$"
                   r"|from\s+[\w.]+\s+import\s+[\w*(]|import\s+[\w.]+(?:\s+as\s+\w+)?(?:,\s*[\w.]+)*$"
                   r"|@[\w.]+(?:\(.*\))?$|for\s+[\w, ]+?\s+in\s+\S.*:$|with\s+[\w.]+\(.*\)\s+as\s+\w+:$"
                   rf"|(?:if|elif|while)\s+(?:not\s+)?{_EXPR}(?:\s+{_OPERATOR}\s+(?:not\s+)?{_EXPR})*:$"
                   r"|(?:else|try|finally):$"
                   # C's preprocessor (and live-build's package lists): "#if ARCHITECTURES amd64"
                   r"|#(?:if|ifdef|ifndef|elif|else|endif|include|define|undef|pragma)\b"
                   # JavaScript: comments, a block opened by a callback or a statement, its end
                   # (not anchored at the end: the lines a block opens are joined to it)
                   r"|//|/\*|.*=>\s*\{|(?:async\s+)?function\s*\w*\s*\([^)]*\)\s*\{"
                   r"|(?:if|for|while)\s*\(.*\)\s*\{"
                   r"|\}\)*;?$)")
_CALL_START = re.compile(r"[a-z_][\w.]*\([^()\s]{0,20}\)\s+[a-z]")  # "locator() returns", "ls(x) lists"
# A table row as the parsers write it: "Team: Flyers; Location: PHI; Stanley Cups: 2" (a sheet),
# "Python: dict | JSON: object" (an HTML or slide table).
TABLE_ROW = re.compile(r"^[^:;|]{1,40}:[^;|]+[;|]\s*[^:;|]{1,40}:")


def outside_code(text: str, change: Callable[[str], str]) -> str:
    """`text` with `change` applied to what lies outside its inline code spans."""
    return "".join(part if n % 2 else change(part)
                   for n, part in enumerate(_INLINE_CODE.split(text)))


def rst_inline(text: str) -> str:
    """`text` with reStructuredText's inline markup as Markdown shows it (see `_RST_ROLE`)."""
    def role(match: re.Match[str]) -> str:
        kind, short, title, target = match.groups()
        if kind.lower() in {"pep", "rfc"}:
            return f"{kind.upper()} {title or target}"
        name = title or target or ""
        return f"`{name.rsplit('.', 1)[-1] if short else name}`"

    return _RST_LINK.sub(r"\1", _RST_LITERAL.sub(r"`\1`", _RST_ROLE.sub(role, text)))


def quotable(text: str) -> str:
    """`text` as an answer quotes it: printed reference markers dropped, an index in running text
    shown as inline code, so that the quote neither loses it ("Lst[]") nor reads it as a
    citation of source 1. Code spans keep their own ("`items[0]`"). reStructuredText's inline
    markup reads as Markdown (`rst_inline`)."""
    return outside_code(rst_inline(text), lambda part: _INDEX_OR_REFERENCE.sub(_as_quoted, part)
                        ).strip()


def _as_quoted(match: re.Match[str]) -> str:
    """An index as code, a printed reference dropped, a list a name is set to as code too:
    "pc.data = [10, 20, 30]" is no reference (dropped, it read "pc.data = [1]" once cited)."""
    if match[1]:
        return f"`{match[1]}`"
    if match.string[: match.start()].rstrip().endswith(("=", "(")):
        space = match[0][: len(match[0]) - len(match[0].lstrip())]
        return f"{space}`{match[0].strip()}`"
    return ""


# The words a sentence cannot end on (articles, prepositions, conjunctions, auxiliaries): a line
# ending on one (in lower case: "Appendix A" is a heading) is wrapped mid-sentence.
_GOES_ON = re.compile(r"\s(?:a|an|the|of|on|in|into|to|for|with|by|from|at|as|and|or|nor|is|are"
                      r"|was|were|be|been|than|that|which|whose|its|their|our|your|this|these)$")


def split_sentences(text: str) -> list[str]:
    """Sentences (and list items) of a passage, in order. Use the same function when computing the
    semantic scores passed to `extractive_answer`, so that sentence indexes agree."""
    text = PARAGRAPH_NUMBER.sub("", text.replace("\x02", "").replace("\u00ad", ""))
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
    continued = 0  # lines joined to an open code statement ("const {" … "} = require(…);")
    in_code = False  # the line before ended in a code unit (its own line or a statement's last)
    term_unit = False  # the line before was a name heading what follows (`_is_term`)
    for i, line in enumerate(lines):
        if units and continued < CODE_LINES and is_code(units[-1]) and _open_brackets(units[-1]):
            units[-1] += " " + line
            continued += 1
            in_code = True
            continue
        continued = 0
        previous = lines[i - 1] if i > 0 else ""
        heading_before = bool(previous) and (
            # (Not a line that ends on a word a sentence goes on from: "… the standard encoding
            # on" / "Windows and many Unix systems …" is one sentence wrapped before a name.)
            (len(previous) < 60 and not TERMINAL.search(previous) and line[:1].isupper()
             and not _GOES_ON.search(previous))
            # A numbered heading may end in a bracket ("5.8 Forming partitioned matrices, cbind()
            # and rbind()"), and what follows may start in lower case ("attach() is a generic …").
            or (len(previous) < 80 and bool(_NUMBERED.match(previous)) and previous[-1] != "."))
        # A PDF's running page header is a line of its own, whatever follows it.
        header = _PAGE_HEADER.match(line) or _PAGE_HEADER.match(previous)
        # (After "> incomes <- c(60, 49," / "59, 46, 58, 43)", the statement's last line is code
        # too: "To calculate …" starts a sentence of its own.)
        code, after_code = is_code(line), i > 0 and (is_code(previous) or in_code)
        row = TABLE_ROW.match(line) or (i > 0 and TABLE_ROW.match(previous))
        # A name on a line of its own after a finished sentence heads what follows: the
        # attribute tables of a PDF manual ("… in a legend alongside." / "startAngle" / "Where is
        # the start angle …?"), never the end of the sentence before.
        # (Not after "… the following packages:", whose lines are its list; not a word of prose
        # on a line of its own: "… the matrix M." / "where" / "M is updated …".)
        term = _is_term(line) and previous[-1:] in (".", "!", "?")
        described = term_unit
        term_unit = False
        if after_code and not code and len(units) >= 2 and re.match(r"[a-z(]", line) \
                and not is_code(units[-2]) and not TERMINAL.search(units[-2]):
            # A display in mid-sentence: "The R command" / "> objects()" / "(alternatively,
            # ls()) can be used to …" is one sentence.
            units[-2:] = [f"{units[-2]} {units[-1]} {line}"]
        elif not units or BULLET.match(line) or heading_before or code or after_code or row \
                or header or term or described:
            units.append(line)  # a line of code is a unit of its own, never glued to prose
            term_unit = term
        else:
            units[-1] += " " + line
        in_code = is_code(units[-1])
    return units


def abbreviated(word: str, rest: str, before: str = "") -> bool:
    """Whether the full stop ending `word` (followed by `rest`, after the word `before`) marks an
    abbreviation or an initial, not the end of a sentence. An initial is a capital letter before
    a word that is no function word ("by J. Smith", "John F. Kennedy"), unless the word before
    it sets a language or a tool: "… a model formula in R. The form …" and "… written in R.
    Pandas …" end a sentence."""
    bare = word.rstrip(".").lstrip("([\"'“‘")
    last = bare.lower()
    following = rest.lstrip()
    if last in ABBREVIATIONS:
        return True
    if last in NUMBERED_ABBREVIATIONS:
        # A number, a bracket or a code follows: "Fig. 3", "Eq. (3)", "Fig. S2", "Sec. II".
        return not re.match(r"[A-Z][a-z]", following)
    if last in ENDING_ABBREVIATIONS:
        return not following[:1].isupper()
    if len(bare) != 1 or not bare.isupper():
        return False
    after = WORD.findall(following[:40])[:1]
    return before.lower() not in _SETTING and not (after and plain_word(after[0]) in STOPWORDS)


def _is_term(line: str) -> bool:
    return bool(_TERM_LINE.fullmatch(line)) and line.lower() not in STOPWORDS


def is_code(line: str) -> bool:
    return bool(_CODE.match(line.strip()))


def _open_brackets(code: str) -> bool:
    """A statement left open on its line: more brackets opened than closed."""
    return sum(code.count(c) for c in "([{") > sum(code.count(c) for c in ")]}")


def _split_unit(unit: str) -> list[str]:
    if is_code(unit):
        return [unit]
    pieces: list[str] = []
    start = 0
    for match in _SENTENCE_END.finditer(unit):
        following = unit[match.end() : match.end() + 1]
        # (A sentence may start with a call in lower case: "… no plotting. locator() returns …")
        if not (following.isupper() or following.isdigit() or following in "\"'“‘([-•"
                or _CALL_START.match(unit, match.end())):
            continue
        words = unit[start : match.start() + 1].split()
        if words and abbreviated(words[-1], unit[match.end():], " ".join(words[-2:-1])):
            continue  # "e.g. The", "J. Smith"
        if re.fullmatch(_ITEM_NUMBER, words[-1] if words else ""):
            # A list item's own number starts the item: "1. Use IDispatch …", "… the
            # following: 2. Write …" (not "… shown in Figure 2. The …").
            if len(words) == 1:
                continue
            if TERMINAL.search(words[-2]):
                number = unit.rindex(words[-1], start, match.end())
                pieces.append(unit[start:number])
                start = number
                continue
        pieces.append(unit[start : match.end()])
        start = match.end()
    pieces.append(unit[start:])
    return pieces
