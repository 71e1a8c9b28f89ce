"""What a question asks for, read from its wording alone: a quantity, a year or a version; a
definition; a command (how do I …?); a title; the names it spells out; how specific its words are."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath

from wordfreq import zipf_frequency

from app.rag.terms import STOPWORDS, WORD, plain_word, stemmed_terms, term_sequence

COMMON_ZIPF, SPECIFIC_SPAN = 6.0, 2.0  # see `specificity`
# (Also "what does COM stand for in the manual?": an acronym's words are what defines it.)
DEFINITION_QUESTION = re.compile(
    r"^what\s+(?:(?:is|are)\s+(?:an?\s+|the\s+)?([\w.+-]+(?:\s+[\w.+-]+){0,5})"
    r"|does\s+(?:an?\s+|the\s+)?([\w.+-]+(?:\s+[\w.+-]+){0,2}?)\s+stand\s+for"
    r"(?:\s+in\s+[\w.+'’ -]+)?)\s*\??$", re.I)
# "In R, what is …?", "According to the manual, what is …?"; "… what is X, as opposed to Y?".
_SCENE_CLAUSE = re.compile(r"^(?:in|according\s+to|within|for)\s+[^,?]{1,60},\s*", re.I)
_CONTRAST_CLAUSE = re.compile(r",\s*(?:as\s+opposed\s+to|compared\s+(?:with|to)|unlike|rather\s+than"
                              r"|according\s+to)\b[^?]*(?=\?*\s*$)", re.I)
# "How long is …?", "What is the average time …?": the answer is a number with a unit.
# (Also after a clause that sets the scene: "In the 128MB USB key example, how big was …?")
_QUANTITY_QUESTION = re.compile(
    r"(?:^|[,;:]\s*)how\s+(long|far|tall|high|deep|wide|thick|heavy|big|large|old|often|much|many|fast)\b"
    r"|(?:^|[,;:]\s*)(?:what\s+(?:is|was|are)\s+the|(?:is|are)\s+there\s+(?:a|an|any))\s+"
    r"(?:\w+\s+)?(time|duration|length|distance|height|depth|"
    r"width|thickness|weight|size|speed|age|number|price|cost|amount)\b", re.I)
_NUMBER = (r"(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
           r"twenty|thirty|forty|fifty|sixty|hundred|thousand|dozen|half|"
           # vague amounts still answer "how long does the build take?" ("a few minutes")
           r"few|several|couple of)")
_UNITS = {
    "length": r"yards?|yds?|feet|foot|ft|inch(?:es)?|miles?|(?:kilo|centi|milli)?met(?:re|er)s?"
              r"|km|cm|mm|m"
              # a text's length: "The maximum length for this field is 32 characters"
              r"|characters?|chars|digits|letters|words|lines",
    "time": r"(?:milli)?seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|ms|s",
    "weight": r"lbs?|pounds?|kg|kilo(?:gram)?s?|grams?|g|tons?|tonnes?|ounces?|oz|stone",
    "size": r"bytes?|bits?|[kmgt]i?b|pixels?|px",
    "speed": r"(?:miles?|kilomet(?:re|er)s?|km|feet|foot|ft|met(?:re|er)s?|yards?)\s*(?:an?|per)\s*"
             r"(?:hour|minute|second)|mph|km/h|kph|m/s|knots?",
}
# "70 miles an hour" is a speed, not a length ("how long is the run?").
_PER_TIME = r"(?!\s*(?:an?|per)\s+(?:hour|minute|second)\b|/h)"
_DIMENSION = {"long": ("length", "time", "size"), "far": ("length",), "tall": ("length",),
              "high": ("length",), "deep": ("length",), "wide": ("length",),
              "thick": ("length",), "heavy": ("weight",), "big": ("length", "size"),
              "large": ("length", "size"), "old": ("time",), "often": ("time",),
              "time": ("time",), "duration": ("time",), "length": ("length", "size"),
              "distance": ("length",), "height": ("length",), "depth": ("length",),
              "width": ("length",), "thickness": ("length",), "weight": ("weight",),
              "size": ("length", "size"), "speed": ("speed",), "fast": ("speed",),
              "age": ("time",)}
# A measure given with another dimension's word does not answer ("300 yards long" for "how
# thick is the ice?"); the words a question about one dimension accepts after the unit.
_DIMENSION_WORDS = frozenset({"long", "wide", "high", "deep", "thick", "tall"})
_ACCEPTS = {"long": {"long"}, "far": {"long"}, "tall": {"tall", "high"}, "high": {"high", "tall"},
            "deep": {"deep"}, "wide": {"wide"}, "thick": {"thick"}, "length": {"long"},
            "distance": {"long"}, "height": {"high", "tall"}, "depth": {"deep"},
            "width": {"wide"}, "thickness": {"thick"}}
# "In which year …?", "When was … sent?": a year answers (in a date or alone).
_YEAR_QUESTION = re.compile(r"\b(?:what|which)\s+year\b|^\s*when\s+(?:was|were|did)\b", re.I)
_YEAR = re.compile(r"\b(?:1[5-9]\d\d|20\d\d)s?\b")
# "Which version added …?", "Since what release …?": a version number answers ("v15.6.0", "3.9").
_VERSION_QUESTION = re.compile(r"\b(?:what|which)\s+(?:[\w.]+\s+)?(?:version|release)\b(?!\s+control)",
                               re.I)
# (Not a section number heading its title: "1.2 What is the ReportLab PDF Library?".)
_VERSION = re.compile(r"\bv\d+(?:\.\d+)*\b|\b\d+(?:\.\d+)+\b(?!\s+[A-Z][a-z])")
# A proper name the question spells out ("the Chicago Blackhawks", "Kyber", "CC'd"): capitalised,
# not the question's first word. Split on the apostrophe: "CC'd" is CC.
_PROPER_NAME = re.compile(r"(?<![\w.'’/-])[A-Z][\w-]*[A-Za-z](?=['’][a-z]{1,2}\b|[^\w'’]|$)")
# A name owning a document ("Benson's book") or a name from code ("Node's crypto.scrypt").
# The words by which a question names a document ("the R manual", "Benson's book").
_DOCUMENT_WORDS = ("manual", "paper", "tutorial", "documentation", "docs", "guide", "handbook",
                   "book", "article", "presentation")
_DOCUMENT_WORD = "|".join(_DOCUMENT_WORDS)
_DOCUMENT_TERMS = frozenset(term_sequence(" ".join(_DOCUMENT_WORDS)))
_FILE_NAME_SEPARATORS = re.compile(r"[_.\-]+")
_POSSESSOR = re.compile(r"\b[A-Z][\w-]*['’]s?(?=\s+(?:(?:[\w.+-]+\s+){0,2}?(?:" + _DOCUMENT_WORD
                        + r")s?\b|[\w$]+[.:_][\w$.:]+))")
# Names that set the context of a question, not its subject: one followed by a verb of saying or of
# holding a view (the author who says it: "What does Benson say …?", "Why does Benson think …?"),
# and one before "version" or "release" (what the version is of: "Since which Python version …?"
# over a module's docs, which never write "Python").
_CONTEXT_NAME = re.compile(r"\b[A-Z][\w-]*(?=\s+(?:say|says|said|write|writes|wrote|recommends?|suggests?|"
                      r"advises?|considers?|describes?|mentions?|warns?|explains?|claims?|argues?|thinks?|"
                      r"believes?|feels?|regards?|calls?|puts?|treats?|reproduces?|quotes?)\b)"
                      r"|\b[A-Z][\w.-]*[\w](?=\s+(?:version|release)s?\b)")
# Quantities a sentence may give without a number ("yearly", "as much as you like").
LOOSE_QUANTITIES = frozenset({"often", "much"})
# The tool or setting a question ends on ("… with matplotlib?", "… in pandas?"; not "… and in
# what units?", which asks what the answer is measured in).
_SETTING = re.compile(r"\b(?:in|with|using)\s+(?!(?:what|which|whose|how)\b)((?:[\w.+#-]+\s*){1,2})"
                      r"\?*\s*$", re.I)
# "Who wrote / edited / created …?": the verb asks for an author, whom a byline names without it.
AUTHORSHIP = re.compile(r"\s*who\s+(wrote|authored|edited|compiled|created|designed|developed)"
                        r"\b", re.I)
HOWTO_QUESTION = re.compile(
    r"^\s*(?:(?:how|where)\s+(?:do|can|could|should|would|may|must)\s+(?:i|we|you|one)\b"
    r"|how\s+to\b"
    r"|(?:what|which)\s+(?:\w+\s+)?(?:command|function|method|option|flag|argument|parameter|"
    r"setting|class|module|utility|tool|statement|operator|keyword|variable)s?\b)", re.I)
# "the R manual", "the Python tutorial", "the LayoutParser paper": the words name the document,
# not what it says ("tutorial" would favour a passage listing tutorials). Not "the manual page".
_DOCUMENT_REFERENCE = re.compile(
    r"\b(?:the|this|that|[\w.]+['’]s?)\s+(?:[\w.+-]+\s+){0,3}?"
    r"(" + _DOCUMENT_WORD + r")s?\b"
    r"(?!\s+(?:pages?|entry|entries|styles?|formats?|files?)\b)", re.I)
# An identifier written as code (see `spelled_identifiers`); the end of a question's sentence.
_CODE_TOKEN = re.compile(r"(?<![\w.])@?([A-Za-z_][\w.]*\w|[A-Za-z])(\(\))?")
_SLASHED = re.compile(r"(?<![\w/])[A-Z][A-Za-z0-9]*/[A-Za-z0-9]+\b")  # "PDF/UA", "TCP/IP"
_DOTTED = re.compile(r"(?<![\w.])[A-Za-z_]\w+(?:\.[A-Za-z_]\w+)+(?![\w(.])")
_FILE_EXTENSION = re.compile(r"\.(?:txt|iso|img|pdf|py|md|html?|cfg|conf|sh|json|xml|csv|org|com|io|js)$",
                             re.I)
_CAMEL = re.compile(r"^[a-z]+[A-Z]")  # "splitInRow"; not "ReportLab", a name
_MODEL = re.compile(r"(?=\w*\d)(?=\w*[A-Za-z])\w{3,}")  # "riscv64", "BLAKE3", "Z200"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
# Questions that ask for a title: headings are the answer then.
TITLE_QUESTION = re.compile(r"\b(?:title|heading|headline)s?\b", re.I)


def code_names(question: str) -> list[str]:
    """Code-like names and numbers in the question ("json.dumps", "is.na(x)", "2018"), lowered."""
    found = re.findall(r"[\w$%]+(?:[.:_][\w$%]+)+(?:\(\w*\))?|\b\w+\(\w*\)|\b\d{2,}\b"
                       r"|\b(?=\w*\d)(?=\w*[a-z])\w{2,}\b", question, re.IGNORECASE)
    names = {name.lower() for name in found}
    # "functools.total_ordering" is documented as "total_ordering", "json.dumps" as "dumps(".
    names |= {re.split(r"[.:]", n.split("(")[0])[-1] for n in names if re.search(r"[.:]\w", n)}
    return sorted(n for n in names if len(n) > 2)


def spelled_identifiers(question: str, *, dotted: bool = False) -> list[str]:
    """The identifiers the question's asking sentence spells out as code: with an underscore
    ("wchar_t", "__init_subclass__"), in camelCase ("splitInRow"), called ("strsplit()",
    without the brackets), of letters and digits ("riscv64", "BLAKE3") or a name with a slash
    ("PDF/UA"). Not those of a sentence setting the scene before it ("My COM method returns S_OK
    or S_FALSE … Which return type …?"): the asker's situation. With `dotted`, a called name
    with dots whole ("read.spss"), for a caller that also accepts its last part called."""
    asking = _SENTENCE_END.split(question.strip())[-1]
    names = _SLASHED.findall(asking)  # a standard's or a format's name: "PDF/A", "PDF/UA"
    for match in _CODE_TOKEN.finditer(asking):
        # "read.fwf()" by its last part, as "json.dumps" is documented as "dumps(".
        name = match.group(1).rsplit(".", 1)[-1]
        if match.group(2) or "_" in name or _CAMEL.match(name) or _MODEL.fullmatch(name):
            names.append(match.group(1) if dotted and match.group(2) else name)
    return names


def dotted_names(question: str) -> list[str]:
    """The dotted code names the question's asking sentence writes without calling them
    ("typing.Protocol", "cex.main", "json.tool"); not file names ("my-distro.iso") nor "i.e."."""
    asking = _SENTENCE_END.split(question.strip())[-1]
    return [name for name in _DOTTED.findall(asking) if not _FILE_EXTENSION.search(name)]


def without_context(question: str) -> str:
    """`question` without the names that set its context rather than its subject."""
    # "… according to Benson?" names the document's author, whom its passages seldom repeat, and
    # so do "What does Benson say …?" and "the jump Benson describes": the name that speaks.
    question = _CONTEXT_NAME.sub("", question)
    question = re.sub(r"\b(?:according\s+to|says?|said)\s+[^,;?]*", "", question, flags=re.I)
    # So does "Benson's book", and "Node's crypto.scrypt" the platform a whole document is about:
    # the possessor of a document or of a name from code is its context, not its subject.
    return _POSSESSOR.sub("", question)


def proper_names(question: str) -> list[list[str]]:
    """The capitalised names of `question`, word by word and grouped as written together
    ([["Chicago", "Blackhawks"]], [["Louis", "Blues"]] for "St. Louis Blues", [["CC"]]): not its
    first word nor a capitalised stop word; three letters or more ("R", "Ax" are no names)."""
    names: list[list[str]] = []
    question = without_context(question)
    end = -1
    for match in _PROPER_NAME.finditer(question):
        before, name = question[: match.start()].rstrip(), match.group()
        # After a full stop, a new sentence starts, unless it ends an abbreviation: "St. Louis".
        sentence_start = not before or before[-1] in "?!:;\"“(" or (
            before[-1] == "." and not re.search(r"(?:^|\s)[A-Z][a-z]{0,2}\.$", before))
        if sentence_start or name.lower() in STOPWORDS:
            continue
        if len(name) >= 3 or name.isupper():  # acronyms too ("CC"); not "Ax" in "Ax = b"
            if names and re.fullmatch(r"\s+", question[end : match.start()]):
                names[-1].append(name)  # "Chicago Blackhawks": one name
            else:
                names.append([name])
            end = match.end()
    return names


def specificity(term: str, question: str) -> float:
    """How much a question word says what the question is about, from its frequency in
    English: 0 for the commonest words ("get", "one"), 1 for rare ones ("coroutine")."""
    words = [w for w in WORD.findall(question) if term in stemmed_terms(w, parts=False)]
    zipf = max((zipf_frequency(plain_word(w), "en", wordlist="small") for w in words), default=0.0)
    return min(1.0, max(0.0, (COMMON_ZIPF - zipf) / SPECIFIC_SPAN))


def definition_subject(question: str) -> str | None:
    """What a "what is X?" question asks to define: "generators" in "What are generators in
    Python?" (the context after in/of/for names where, not what). None for a question that ends
    on a preposition: "What is the cached_property decorator useful for?" asks for a purpose."""
    phrase = defined_phrase(question)
    if not phrase or re.search(r"\s(?:for|of|on|in|with|about|to|from|by)$", phrase, re.I):
        return None
    return re.split(r"\s+(?:in|of|for|on|within|from)\s+", phrase.lower())[0]


def defined_phrase(question: str) -> str | None:
    """All that a "what is X?" (or "what does X stand for?") question asks to define: "the
    capital of Australia"; also behind a clause that sets the scene or after one that draws a
    contrast: "In the functools docs, what is a key function, as opposed to an old-style
    comparison function?" asks for "key function"."""
    asked = _CONTRAST_CLAUSE.sub("", _SCENE_CLAUSE.sub("", question.strip()))
    match = DEFINITION_QUESTION.match(asked)
    return (match[1] or match[2]) if match else None


# What "how many" counts: the last word before the verb ("pre-trained models" in "How many
# pre-trained models does … contain?").
_COUNTED = re.compile(r"\s+(?:[\w-]+\s+){0,2}?([a-z][\w-]*)\s+(?:do|does|did|are|is|was|were|can"
                      r"|could|will|would|should|may|must|have|has|had|make|made)\b", re.I)


# "What is the default …?", "… if I don't pass one?", "… if I leave out the namedCurve option?":
# a default value answers (what states one: `extractive._STATES_DEFAULT`).
_DEFAULT_QUESTION = re.compile(
    r"\bdefault\b|\bleave\s+out\b|\bomit|\bnever\s+(?:set|call|give|pass)"
    r"|\b(?:don['’]?t|do\s+not|doesn['’]?t)\s+(?:pass|give|set|specify|provide|supply)\b"
    r"|\bwithout\s+(?:giving|passing|setting|specifying)\b", re.I)
_COMPOUND = re.compile(r",?\s+and\s+(?:what|which|how|where|when|who|why|is|are|does|do|can)\b",
                       re.I)


# "Which conference do the Flyers play in …?", "In which arena …?": the kind of thing the question
# asks for by name, the (at most three) words between "what"/"which" and the question's verb.
_ASKED_KIND = re.compile(
    r"^\s*(?:(?:in|on|at|from|under|for|by|with|to|of|through)\s+)?(?:what|which)\s+"
    r"((?:[\w-]+\s+){0,2}?[\w-]+)\s+(?:does|do|did|is|are|was|were|can|could|should|has|have|had"
    r"|will|would)\b", re.I)


def asked_kind(question: str) -> str | None:
    """What the question asks for by name: "conference" in "Which conference do the Flyers play
    in?"; None when it does not ask "what X …" or "which X …"."""
    match = _ASKED_KIND.match(question)
    return match.group(1) if match else None


# Kinds of value with a shape of their own, and that shape: "What phone number does … give?" is
# answered by a phone number, "Which environment variable …?" by a name in capitals
# ("R_LIBS_USER", "HOME"), "What exception does … raise?" by an exception's name.
_SHAPED_KINDS = (
    (re.compile(r"(?:tele)?phone(?:\s+number)?|fax(?:\s+number)?"),
     # seven digits or more, apart at most by a space, dot, dash or bracket ("+41 81 833 12 34"),
     # and no time of day: "23 Dec 2022 12:08:48" holds none.
     re.compile(r"(?<![\w:.])(?=(?:[ ().+-]{0,2}\d){7})\+?[\d ().-]*\d(?![\w:])")),
    (re.compile(r"e-?mail\s+address"), re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    (re.compile(r"(?:[\w-]+\s+)?(?:exception|error)(?:\s+class)?"),
     re.compile(r"\b\w*(?:Error|Exception|Failure)\b|\bERR_\w+")),
    (re.compile(r"environment\s+variables?"),
     re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b|\b[A-Z]{3,}\b")),
    (re.compile(r"(?:exit|return)\s+(?:status|code)"), re.compile(r"\b\d+\b")),
)


# "Who invented JSON?", "Who is the editor of the URL Standard?": someone by name (not "Who
# steers a bobsleigh?", answered by a role: "the brakesman").
_WHO_BY_NAME = re.compile(
    r"\s*who\s+(?:(?:is|was|are|were)\s+(?:the\s+)?(?:[\w-]+\s+){0,3}?(?:author|editor|maintainer|"
    r"president|founder|inventor|creator|designer|developer|publisher|illustrator|chairman|"
    r"secretary|captain|winner|champion|owner|architect)s?\b|(?:first\s+)?(?:invented|wrote|founded|"
    r"discovered|created|designed|developed|edited|maintains|published|illustrated|won|built)\b)",
    re.I)
# A name: "E. F. Benson", "Mallori Harrell", "Just van Rossum", "George Allen & Company".
_NAMED = re.compile(r"\b(?:[A-Z]\.\s*)+[A-Z][a-z'’]+|\b[A-Z][a-z'’]+(?:\s+(?:van|von|de|der|da|"
                    r"di|du|le|la|&))?\s+[A-Z][a-z'’]+")


# "Which key combination undoes my last edit …?" (whatever the verb): keys, as manuals write them
# ("C-r", "M-b", "Ctrl+C", "ESC", "^D").
_KEYS_ASKED = re.compile(r"\b(?:what|which)\s+(?:[\w-]+\s+){0,2}?(?:key\s+(?:combination|binding|"
                         r"sequence|chord)|keyboard\s+shortcut)s?\b", re.I)
_KEYS = re.compile(r"\b(?:C|M|Ctrl|Control|Alt|Meta|Shift|Cmd|Command|Super)[-+]\S|\b(?:Esc|ESC|Escape)\b"
                   r"|\^[A-Z]\b")


def asked_shape(question: str) -> re.Pattern[str] | None:
    """The shape of the value a "what X …?" / "which X …?" question asks for, when X is a kind
    of value that has one (`_SHAPED_KINDS`), a name for a question asking who did something or
    holds some office, keys for one asking which key combination does something: what an answer
    must show."""
    if _WHO_BY_NAME.match(question):
        return _NAMED
    if _KEYS_ASKED.search(question):
        return _KEYS
    kind = asked_kind(question)
    if kind is None:
        return None
    return next((shape for kinds, shape in _SHAPED_KINDS if kinds.fullmatch(kind.lower())), None)


def asks_default(question: str) -> bool:
    """Whether `question` asks what happens or what is used by default, and only that (not how to
    change it: "How can I change the default user name …?" is answered by a command; nor
    "What does splitInRow control, and what is its default?", answered in part by what it does)."""
    return (bool(_DEFAULT_QUESTION.search(question)) and not HOWTO_QUESTION.match(question)
            and not _COMPOUND.search(question))


def asks_version(question: str) -> bool:
    """Whether `question` asks for a version or a release ("Since which Python version …?")."""
    return asked_quantity(question)[1] is _VERSION


# "In which version was X added?", "Since which Python version can I …?": the question dates one
# thing, and a version note dates one entry ("Changed in version 3.4: Added support for …").
_DATING = re.compile(r"\b(?:added|introduced|new|gain(?:ed|s)?|removed|deprecated|changed|since"
                     r"|first)\b", re.I)
_DATING_TERMS = frozenset(stemmed_terms("added introduced new gained removed deprecated changed "
                                        "since first version release which what"))
# Words of an API reference that every entry's note may hold: they name no entry.
_API_TERMS = frozenset(stemmed_terms("parameter argument option attribute function method class "
                                     "module value support"))


@dataclass(frozen=True, slots=True)
class DatedSubject:
    """What a question asking when something changed is about: the code names it spells
    (each as its terms: "allow_nan" as allow, nan) and its other content words."""

    names: tuple[tuple[str, ...], ...]
    topic: frozenset[str]

    def dated_by(self, text: str) -> bool:
        """Whether `text` (what a version note says, or the entry a bare note closes) speaks of
        it: one name whole ("randomuuid", or random and uuid), or one of its other words."""
        held = set(stemmed_terms(text))
        return self.named_by(text) or bool(self.topic & held)

    def named_by(self, text: str) -> bool:
        """Whether `text` (an entry's signature) names one of its code names whole."""
        held = set(stemmed_terms(text))
        return any(_holds_name(held, name) for name in self.names)


def _holds_name(held: set[str], name: tuple[str, ...]) -> bool:
    """A name's terms, as `stemmed_terms` gives them: "allow_nan" is (allow, nan), both needed;
    "randomUUID" is (randomuuid, random, uuid), the first or the others."""
    if len(name) > 1 and name[0].startswith(name[1]) and name[0] in held:
        return True
    return set(name[1:] if len(name) > 1 and name[0].startswith(name[1]) else name) <= held


def dated_subject(question: str) -> DatedSubject | None:
    """For "In which Python version was the allow_nan parameter added to json.dumps?", what
    the version note giving the answer must speak of; None for other questions (and for one
    whose words are all phrasing)."""
    if not asks_version(question) or not _DATING.search(question):
        return None
    # What the version is of ("Python", "Node.js") is the setting, not the subject.
    of = set(stemmed_terms(" ".join(re.findall(r"([\w.+-]+)\s+(?:version|release)s?\b",
                                                question, re.I))))
    names: list[tuple[str, ...]] = []
    parts: set[str] = set()
    for name in code_names(question):
        # As the question writes it: "randomUUID" is randomuuid, or random and uuid.
        spelled = re.search(re.escape(name), question, re.I)
        whole = spelled.group(0) if spelled else name
        parts |= set(stemmed_terms(whole))
        terms = tuple(stemmed_terms(re.split(r"[.:]", whole.split("(")[0])[-1]))
        if terms and not set(terms) <= of and terms not in names:
            names.append(terms)
    topic = frozenset(set(stemmed_terms(question)) - _DATING_TERMS - _API_TERMS - of - parts)
    if not names and not topic:
        return None
    return DatedSubject(tuple(names), topic)


def asked_quantity(question: str) -> tuple[str | None, re.Pattern[str] | None]:
    """For a question asking for a quantity, the word that asks it ("long" in "how long …",
    no subject of its own) and the pattern of a number with a unit of that dimension."""
    if _YEAR_QUESTION.search(question):
        return None, _YEAR
    if _VERSION_QUESTION.search(question):
        return None, _VERSION
    match = _QUANTITY_QUESTION.search(question.strip())
    if not match:
        return None, None
    word = (match.group(1) or match.group(2)).lower()
    if word == "many":
        counted = _COUNTED.match(question, match.end())
        if counted:
            # "How many pre-trained models …?": a number near "models" ("14 standard fonts",
            # "Stanley Cups: 13"), not any number of the passage.
            noun = re.escape(counted.group(1)[:-1] if counted.group(1).endswith("s")
                             else counted.group(1))
            near = r"(?:\W+\w+){0,4}?\W+"
            return word, re.compile(rf"\b{_NUMBER}\b{near}{noun}\w*|\b{noun}\w*{near}{_NUMBER}\b",
                                    re.I)
    units = "|".join(_UNITS[d] for d in _DIMENSION.get(word, ()))
    other = sorted(_DIMENSION_WORDS - _ACCEPTS[word]) if word in _ACCEPTS else []
    another = rf"(?!\s+(?:{'|'.join(other)})\b)" if other else ""
    # "1300 yards", "128-bit"
    pattern = (rf"\b{_NUMBER}(?:\s*|-)(?:{units})\b{_PER_TIME}{another}" if units
               else rf"\b{_NUMBER}\b")
    return (word if match.group(1) else None), re.compile(pattern, re.I)


# What the quantity is of: "the salt" in "How long should the salt be when …?", "a line of
# code" in "How long may a line of code be …?".
_MEASURED = re.compile(
    r"\bhow\s+\w+\s+(?:is|are|was|were|should|must|may|can|could|will|would|does|do)\s+"
    r"(?:(?:an?|the|my|our|your|its|their|each)\s+)?((?:[\w-]+\s+){0,1}[\w-]+?)"
    r"(?=\s+(?:of|be|in|on|for|when|if|under|with|at|to|after|before)\b|\s*[?,]|$)", re.I)


def measured(question: str) -> list[str]:
    """The terms of what a "how long / big / thick …?" question measures ("salt" in "How long
    should the salt be when I derive a key?"): a sentence that holds it and gives a quantity of
    the kind asked answers, however few of the question's other words it repeats."""
    match = _MEASURED.search(question)
    return stemmed_terms(match.group(1), parts=False) if match else []


def document_words(question: str) -> list[str]:
    """The words by which a question names the document it asks about: "manual" in "What does
    the camlidl manual recommend …?"."""
    return [match.group(1).lower() for match in _DOCUMENT_REFERENCE.finditer(question)]


def in_setting(question: str, name: str) -> bool:
    """Whether `name` (a proper name of `question`) is the platform or tool the question is set
    in ("in Node.js when …", "with Platypus, …"), not what it asks about."""
    return bool(re.search(rf"\b(?:in|with|using)\s+{re.escape(name)}\b", question, re.I))


def asked_names(question: str) -> list[list[str]]:
    """The proper names of `question` that say what it asks about: not the platform or tool it
    is set in ("… with ReportLab?"), nor a name of the document it asks ("the Python tutorial")."""
    return [name for name in proper_names(question)
            if not in_setting(question, " ".join(name))
            and not names_document(question, " ".join(name))]


def names_document(question: str, name: str) -> bool:
    """Whether `name` (a proper name of `question`) names the document it asks about ("the
    Python tutorial", "the LayoutParser paper"): its passages need not repeat it."""
    return bool(re.search(rf"\b{re.escape(name)}\s+(?:[\w.+-]+\s+){{0,2}}?(?:{_DOCUMENT_WORD})s?\b",
                          question, re.I))


def setting_phrase(question: str) -> str | None:
    """The tool or setting a question ends on: "matplotlib" in "How do I draw a bar chart with
    matplotlib?", "Node.js" in "… in Node.js?"."""
    match = _SETTING.search(question.strip())
    return match.group(1) if match else None


def file_name_terms(filename: str) -> list[str]:
    """The words of a file name without its extension, stemmed as a question's are:
    "winter-sports.epub" is ["winter", "sport"]. Words with digits ("1.04", "a1977") and one
    letter ("R-intro") name nothing a question would write."""
    stem = _FILE_NAME_SEPARATORS.sub(" ", PurePath(filename).stem)
    return [t for t in term_sequence(stem) if not any(c.isdigit() for c in t)]


def file_words(question: str, filename: str) -> set[str]:
    """The words of `question` that are words of the file name `filename` ("camlidl" of
    camlidl-1.04.doc.pdf), not words for a document ("manual", "guide")."""
    return (set(stemmed_terms(question, parts=False)) & set(file_name_terms(filename))) - _DOCUMENT_TERMS


def naming_terms(question: str, filename: str) -> set[str]:
    """The words by which `question` names the document `filename` (none: it does not name it):
    two consecutive words of the name ("the sample presentation", "Winter Sports in
    Switzerland" for winter-sports.epub), or one of them just before a word for a document
    ("the crypto documentation", "the ReportLab user guide")."""
    asked, own = term_sequence(question), file_name_terms(filename)
    pairs = set(itertools.pairwise(own))
    found = {term for pair in itertools.pairwise(asked) if pair in pairs for term in pair}
    return found | {term for i, term in enumerate(asked)
                    if term in own and term not in _DOCUMENT_TERMS
                    and any(after in _DOCUMENT_TERMS for after in asked[i + 1:i + 3])}


def names_file(question: str, filename: str) -> bool:
    """Whether `question` names the document `filename` (see `naming_terms`)."""
    return bool(naming_terms(question, filename))


def without_naming(question: str, filenames: Sequence[str]) -> str:
    """`question` without the words by which it names the documents `filenames` (and a word for
    a document right after them: "the camlidl manual"): "How large is the skating rink at
    Villars, according to Winter Sports in Switzerland?" is "How large is the skating rink at
    Villars, according to in Switzerland?" (winter-sports.epub), as that document's passages
    never write its title except on its title page. Unchanged when it names none of them, or
    when nothing else would remain ("What is the sample presentation?")."""
    naming = set().union(*(naming_terms(question, name) for name in filenames))
    if not naming:
        return question
    words = list(WORD.finditer(question))
    terms = [term_sequence(m.group(0)) for m in words]
    drop = [bool(t) and all(term in naming for term in t) for t in terms]
    for i, t in enumerate(terms):  # "manual" in "the camlidl manual", not "paper" of "paper size"
        if t and all(term in _DOCUMENT_TERMS for term in t) and any(drop[max(0, i - 2):i]):
            drop[i] = True
    gone = iter(drop)
    kept = WORD.sub(lambda m: "" if next(gone) else m.group(0), question)
    kept = re.sub(r"\s+(?=[?!.,;:])", "", " ".join(kept.split()))
    return kept if term_sequence(kept) else question


# Code a question quotes: a call with arguments, calls nested two deep in them ("new
# URL('https:Example.com/', 'https://x/')", "factorial(12)", "list(data[i] for i in
# range(len(data)-1, -1, -1))"), a quoted string (not from the apostrophe of "tutorial's"), a
# nested list, a number with decimals ("1234.5678").
_QUOTED_CODE = re.compile(
    r"[A-Za-z_][\w.]*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))+\)"
    r"|(?<!\w)'[^'\n]{4,}'(?!\w)|\"[^\"\n]{4,}\"|\[\[[^\n]+?\]\]|\b\d+\.\d{3,}\b")
QUOTED_CODE_CHARS = 8  # shorter quotes ("'user'") recur in many examples


def quoted_code(question: str) -> list[str]:
    """The code fragments `question` quotes, as written: "What URL does new URL('https:x.com/',
    'https://example.org/') produce?" quotes the call."""
    return [m.group(0) for m in _QUOTED_CODE.finditer(question)
            if len(m.group(0)) >= QUOTED_CODE_CHARS]


_CALLED = re.compile(r"([A-Za-z_][\w.]*)\(\)")
_LITERAL = re.compile(r"'([^'\n]+)'|\"([^\"\n]+)\"")


def called_with(question: str, texts: list[str]) -> set[str]:
    """The calls of the passages' code that `question` names with arguments it spells out
    elsewhere: "What does url.domainToASCII() return for the domain 中文.com?" quotes
    "url.domainToASCII('中文.com')" when a passage writes it (its every string argument is in the
    question, and it has one)."""
    names = {name for name in _CALLED.findall(question) if len(name) >= QUOTED_CODE_CHARS // 2}
    calls: set[str] = set()
    for name in names:
        for text in texts:
            for match in re.finditer(rf"{re.escape(name)}\(([^()\n]*)\)", text):
                literals = [a or b for a, b in _LITERAL.findall(match.group(1))]
                if literals and all(literal in question for literal in literals):
                    calls.add(match.group(0))
    return calls
