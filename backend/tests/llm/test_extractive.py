from __future__ import annotations

import functools
import re
from dataclasses import replace
from pathlib import Path

import pytest

from app.ingestion.parsers import extract as parse
from app.ingestion.sniff import sniff_file
from app.ingestion.types import ExtractionLimits
from app.providers.llm import ChatMessage, ChatModel, GenerationParams
from app.rag import extractive
from app.rag.byline import affiliation
from app.rag.citations import repair_citations
from app.rag.extractive import (
    EVIDENCE_FLOOR,
    LEAD,
    NO_ANSWER,
    Extract,
    ExtractiveChatModel,
    answers,
    extract,
    extractive_answer,
    floor_for,
)
from app.rag.prompts import Source, build_answer_messages
from app.rag.question import (
    asked_kind,
    asked_quantity,
    asked_shape,
    asks_default,
    called_with,
    dated_subject,
    definition_subject,
    document_words,
    dotted_names,
    measured,
    proper_names,
    quoted_code,
    setting_phrase,
    spelled_identifiers,
)
from app.rag.sentences import split_sentences
from app.rag.terms import acronyms, content_terms, joined_terms, with_acronyms

MANUAL = """3.2 Timeouts
The default request timeout is 30 seconds. It can be changed with the TIMEOUT
setting, e.g. TIMEOUT=60 for slow networks.
Connections that stay idle for more than five minutes are closed by the server.

Uploads
Files larger than 50 MB are rejected with an error [12]. Supported formats include PDF,
DOCX and plain text."""
OPERATIONS = """The scheduler runs every night at 2 a.m. and removes expired sessions. Dr. Smith
wrote the scheduler in 2019. Backups are kept for thirty days before they are deleted."""
FAQ = """Why was my upload rejected? Uploads are rejected when the file is larger than the limit
or when its format is not supported. The request timeout applies to uploads as well."""


def sources() -> list[Source]:
    texts = [("manual.pdf", MANUAL), ("operations.pdf", OPERATIONS), ("faq.md", FAQ)]
    return [Source(index=i, document_id=f"d{i}", filename=name, page=i, chunk_id=f"c{i}",
                   text=text, score=1.0 - i / 10) for i, (name, text) in enumerate(texts, 1)]


def body_sentences(answer: str) -> list[str]:
    assert answer.startswith(LEAD + "\n\n")
    return re.findall(r"[^\n]*?\[\d+\][.!?…]?", answer.removeprefix(LEAD))


def test_split_sentences() -> None:
    assert split_sentences(MANUAL) == [
        "3.2 Timeouts",
        "The default request timeout is 30 seconds.",
        "It can be changed with the TIMEOUT setting, e.g. TIMEOUT=60 for slow networks.",
        "Connections that stay idle for more than five minutes are closed by the server.",
        "Uploads",
        "Files larger than 50 MB are rejected with an error [12].",
        "Supported formats include PDF, DOCX and plain text.",
    ]
    assert split_sentences("- first item here\n- second item\n\nPara-\ngraph text. Next one.") == [
        "- first item here", "- second item", "Paragraph text.", "Next one."]
    # An initial joins the name after it; a one-letter name before a function word ends its
    # sentence (the R manual: "… a model formula in R. The form, for an ordinary …").
    assert split_sentences("Written by J. Smith of St. Moritz. The operator ~ is used in R. "
                           "The form is fixed.") == [
        "Written by J. Smith of St. Moritz.", "The operator ~ is used in R.", "The form is fixed."]
    # A sentence may start with a call in lower case (the R manual).
    assert split_sentences("The default is no plotting. locator() returns the points.") == [
        "The default is no plotting.", "locator() returns the points."]



def test_a_code_statement_over_several_lines_ends_where_its_brackets_close() -> None:
    # R-intro p. 23: the sentence that answers "which function computes the mean per group?"
    # was the tail of the code above it, its score diluted by thirty numbers.
    text = ("in another vector (in suitably large units of money)\n"
            "> incomes <- c(60, 49, 40, 61, 64, 60, 59, 54, 62, 69, 70, 42, 56,\n"
            "61, 61, 61, 58, 51, 48, 65, 49, 49, 41, 48, 52, 46,\n"
            "59, 46, 58, 43)\n"
            "To calculate the sample mean income for each state we can now use the special "
            "function\ntapply():\n"
            "> incmeans <- tapply(incomes, statef, mean)\n")
    assert split_sentences(text) == [
        "in another vector (in suitably large units of money)",
        "> incomes <- c(60, 49, 40, 61, 64, 60, 59, 54, 62, 69, 70, 42, 56, 61, 61, 61, 58, 51, "
        "48, 65, 49, 49, 41, 48, 52, 46, 59, 46, 58, 43)",
        "To calculate the sample mean income for each state we can now use the special "
        "function tapply():",
        "> incmeans <- tapply(incomes, statef, mean)"]

def test_picks_the_sentence_that_answers() -> None:
    answer = extractive_answer("What is the default request timeout?", sources())
    assert "The default request timeout is 30 seconds [1]." in answer
    assert "Backups" not in answer and "scheduler" not in answer


def test_every_sentence_cited_with_a_valid_index() -> None:
    answer = extractive_answer("Why are uploads rejected and how big can files be?", sources())
    lines = body_sentences(answer)
    assert len(lines) >= 2
    for line in lines:
        assert re.search(r"\[(1|2|3)\][.!?…]?$", line.strip())
    assert "Files larger than 50 MB are rejected with an error [1]." in answer  # no "[12]"
    assert "Uploads are rejected when the file is larger than the limit" in answer
    # A question is no answer: the FAQ's question comes only with the answer after it, which
    # carries the citation (the question claims nothing).
    assert "Why was my upload rejected? Uploads are rejected when" in answer
    assert re.findall(r"[^.!?\n]*\?", answer) == ["Why was my upload rejected?"]
    repaired = repair_citations(answer, {1, 2, 3})
    assert repaired.text == answer  # nothing for the pipeline to repair
    assert set(repaired.cited) <= {1, 3}


def test_nothing_invented() -> None:
    answer = extractive_answer("How long are backups kept?", sources())
    corpus = " ".join(" ".join(s.text.split()) for s in sources())
    for line in body_sentences(answer):
        plain = re.sub(r" \[\d+\]", "", line.strip())
        assert plain in corpus


def test_sentence_order_within_a_source_and_limit() -> None:
    answer = extractive_answer("timeout TIMEOUT setting idle connections server seconds",
                               sources(), max_sentences=2)
    # Two picks; the first is shown with the sentence that continues it ("It can be changed …").
    assert len(body_sentences(answer)) == 3
    # "Connections …" matches more of the question, yet the answer keeps the document's order.
    assert answer.index("default request timeout") < answer.index("Connections that stay idle")


def test_deterministic() -> None:
    question = "Which formats are supported for uploads?"
    assert len({extractive_answer(question, sources()) for _ in range(5)}) == 1


def test_empty_when_nothing_matches() -> None:
    assert extractive_answer("Who painted the Mona Lisa?", sources()) == ""
    assert extractive_answer("What is the timeout?", []) == ""
    assert extractive_answer("the of and?", sources()) == ""


def test_near_duplicates_collapsed() -> None:
    sentence = "The default request timeout is 30 seconds."
    copies = [Source(i, f"d{i}", "x.pdf", 1, f"c{i}", sentence, 0.5) for i in (1, 2)]
    answer = extractive_answer("default request timeout", copies)
    assert answer.count("30 seconds") == 1 and "[1]" in answer


def test_semantic_scores_can_rescue_paraphrases() -> None:
    question = "How long do we retain archives?"
    assert extractive_answer(question, sources()) == ""
    backups = split_sentences(OPERATIONS).index(
        "Backups are kept for thirty days before they are deleted.")
    answer = extractive_answer(question, sources(), embed_scores={(2, backups): 0.8})
    assert "Backups are kept for thirty days before they are deleted [2]." in answer


@pytest.mark.eval_docs
def test_real_manual_passage(eval_docs: Path) -> None:
    path = eval_docs / "txt" / "live-manual.en.txt"
    paragraphs = [p for p in re.split(r"\n\s*\n", path.read_text()) if len(p) > 200]
    retrieved = [p for p in paragraphs if "timeout" in p or "kernel flavour" in p][:5]
    docs = [Source(i, "live", "live-manual.en.txt", 1, f"c{i}", text, 0.0)
            for i, text in enumerate(retrieved, 1)]
    answer = extractive_answer("What is the default boot timeout of syslinux?", docs)
    best = body_sentences(answer)[0]
    assert "syslinux derivatives are configured by default with a timeout of 0" in best


async def test_chat_model_streams_small_groups() -> None:
    model = ExtractiveChatModel(words_per_delta=3)
    assert isinstance(model, ChatModel) and model.model_id == "extractive"
    question = "What is the default request timeout?"
    deltas = [d async for d in model.answer_stream(question, sources())]
    assert len(deltas) > 3
    assert all(len(d.split()) <= 3 for d in deltas)
    assert "".join(deltas) == extractive_answer(question, sources())
    missing = [d async for d in model.answer_stream("Who painted the Mona Lisa?", sources())]
    assert "".join(missing) == NO_ANSWER
    await model.ping()
    await model.aclose()


async def test_chat_model_reads_the_answer_prompt() -> None:
    question = "What is the default request timeout?"
    messages = build_answer_messages(question, sources(), [ChatMessage("user", "hi"),
                                                           ChatMessage("assistant", "hello")],
                                     context_tokens=10_000, count_tokens=lambda t: len(t.split()))
    text = await ExtractiveChatModel().complete(messages, GenerationParams())
    assert text == extractive_answer(question, sources())


# ---- answer-bearing windows, names, follow-up context, "not found" (issue 14) ----------------

R_PAGE = """Commands stored in an external file are executed at any time in an R session with the
command

> source("commands.R")

1.7 Getting help ................................ 12
2.3 Reading data ................................ 34

The function sink("record.lis") will divert all subsequent output from the console to an
external file. The command sink() restores it to the console once again."""

LIVE_MANUAL = """Then, run the lb config command. This will create a "config/" hierarchy in the
current directory for use by other commands: 「183」

$ lb config

「184」

Now build the image with the lb build command: 「186」

# lb build"""

JSON_PAGE = """If indent is a non-negative integer or string, then JSON array elements and object
members will be pretty-printed with that indent level. An indent level of 0 only inserts newlines.

If separators is given, it should be an (item_separator, key_separator) tuple. To get the most
compact JSON representation, specify (',', ':') to eliminate whitespace.

Compact encoding in the json.dumps example:

>>> json.dumps([1, 2, 3], separators=(',', ':'))"""

MAIL = """Subject: Quarterly figures attached

From: Dana Whitfield <dana@example.org>

To: Team <team@example.org>

Hello, the figures for the third quarter are in the attached sheet."""


def doc_sources(*texts: str) -> list[Source]:
    return [Source(index=i, document_id=f"d{i}", filename=f"doc{i}.pdf", page=i, chunk_id=f"c{i}",
                   text=text, score=1.0) for i, text in enumerate(texts, 1)]


def test_a_line_of_code_between_two_picked_sentences_is_quoted_as_code() -> None:
    page = ("By default the R function does not assume equality of variances in the two "
            "samples. We can use the F test to test for equality in the variances, provided "
            "that the two samples are from normal populations.\n> var.test(A, B)\n"
            "F test to compare two variances of the samples A and B: F = 0.5837, p-value = "
            "0.3938, so the variances of the two samples are equal.")
    answer = extractive_answer("How can I check whether my two samples have equal variances?",
                               doc_sources(page))
    assert "normal populations [1]. `> var.test(A, B)` [1] F test to compare" in answer


def test_a_sentence_brings_the_command_it_introduces() -> None:
    answer = extractive_answer("How do I run R commands stored in a file?", doc_sources(R_PAGE))
    assert '`> source("commands.R")` [1]' in answer
    # The table of contents is never an answer, even when it holds the question's words.
    assert "...." not in answer and "Reading data" not in answer


def test_a_sentence_that_restates_the_question_brings_the_one_that_answers_it() -> None:
    # (The json module's security note.) "Be cautious when parsing …" is all the question's own
    # words; what the risk is, the next sentence says.
    page = ("Be cautious when parsing JSON data from untrusted sources. A malicious JSON string "
            "may cause the decoder to consume considerable CPU and memory resources. Limiting "
            "the size of data to be parsed is recommended.\n\n"
            "Basic usage. Serialize obj as a JSON formatted stream to fp.")
    question = "Is it risky to parse JSON from untrusted sources with Python's json module?"
    found = body_sentences(extractive_answer(question, doc_sources(page)))
    assert found[0] == "Be cautious when parsing JSON data from untrusted sources [1]."
    assert found[1].strip().startswith("A malicious JSON string may cause the decoder to consume")
    # A sentence with words of its own is no restatement: it stands alone.
    other = extractive_answer("Which resources can a malicious JSON string consume?",
                              doc_sources(page))
    assert "Be cautious" not in other and "Limiting the size" not in other


def test_a_sentence_set_against_the_answer_joins_it() -> None:
    # (functools: cached_property.) The sentence the question's words pick says what a plain
    # property does; the answer is the next one, which sets cached_property against it.
    page = ("The mechanics of cached_property are somewhat different from property. A regular "
            "property blocks attribute writes unless a setter is defined. In contrast, a "
            "cached_property allows writes.\n\nThe cached value can be cleared by deleting the "
            "attribute.")
    question = ("Can I assign a new value to an attribute defined with cached_property, the way I "
                "can't with a plain property that has no setter?")
    # One pick: the sentence the words choose, and what continues it.
    found = body_sentences(extractive_answer(question, doc_sources(page), max_sentences=1))
    assert found[0].startswith("A regular property blocks attribute writes")
    assert found[1].strip().startswith("In contrast, a cached_property allows writes")


def test_what_must_then_be_done_follows_the_sentence_it_depends_on() -> None:
    # (Winter Sports in Switzerland, the ice-hockey rules.) "What happens if the score is level?"
    # picks the rule defining a tie; what happens is the next sentence, "… must then be played".
    page = ("6. The match is won by the team who scores the greater number of goals. If, when "
            "time is called, the number of goals is the same on both sides, the match is said to "
            "be a tie. Five minutes each way must then be played until the tie is decided, or the "
            "teams may arrange another match.\n\n7. A referee shall be appointed.")
    question = "What happens if the number of goals is the same when time is called?"
    found = body_sentences(extractive_answer(question, doc_sources(page), max_sentences=1))
    assert "the match is said to be a tie" in found[0]
    assert found[1].strip().startswith("Five minutes each way must then be played")


def test_a_sentence_that_announces_what_follows_brings_the_one_that_names_it() -> None:
    # (R-intro, robust regression.) The announcing sentence holds the question's words; the
    # functions it announces are in the next one, which shares none of them.
    page = ("Robust regression. There are several functions available for fitting regression "
            "models in a way resistant to the influence of extreme outliers in the data. Function "
            "lqs in the recommended package MASS provides state-of-art algorithms for "
            "highly-resistant fits.\n\n"
            "Additive models. This technique aims to construct a regression function from smooth "
            "additive functions of the determining variables.")
    question = "Which R functions fit a regression that isn't thrown off by a few extreme outliers?"
    found = body_sentences(extractive_answer(question, doc_sources(page)))
    assert found[0].startswith("There are several functions available for fitting regression")
    # (Alone, the naming sentence scores under the relative floor: it shares no word with the
    # question but "functions"; before this rule the answer was the announcement alone.)
    assert found[1].strip().startswith("Function lqs in the recommended package MASS")


def test_a_long_code_line_cut_short_is_closed_so_the_answer_still_cites() -> None:
    # A code display longer than a sentence may be is cut; cut inside its backticks, the marker
    # after it was code and the answer cited nothing (QA held-out h08, a ReportLab call).
    options = ", ".join(f"option{i}=None" for i in range(40))
    page = ("Balanced columns\n\nTo balance a list of flowables over several columns, wrap them "
            f"in BalancedColumns:\n\nstory.append(BalancedColumns(F, nCols=2, {options}))\n\n"
            "The columns are then filled evenly.")
    answer = extractive_answer("How do I balance flowables over several columns?",
                               doc_sources(page))
    assert "`story.append(BalancedColumns(F, nCols=2, option0=None" in answer
    assert "option39" not in answer  # cut
    assert answer.count("`") % 2 == 0
    assert repair_citations(answer, {1}).cited == [1]


def test_printed_paragraph_numbers_are_dropped_and_code_kept_as_code() -> None:
    answer = extractive_answer("Which command builds the live image?", doc_sources(LIVE_MANUAL))
    assert "lb build" in answer and "「" not in answer
    assert "`# lb build`" in answer  # a code line, not a Markdown heading
    assert not re.search(r"^\s*[#>]", answer, re.MULTILINE)


def test_the_name_the_question_spells_out_wins() -> None:
    answer = extractive_answer("What does the indent parameter of json.dumps do?",
                               doc_sources(JSON_PAGE))
    first = body_sentences(answer)[0]
    assert "pretty-printed with that indent level" in first


def test_header_fields_answer_who_sent_it() -> None:
    answer = extractive_answer("Who sent the mail with the quarterly figures?", doc_sources(MAIL))
    assert "From: Dana Whitfield" in answer


def test_follow_up_context_decides_between_equal_matches() -> None:
    sheets = "The Restore button restores a deleted sheet from the bin within thirty days."
    question = "and how do I restore it?"
    alone = extractive_answer(question, doc_sources(sheets, R_PAGE))
    assert body_sentences(alone)[0].startswith("The Restore button")
    answer = extractive_answer(question, doc_sources(sheets, R_PAGE),
                               context="How do I divert R output to a file with sink?")
    assert "restores it to the console" in body_sentences(answer)[0]


def test_not_found_when_no_sentence_is_about_the_question() -> None:
    # Shares "file" and "R" with the page, but nothing about Kubernetes or ingress controllers.
    assert extractive_answer("How do I write a Kubernetes ingress controller file?",
                             doc_sources(R_PAGE, LIVE_MANUAL)) == ""


# ---- rules chosen on the enlarged tune split, checked on real extracted text (issue 14) -------


@functools.cache
def _extracted(path: Path) -> tuple[tuple[int, str], ...]:
    doc = parse(path, sniff_file(path).kind, ExtractionLimits(ocr_enabled=False))
    return tuple((b.page, b.text) for b in doc.blocks)


def real_text(eval_docs: Path, document: str, start: str, end: str | None = None, *,
              page: int | None = None) -> str:
    """A passage of a real document as the parsers extract it (blocks joined as the chunker
    joins them), from `start` up to and including `end` (or the end of the page/document)."""
    blocks = _extracted(eval_docs / document)
    text = "\n\n".join(t for p, t in blocks if page is None or p == page)
    i = text.index(start)
    return text[i : text.index(end, i) + len(end)] if end else text[i:]


@pytest.mark.eval_docs
def test_a_table_row_is_a_statement(eval_docs: Path) -> None:
    sheet = real_text(eval_docs, "xlsx/stanley-cups.xlsx", "Stanley Cups", page=1)
    answer = extractive_answer("Which team is located in STL?", doc_sources(sheet))
    # A row of seven words without a full stop was no "statement" and lost to a longer row.
    assert body_sentences(answer)[0].startswith("Team: Blues; Location: STL")


@pytest.mark.eval_docs
def test_a_header_field_the_question_names(eval_docs: Path) -> None:
    mail = real_text(eval_docs, "email/fake-email-attachment.eml", "Subject:")
    answer = extractive_answer("Which file is attached to the fake email?", doc_sources(mail))
    assert "Attachments: fake-attachment.txt" in answer


@pytest.mark.eval_docs
def test_words_hyphenated_across_pdf_lines_match(eval_docs: Path) -> None:
    paper = "pdf/layout-parser-paper-fast.pdf"
    pages = [real_text(eval_docs, paper, "", page=page) for page in (1, 2)]
    assert "frame-works like TensorFlow" in pages[1]  # as the PDF text has it
    answer = extractive_answer("What frameworks do existing document image analysis models use?",
                               doc_sources(*pages))
    assert "TensorFlow" in body_sentences(answer)[0]


@pytest.mark.eval_docs
def test_javascript_code_an_example_introduces(eval_docs: Path) -> None:
    example = real_text(eval_docs, "markdown/crypto.md",
                        "Example: Using the [`hmac.update()`][] and [`hmac.digest()`][] methods:",
                        "console.log(hmac.digest('hex'));")
    answer = extractive_answer("How do I compute an HMAC digest?", doc_sources(example))
    # The statement open over three lines ("const {" … "} = await import(…);") is one line of
    # code; the lines the example introduces follow it as a code block.
    assert ("methods: [1]\n\n```\nconst { createHmac, } = await import('node:crypto');\n"
            "const hmac = createHmac('sha256', 'a secret');\n") in answer


@pytest.mark.eval_docs
def test_overlapping_passages_show_the_copy_with_the_code(eval_docs: Path) -> None:
    example = real_text(eval_docs, "markdown/crypto.md",
                        "Example: Using the [`hmac.update()`][] and [`hmac.digest()`][] methods:",
                        "console.log(hmac.digest('hex'));")
    cut = example[: example.index("\n")]  # the previous chunk ends on the introducing sentence
    answer = extractive_answer("How do I compute an HMAC digest?", doc_sources(cut, example))
    assert answer.count("Example: Using the") == 1 and "createHmac(" in answer
    assert "[2]" in answer and "[1]" not in answer


@pytest.mark.eval_docs
def test_a_word_every_passage_shares_still_counts(eval_docs: Path) -> None:
    crypto = "markdown/crypto.md"
    passages = [  # what the search returns for the question: four passages about Hmac
        real_text(eval_docs, crypto, "Example: Using `Hmac` and piped streams:",
                  "input.pipe(hmac).pipe(stdout);"),
        real_text(eval_docs, crypto, "Example: Using the [`hmac.update()`][] and",
                  "console.log(hmac.digest('hex'));"),
        real_text(eval_docs, crypto, "`hmac.digest([encoding])`",
                  "will result in an error being thrown."),
        real_text(eval_docs, crypto, "`hmac.update(data[, inputEncoding])`",
                  "This can be called many times with new data as it is streamed.")]
    # Every passage says "HMAC", none says "compute" or "Node.js": without the floor, the word
    # weighed nothing and only sentences naming "node:crypto" were about the question.
    answer = extractive_answer("How do I compute an HMAC digest in Node.js?", doc_sources(*passages))
    assert "Calculates the HMAC digest" in answer


def test_a_definition_list_term_heads_its_description() -> None:
    # (The Python docs' JSONDecodeError attributes, as HTML extraction leaves a <dl>: each term on
    # a line of its own above its description.) The answer says which attribute it describes.
    page = ("exception json.JSONDecodeError(msg, doc, pos)\n\nSubclass of ValueError with the "
            "following additional attributes:\n\nmsg\n\nThe unformatted error message.\n\n"
            "pos\n\nThe start index of doc where parsing failed.\n\nlineno\n\nThe line "
            "corresponding to pos.")
    found = body_sentences(extractive_answer("Where in the document did parsing fail?",
                                             doc_sources(page)))
    assert found[0].startswith("`pos`: The start index of doc where parsing failed")
    # A lower-case word is a term only right above the sentence; a heading ("Note") never is.
    prose = ("Note\n\nThe start index of doc where parsing failed is counted from zero.\n\n"
             "msg\n\nSee the message. The line where parsing failed is given too.")
    found = body_sentences(extractive_answer("Where did parsing fail?", doc_sources(prose)))
    assert found and not any(f.lstrip().startswith("`") for f in found)


def test_a_list_of_options_heads_its_description() -> None:
    # (json.tool's command line options.) The options are named only in the line above the
    # description: the answer must show them.
    page = ("--json-lines\n\nParse every input line as separate JSON object.\n\n"
            "--indent, --tab, --no-indent, --compact\n\nMutually exclusive options for whitespace "
            "control.\n\n-h, --help\n\nShow the help message.")
    answer = extractive_answer("How do I indent the output with a tab?", doc_sources(page))
    assert ("`--indent, --tab, --no-indent, --compact`: Mutually exclusive options for whitespace "
            "control") in answer


def test_code_the_answer_already_shows_is_not_repeated_as_the_next_sentences_lead() -> None:
    # (ReportLab's user guide.) The example call ends the first sentence's code; the next
    # sentence is not about it, and "`doc.multiBuild(story)`: Below is …" showed it twice.
    page = ("Finally you need to use the multiBuild method of the DocTemplate because tables of "
            "contents need several passes to be generated:\n\ndoc.multiBuild(story)\n\n"
            "Below is a simple but working example of a document with a table of contents:\n\n"
            "from reportlab.platypus import PageBreak")
    answer = extractive_answer("How do I build a document with a table of contents?",
                               doc_sources(page))
    assert answer.count("`doc.multiBuild(story)`") == 1
    assert "generated: `doc.multiBuild(story)` [1] Below is a simple but working example" in answer


@pytest.mark.eval_docs
def test_an_ocaml_signature_heads_its_description(eval_docs: Path) -> None:
    page = real_text(eval_docs, "pdf/camlidl-1.04.doc.pdf", "val initialize", "Terminate the COM",
                     page=21)
    answer = extractive_answer("What must be called before using any function of the Com module?",
                               doc_sources(page))
    assert "`val initialize : unit -> unit`: " in answer


@pytest.mark.eval_docs
def test_the_sentence_between_two_picks_is_kept(eval_docs: Path) -> None:
    section = real_text(eval_docs, "docx/live-manual.en.docx", "8.4 Configuring APT at build time",
                        "the package installation will succeed.")
    answer = extractive_answer("How do I choose between apt and aptitude for installing packages "
                               "at build time?", doc_sources(section))
    sentences = [s.strip() for s in body_sentences(answer)]
    first = next(i for i, s in enumerate(sentences) if s.startswith("You can elect"))
    assert sentences[first + 1].startswith("Which utility is used is governed by the --apt")
    assert sentences[first + 2].startswith("Choose the method")


@pytest.mark.eval_docs
def test_what_are_x_in_y_defines_x(eval_docs: Path) -> None:
    tutorial = "html/python_tutorial_classes.html"
    generators = real_text(eval_docs, tutorial, "Generators are a simple", "trivially easy")
    expressions = real_text(eval_docs, tutorial, "Some simple generators can be coded",
                            "memory friendly than equivalent list comprehensions.")
    answer = extractive_answer("What are generators in Python?",
                               doc_sources(expressions, generators))
    assert body_sentences(answer)[0].startswith("Generators are a simple and powerful tool")


@pytest.mark.eval_docs
def test_another_passage_is_cited_only_when_it_answers_about_as_well(eval_docs: Path) -> None:
    manual = "pdf/R-intro.pdf"
    profile = real_text(eval_docs, manual, "The location of the site initialization",
                        "instead of the .Rprofile files.", page=58)
    options = real_text(eval_docs, "pdf/camlidl-1.04.doc.pdf", "-header", "-I dir", page=19)
    before, after = (real_text(eval_docs, manual, "", page=page) for page in (57, 59))
    pages = [Source(index=i, document_id=document, filename=document, page=page, chunk_id=f"c{i}",
                    text=text, score=1.0) for i, (document, page, text) in enumerate(
        [(manual, 58, profile), ("camlidl.pdf", 19, options), (manual, 57, before),
         (manual, 59, after)], 1)]
    answer = extractive_answer("Which environment variable gives the location of R's site "
                               "initialization file?", pages)
    assert "R_PROFILE environment variable [1]" in answer
    # The camlidl page and page 59 do not answer; page 57 ("There is a site initialization
    # file …", 0.56 of the best score since an example call above it no longer counts as the
    # signature it describes) may follow the answer, never precede it.
    cited = re.findall(r"\[(\d+)\]", answer)
    assert cited[0] == "1" and set(cited) <= {"1", "3"}
    assert cited == sorted(cited)


def test_sources_are_renumbered_in_the_order_the_answer_cites_them() -> None:
    from app.rag.pipeline import in_citation_order

    given = doc_sources("first passage", "second passage", "third passage")
    answer = "From your documents:\n\nA fact [3]. Code `x[1]` stays. Another [1][3]. Last [2]."
    ordered, text = in_citation_order(given, answer)
    assert text == "From your documents:\n\nA fact [1]. Code `x[1]` stays. Another [2][1]. Last [3]."
    assert [(s.index, s.text) for s in ordered] == [
        (1, "third passage"), (2, "first passage"), (3, "second passage")]
    # Sources the answer does not cite follow, in rank order; nothing cited, nothing moves.
    ordered, text = in_citation_order(given, "Only [2].")
    assert text == "Only [1]." and [s.text for s in ordered] == [
        "second passage", "first passage", "third passage"]
    assert in_citation_order(given, "") == (given, "")


def test_not_found_points_at_the_top_source_only_when_it_speaks_of_the_question() -> None:
    from app.rag.grounding import QUOTE_CHARS, not_found_pointing

    given = doc_sources("Tides rise twice a day. The harbour gate closes at high tide.",
                        "The gate keeper lives by the harbour.")
    assert not_found_pointing("When does the harbour gate close in winter?", given) == (
        "I could not find an answer to that. The closest passages in your documents say: "
        "“The harbour gate closes at high tide.” [1] and “The gate keeper lives by the harbour.” "
        "[2].")
    # Up to three passages, each quote at most QUOTE_CHARS long.
    gates = doc_sources("The harbour gate closes at high tide.", "The gate keeper lives by the harbour.",
                        "The harbour gate was painted green " + "and blue " * 60 + "in 1901.",
                        "The harbour gate has two wings.")
    said = not_found_pointing("When does the harbour gate close in winter?", gates)
    assert said.startswith("I could not find an answer to that. The closest passages in your "
                           "documents say: “The harbour gate closes at high tide.” [1], “The gate "
                           "keeper lives by the harbour.” [2] and “The harbour gate was painted")
    assert said.endswith(" …” [3].") and "[4]" not in said
    assert len(said.split("“")[3].split("”")[0]) <= QUOTE_CHARS + len(" …")
    # A second passage is quoted only when a sentence of it holds two of the question's words.
    assert not_found_pointing("When does the gate close at high tide?", given) == (
        "I could not find an answer to that. The closest passage in your documents says: "
        "“The harbour gate closes at high tide.” [1].")
    # No sentence of the top source holds two words of the question: the plain "not found" (one
    # shared word, "tides", is as often a passage about something else).
    assert not_found_pointing("Who painted the ceiling?", given) == ""
    assert not_found_pointing("Which moon pulls the tides of Jupiter?", given) == ""
    assert not_found_pointing("Tides?", given).endswith("“Tides rise twice a day.” [1].")
    assert not_found_pointing("When does the gate close?", []) == ""
    # The words that name a document count as its sentences' own ("the harbour notes" for
    # harbour-notes.md): one more word of the question is enough to point at it.
    notes = [Source(index=1, document_id="n", filename="harbour-notes.md", page=1, chunk_id="n",
                    text="Tides rise twice a day. The gate was painted green.", score=0.5)]
    assert not_found_pointing("Which colour do the harbour notes give?", notes) == ""
    assert not_found_pointing("Which paint do the harbour notes give?", notes) == (
        "I could not find an answer to that. The closest passage in your documents says: "
        "“The gate was painted green.” [1].")


def test_not_found_quotes_the_passage_of_the_answerers_best_sentence() -> None:
    from app.rag.grounding import not_found_pointing

    # functools' lru_cache docs as retrieved for "Will lru_cache keep my large argument objects
    # and return values alive in memory?": the top passage's closest sentence is about when to
    # use the cache; the answerer's best sentence, too weak to answer, is in the fourth, and
    # says it.
    top = ("An LRU (least recently used) cache works best when the most recent calls are the best "
           "predictors of upcoming calls. The cache's size limit assures that the cache does not "
           "grow without bound on long-running processes such as web servers.\n\nIn general, the "
           "LRU cache should only be used when you want to reuse previously computed values.")
    fourth = ("The decorator also provides a cache_clear function for clearing or invalidating the "
              "cache.\n\nThe cache keeps references to the arguments and return values until they "
              "age out of the cache or until the cache is cleared.")
    given = doc_sources(top, fourth)
    question = "Will lru_cache keep my large argument objects and return values alive in memory?"
    assert extract(question, given).best_source == 2
    assert not_found_pointing(question, given) == (
        "I could not find an answer to that. The closest passages in your documents say: “The "
        "cache keeps references to the arguments and return values until they age out of the "
        "cache or until the cache is cleared.” [2] and “In general, the LRU cache should only be "
        "used when you want to reuse previously computed values.” [1].")


# Issue 14, third round of rules (chosen on the tune split and the second QA batch).

URL_DOC = """`URL.canParse(input[, base])`

`input` {string} The absolute or relative input URL to parse. If `input` is relative, then `base`
is required.

Returns: {boolean}

Checks if an `input` relative to the `base` can be parsed to a `URL`.

The `node:url` module provides utilities for URL resolution and parsing."""


def test_a_clause_no_passage_speaks_of_does_not_hide_the_answer() -> None:
    # "without wrapping new URL() in try/catch" is in no passage: measured against the whole
    # question, every sentence fell under the coverage a candidate needs.
    answer = extractive_answer("How do I safely check whether a string can be parsed as a URL in "
                               "Node.js without wrapping new URL() in try/catch?",
                               doc_sources(URL_DOC, "New safe APIs in Node.js 19"))
    assert "Checks if an `input` relative to the `base` can be parsed" in answer


def test_a_figure_caption_is_no_answer_unless_a_figure_is_asked_for() -> None:
    page = ("Figure 3-6: Using the Vera TrueType font in a document\n\n"
            "We use ttfonts.TTFont to create a TrueType font object and register it with "
            "pdfmetrics.registerFont before using the Vera font in a document.")
    answer = extractive_answer("How do I use a TrueType font such as Vera in a document?",
                               doc_sources(page))
    assert "registerFont" in answer and "Figure 3-6" not in answer
    assert "Figure 3-6" in extractive_answer("Which figure shows the Vera TrueType font?",
                                             doc_sources(page))


LIVE_OPTIONS = """LB_ISO_APPLICATION/--iso-application NAME: This should describe the application
that will be on the image. The maximum length for this field is 128 characters.

LB_ISO_VOLUME/--iso-volume NAME: This should specify the volume ID of the image. This is used as
a user-visible label on some platforms such as Windows and Apple Mac OS. The maximum length for
this field is 32 characters."""


def test_a_sentence_about_this_field_brings_what_names_the_field() -> None:
    sentences = body_sentences(extractive_answer(
        "How long may the volume ID of a live ISO image be?", doc_sources(LIVE_OPTIONS)))
    at = next(i for i, s in enumerate(sentences) if "32 characters" in s)
    assert "volume ID" in sentences[at - 2] and "user-visible label" in sentences[at - 1]


@pytest.mark.parametrize(("page", "question", "name"), [
    # (A sentence between the two: a restatement brings the one that follows it.)
    ("The packages to install are selected when the image is built. Building takes a while. "
     "The packages to install are selected with the --pkg-list option.",
     "How do I select the packages to install?", "--pkg-list"),
    # "Where do I …?" is answered by a path.
    ("Package lists name the packages that you want installed. Building takes a while. "
     "Package lists that you want installed are files in config/lists/ here.",
     "Where do I list the packages I want installed?", "config/lists/"),
])
def test_how_to_prefers_the_sentence_that_names_what_to_use(
        monkeypatch: pytest.MonkeyPatch, page: str, question: str, name: str) -> None:
    assert name in extractive_answer(question, doc_sources(page), max_sentences=1)
    monkeypatch.setattr(extractive, "HOWTO_BONUS", 0.0)  # the other sentence, without it
    assert name not in extractive_answer(question, doc_sources(page), max_sentences=1)


def test_the_passages_lacking_most_of_the_question_need_stronger_evidence() -> None:
    asked = Extract("text [1]", ["text"], coverage=0.3, missing=0.7)
    held = Extract("text [1]", ["text"], coverage=0.3, missing=0.0)
    assert floor_for(held) == EVIDENCE_FLOOR < floor_for(asked)
    assert answers(0.6, held) and not answers(0.7, asked) and answers(0.75, asked)


def test_a_list_of_illustrations_is_no_answer() -> None:
    page = ("Ski-joring ( colour ) | Facing p. 166\n\n"
            "Ski-joring is a pastime on skis for which the co-operation of a horse is needed.")
    sentences = body_sentences(extractive_answer("What is ski-joring?", doc_sources(page)))
    assert sentences and not any("Facing p." in s for s in sentences)
    # Its numbered plates, with where they are bound in, name places as the book's text does.
    plates = ("XXXIV. | At St. Moritz | At end of Chap. VI, between pp. 166 and 167\n\n"
              "XLIV. | Bobbing on the Schatz Alp Run, Davos\n\n"
              "Davos lies in a sheltered valley, and the Schatz Alp run starts above it.")
    sentences = body_sentences(extractive_answer("What is the Schatz Alp run at Davos?",
                                                 doc_sources(plates)))
    assert sentences and not any("|" in s or "pp." in s for s in sentences)


async def test_a_question_asking_for_a_year_is_not_answered_without_one() -> None:
    table = "Team: Blues; Location: STL; Stanley Cups: 1\nTeam: Flyers; Location: PHI; Stanley Cups: 2"
    question = "In which year did the Blues win their Stanley Cup?"
    assert await ExtractiveChatModel().answer(question, doc_sources(table)) == ""
    told = "The Blues won their Stanley Cup in 2019, beating Boston in the final."
    assert "2019" in await ExtractiveChatModel().answer(question, doc_sources(table, told))


def test_the_sentence_giving_the_measure_asked_for_joins_the_answer() -> None:
    page = ("An artificial skating rink is as necessary to a Swiss resort as the hotel itself. "
            "The ice of a Swiss rink is swept and sprinkled every evening. "
            "A Swiss rink serves skating, ice hockey and curling. "
            "After a fortnight of floodings there is something like 18 inches of solid ice.")
    answer = extractive_answer("How thick should the ice of a Swiss skating rink be?",
                               doc_sources(page), max_sentences=2)
    assert "18 inches" in answer
    # … also when a clause sets the scene before the question asks it.
    answer = extractive_answer("For a Swiss skating rink, how thick should the ice be?",
                               doc_sources(page), max_sentences=2)
    assert "18 inches" in answer



@pytest.mark.parametrize(("text", "question", "given"), [
    # The type is read on what the candidate shows: a header field's window.
    ("Subject: Fake email with attachment\nFrom: Mallori Harrell <m@example.com>\n"
     "Date: Fri, 23 Dec 2022 12:08:48 -0600",
     "When was the fake email with an attachment sent?", "23 Dec 2022"),
    # A vague amount with its unit is a measure.
    ("Building the image downloads the packages first. "
     "A complete build of the image takes a few minutes on a fast mirror.",
     "How long does a build of the image take?", "a few minutes"),
])
async def test_the_type_asked_for_is_found_where_it_is_given(text: str, question: str,
                                                             given: str) -> None:
    assert given in await ExtractiveChatModel().answer(question, doc_sources(text))


def test_a_height_above_sea_level_is_no_length() -> None:
    resort = ("St. Moritz is the highest of winter resorts. It is situated 6090 feet above "
              "sea-level, and is eminent for its rinks and toboggan-runs, the bob-run among them.")
    # Where St. Moritz lies says nothing of how long its bob-run is …
    assert extract("How long is the St. Moritz bob-run?", doc_sources(resort)).untyped
    # … and answers how high it lies.
    high = extract("How high above sea level is St. Moritz?", doc_sources(resort))
    assert not high.untyped and "6090 feet" in high.text


def test_a_value_with_a_shape_of_its_own_is_given_only_where_the_answer_shows_one() -> None:
    mail = ("From: Mallori Harrell <mallori@unstructured.io> Date: Fri, 23 Dec 2022. Here's the "
            "attachment! Mallori Harrell, Data Scientist at Unstructured.")
    # The sender's header names her and her address, but no phone number …
    assert extract("What phone number does Mallori give in her signature?", doc_sources(mail)).untyped
    # … which the answer shows where the signature has one; the address is shown either way.
    signed = mail.replace("at Unstructured.", "at Unstructured, phone 555-867-5309.")
    assert not extract("What phone number does Mallori give in her signature?",
                       doc_sources(signed)).untyped
    assert not extract("Which e-mail address did Mallori send it from?", doc_sources(mail)).untyped
    errors = ("cmp_to_key() turns an old-style comparison function into a key function. The "
              "comparison function returns a negative number for less-than, zero for equality "
              "and a positive number for greater-than.")
    # An exception's name, an environment variable's: not in these sentences, so not given.
    for question in ("What exception does cmp_to_key raise when the comparison function returns None?",
                     "Which environment variable does cmp_to_key read its default from?"):
        assert extract(question, doc_sources(errors)).untyped, question
    raising = errors + " A comparison function returning None makes the sort raise TypeError."
    assert not extract("What exception does cmp_to_key raise when the comparison function returns "
                       "None?", doc_sources(raising)).untyped
    # A kind that is text, not a shape: an error message is answered by what it says.
    assert asked_shape("What error message does json.tool print for bad input?") is None


def test_keys_asked_for_are_given_only_where_the_answer_shows_keys() -> None:
    ess = ("The Emacs Speaks Statistics package (ESS) provides support for working "
           "interactively with R from within Emacs. It sends the lines of a script to R.")
    question = "In ESS, which key binding sends the current line of my script to R?"
    # ESS is described, its keys are not …
    assert extract(question, doc_sources(ess)).untyped
    # … and here they are, as manuals write them.
    assert not extract(question, doc_sources(ess.replace("It sends", "C-c C-n sends"))).untyped
    assert asked_shape("Which keys start insertion mode in vi mode?") is None  # "i", "a": keys too


def test_who_made_or_holds_something_is_answered_by_a_name() -> None:
    policy = ("Whenever we need to change something, we will do that in coordination with its "
              "package maintainer in Debian. Our own packages such as live-build are uploaded to "
              "Debian on a regular basis.")
    question = "Who is the Debian package maintainer of live-build?"
    # The maintainer is spoken of, never named …
    assert extract(question, doc_sources(policy)).untyped
    # … and named here.
    named = policy + " The live-build package is maintained by Daniel Baumann."
    assert not extract(question, doc_sources(named)).untyped
    # A role answers who does something: "the brakesman" steers.
    assert asked_shape("Who steers a bobsleigh?") is None
    assert asked_shape("Who wrote the Camlidl user's manual?") is not None


def test_a_bound_asked_for_needs_a_passage_stating_one() -> None:
    stones = ("All curling-stones shall be of a circular shape. The usual weight is from about 36 "
              "to 40 lb. No stone shall be of a greater weight than 44 lb.")
    # "The usual weight" and "no greater weight than" give no least weight.
    assert extract("What is the minimum weight of a curling stone?", doc_sources(stones)).untyped
    for question in ("What is the maximum weight of a curling stone?",
                     "Is there a minimum weight for a curling stone?",  # yes or no: "no"
                     "What is the usual weight of a curling stone?"):
        assert not extract(question, doc_sources(stones)).untyped, question
    assert not extract("What is the minimum weight of a curling stone?", doc_sources(
        stones.replace("The usual", "A stone weighs at least 30 lb; the usual"))).untyped


async def test_a_name_no_passage_holds_is_not_answered() -> None:
    table = ("Team: Blues; Location: STL; Stanley Cups: 1\n"
             "Team: Flyers; Location: PHI; Stanley Cups: 2\n"
             "Team: Maple Leafs; Location: TOR; Stanley Cups: 13")
    model = ExtractiveChatModel()
    # Every other word of the question is in the table; the team it names is not.
    assert await model.answer("How many Stanley Cups have the Chicago Blackhawks won?",
                              doc_sources(table)) == ""
    assert "13" in await model.answer("How many Stanley Cups have the Maple Leafs won?",
                                      doc_sources(table))
    # A name of several words is held by any of them: the table says "Blues", not "St. Louis".
    assert "Stanley Cups: 1" in await model.answer(
        "How many Stanley Cups have the St. Louis Blues won?", doc_sources(table))
    # … but only by a document the answer comes from: "Penguin" of a bibliography's publisher
    # ("Statistical Inference. Penguin, London.") is not the Pittsburgh Penguins of the table.
    books = "S. D. Silvey (1970), Statistical Inference. Penguin, London."
    assert await model.answer("How many Stanley Cups have the Pittsburgh Penguins won?",
                              doc_sources(table, books)) == ""
    assert "Stanley Cups: 1" in await model.answer(
        "How many Stanley Cups have the St. Louis Blues won?", doc_sources(table, books))
    # An acronym with a clitic ("CC'd") is a name too; the header has no CC field.
    header = ("Subject: Fake email with attachment\nFrom: Mallori Harrell <m@example.com>\n"
              "To: Mallori Harrell <m@example.com>\nAttachments: fake-attachment.txt")
    assert await model.answer("Who was CC'd on the fake email with an attachment?",
                              doc_sources(header)) == ""
    # A word of a retrieved document's file name ("camlidl") is held by that document: a
    # passage of another document that never writes it speaks of something else.
    camlidl = Source(index=2, document_id="c", filename="camlidl-1.04.doc.pdf", page=20,
                     chunk_id="c2", text="The camlidldll script builds a DLL holding a COM "
                     "component written in Caml.", score=1.0)
    notice = Source(index=1, document_id="m", filename="live-manual.en.docx", page=1,
                    chunk_id="m1", text="License: This program is free software: you can "
                    "redistribute it under the terms of the GNU General Public License.",
                    score=1.0)
    question = "Under which software license is camlidl distributed?"
    found = extract(question, [notice, camlidl])
    assert "GNU General Public License" in found.text and found.unnamed and found.unheld
    assert not extract(question, [replace(notice, filename="camlidl-license.txt",
                                          document_id="c")]).unnamed
    # A name the passages only hold as a file name still counts ("backus" in a1977-backus.pdf).
    assert not extract("What did Backus propose?", [Source(
        index=1, document_id="d", filename="a1977-backus-p21.pdf", page=1, chunk_id="c",
        text="The paper proposes a functional style of programming and its algebra of programs.",
        score=1.0)]).unnamed
    # The platform a question is set in ("… in Node.js when …") is its context: a passage of
    # the url module that never says "Node" may answer it, on strong evidence only.
    get = extract("What does urlSearchParams.get() return in Node.js when no parameter has the "
                  "given name?", doc_sources("`urlSearchParams.get(name)`\n\nReturns the value "
                                             "of the first name-value pair whose name is `name`. "
                                             "If there are no such pairs, `null` is returned."))
    assert not get.unnamed and get.unheld and "`null` is returned" in get.text


async def test_strong_evidence_outweighs_a_name_no_passage_holds() -> None:
    # The crypto module's passages never say "Node": a question naming it is answered when the
    # evidence is strong, and only then; stronger than for a setting the passages do not hold
    # (0.81 would do for "… in Node.js?").
    passage = doc_sources("When chacha20-poly1305 is used, the authentication tag length "
                          "defaults to 16 bytes.")
    question = "What authentication tag length does Node.js use for chacha20-poly1305?"
    assert extract(question, passage).unnamed

    def evidence(value: float) -> extractive.Similarity:
        async def similarity(_: str, sentences: list[str]) -> float:
            return value
        return similarity

    model = ExtractiveChatModel()
    assert "16 bytes" in await model.answer(question, passage, relevance=0.86,
                                            similarity=evidence(0.86))
    assert await model.answer(question, passage, relevance=0.81, similarity=evidence(0.81)) == ""
    assert await model.answer(question, passage, relevance=0.68, similarity=evidence(0.70)) == ""
    setting = "What authentication tag length is used for chacha20-poly1305 in Node.js?"
    assert not extract(setting, passage).unnamed and extract(setting, passage).unheld
    assert "16 bytes" in await model.answer(setting, passage, relevance=0.81,
                                            similarity=evidence(0.81))
    assert await model.answer(question, passage) == ""  # no evidence to weigh: not found


def test_a_dotted_name_no_passage_writes_is_a_name_not_held() -> None:
    assert dotted_names("Can functools.singledispatch dispatch on a typing.Protocol, so that "
                        "any class with the right methods is matched?") == [
        "functools.singledispatch", "typing.Protocol"]
    assert dotted_names("Which option sets the name of my-distro.iso, i.e. the image?") == []
    assert dotted_names("What does json.dumps() return?") == []  # called: spelled_identifiers
    page = ("singledispatch(func)\n\nTransform a function into a single-dispatch generic "
            "function. To add overloaded implementations, use the register() attribute; "
            "typing.Union may be used in its type annotations.")
    question = "Can functools.singledispatch dispatch on a typing.Protocol?"
    found = extract(question, doc_sources(page))
    assert found.text and found.unnamed and found.unheld
    # Written whole, or its last part as a word, it is held.
    for held in ("typing.Protocol", "a class that is a Protocol"):
        assert not extract(question, doc_sources(f"{page} It accepts {held}.")).unnamed


def test_which_identifiers_a_question_spells_out_as_code() -> None:
    assert spelled_identifiers("What does the splitInRow argument of a ReportLab Table "
                               "control?") == ["splitInRow"]  # not "ReportLab": a name
    assert spelled_identifiers("How do I use __init_subclass__ or wchar_t?") == [
        "__init_subclass__", "wchar_t"]
    # A call by its last part, as documentation writes it; a dotted name alone is no identifier.
    assert spelled_identifiers("Can I read it with read.fwf() or x.cache_info()?") == [
        "fwf", "cache_info"]
    assert spelled_identifiers("What does json.dumps do with @property?") == []
    # A name with a slash names a standard or a format.
    assert spelled_identifiers("How do I produce an accessible PDF (PDF/UA) with TCP/IP?") == [
        "PDF/UA", "TCP/IP"]
    # A word of letters and digits names a model, an architecture, an algorithm.
    assert spelled_identifiers("How do I build an image for riscv64 or hash with BLAKE3 in "
                               "Python 3.11?") == ["riscv64", "BLAKE3"]
    # Not the identifiers of a sentence that sets the scene: the asker's situation.
    assert spelled_identifiers("My COM method returns S_OK or S_FALSE. Which return type lets "
                               "my Caml code tell the two apart?") == []


async def test_an_identifier_no_passage_writes_is_not_answered_on_weak_evidence() -> None:
    table = doc_sources("The rowSplitRange argument may be used to control the splitting of the "
                        "table to a subset of its rows. The default is None.")
    question = "What does the splitInRow argument of a Table control, and what is its default?"
    found = extract(question, table)
    assert found.text and found.unnamed and found.unheld

    async def close(_: str, sentences: list[str]) -> float:
        return 0.6

    model = ExtractiveChatModel()
    assert await model.answer(question, table, relevance=0.6, similarity=close) == ""
    written = doc_sources("The splitInRow argument of a Table controls whether a row may be split "
                          "across pages. The default is 0.")
    assert not extract(question, written).unnamed
    assert "splitInRow" in await model.answer(question, written, relevance=0.6, similarity=close)


def test_a_dotted_call_is_written_whole_or_by_its_last_part_called() -> None:
    question = ("How do I import an SPSS .sav data file into R, for example with read.spss() from "
                "the foreign package?")
    assert spelled_identifiers(question) == ["spss"]
    assert spelled_identifiers(question, dotted=True) == ["read.spss"]
    # The word "SPSS" does not write the function.
    mentioned = doc_sources("R can import data from other statistical systems such as SAS, SPSS "
                            "and Stata, with functions of recommended packages.")
    assert extract(question, mentioned).unnamed
    for written in ("Use read.spss to read a file saved by SPSS.",
                    "The function spss(file) reads a file saved by SPSS."):
        assert not extract(question, doc_sources(written)).unnamed


def test_which_names_a_question_spells_out() -> None:
    assert proper_names("How many Stanley Cups have the St. Louis Blues won?") == [
        ["Stanley", "Cups"], ["Louis", "Blues"]]
    # Not the first word, a sentence's first word, a two-letter mixed-case symbol, nor the
    # author a question attributes the document to.
    assert proper_names("Does R solve Ax = b? Then How?") == []
    assert proper_names("How long should skis be, according to Benson?") == []
    # … nor the one who says it, before a verb of saying.
    assert proper_names("What does Benson say skiers tie to their skis?") == []
    assert proper_names("How far does a ski-jumper fly in the jump Benson describes?") == []
    # … or of holding an opinion: the author's view is what is asked, not the author.
    assert proper_names("Why does Benson think curlers should have a rink of their own?") == []
    assert proper_names("Why does Benson call Grindelwald the cradle of ice-making?") == [
        ["Grindelwald"]]
    assert proper_names("Which team did the Chicago Blackhawks beat?") == [["Chicago", "Blackhawks"]]
    # Nor the owner of the document or of a name from code: its author, its platform.
    assert proper_names("In the rules printed in Benson's book, what is the puck made of?") == []
    assert proper_names("What cost does Node's crypto.scrypt use by default?") == []
    # A possessor of anything else is asked about.
    assert proper_names("What is the date of Mallori's fake email?") == [["Mallori"]]
    # An acronym's plural by the acronym, a name with a lowercase suffix by the name, and a
    # name by a file-name word it starts with ("Introduction" by "R-intro.pdf").
    assert not extract("Which script turns Python source files into colorized PDFs?", doc_sources(
        "The py2pdf script turns Python source files into a colorized PDF.")).unnamed
    assert not extract("How do I get the DER-encoded bytes of a certificate?", doc_sources(
        "The raw property holds the DER encoding of the certificate as a Buffer.")).unnamed
    assert extract("How do I get the AES-SIV bytes of a certificate?", doc_sources(
        "The raw property holds the AES encoding of the certificate as a Buffer.")).unnamed
    manual = [Source(index=1, document_id="d1", filename="R-intro.pdf", page=40, chunk_id="c1",
                     text="The data frame is read with read.table() from the file.", score=1.0)]
    assert not extract("How does An Introduction to R read a data frame?", manual).unnamed
    # A CamelCase name is held when its parts are ("NodeJS" by "node" and "js").
    assert not extract("Does NodeJS have a crypto module?", doc_sources(
        "The node:crypto module of Node.js provides cryptographic functionality.")).unnamed


async def test_a_question_asking_for_a_version_needs_one() -> None:
    passage = ("crypto.randomUUID() generates a random RFC 4122 version 4 UUID. The UUID is "
               "generated using a cryptographic pseudorandom number generator.")
    model = ExtractiveChatModel()
    # "version 4" names a kind of UUID, not a release.
    assert await model.answer("In which Node.js version was crypto.randomUUID() added?",
                              doc_sources(passage)) == ""
    added = "crypto.randomUUID() was added in v15.6.0 and v14.17.0 of Node.js."
    assert "v15.6.0" in await model.answer(
        "In which Node.js version was crypto.randomUUID() added?", doc_sources(passage, added))
    # A section number heading its title is no version: "1.2 What is …".
    section = ("1.2 What is the ReportLab PDF Library? This is a software library that lets you "
               "create documents in Adobe's Portable Document Format (PDF) from Python.")
    assert await model.answer("Which PDF version does ReportLab write by default?",
                              doc_sources(section)) == ""
    # "Which version control system …" asks for a name.
    vcs = "The live-build sources are developed with the Git version control system."
    assert "Git" in await model.answer("Which version control system is live-build developed with?",
                                       doc_sources(vcs))


def test_is_there_a_maximum_length_asks_for_one() -> None:
    passages = doc_sources(
        "`passphrase`: {string | Buffer} The passphrase to use for decryption. `encoding`: "
        "{string} The string encoding to use when `key` is a string.",
        "If the private key is encrypted, a `passphrase` must be specified. The length of the "
        "passphrase is limited to 1024 bytes.")
    question = "Is there a maximum length for the passphrase of an encrypted private key?"
    found = extract(question, passages)
    assert found.typed and "1024 bytes" in found.text  # a text's length may be given in bytes


def test_the_minimum_amount_of_something_is_a_quantity() -> None:
    found = extract("What is the minimum amount of RAM a computer needs to boot a live image?",
                    doc_sources("Booting a live image needs enough RAM for the whole system image, "
                                "as the initial RAM disk is loaded into memory at boot."))
    assert found.untyped
    assert not extract("What is the minimum amount of RAM a computer needs to boot a live image?",
                       doc_sources("A live image needs a computer with at least 512 MB of RAM "
                                   "to boot.")).untyped


def test_a_numbered_list_item_keeps_its_number_and_follows_its_lead_in() -> None:
    text = ("To make the component callable from Visual Basic, you need to do the following:\n"
            "1. Use IDispatch instead of IUnknown as the super-interface.\n"
            "2. Write a type library for your component. Compile it with midl.\n")
    assert split_sentences(text) == [
        "To make the component callable from Visual Basic, you need to do the following:",
        "1. Use IDispatch instead of IUnknown as the super-interface.",
        "2. Write a type library for your component.", "Compile it with midl."]
    # A number ending a sentence is no list item: "… shown in Figure 2. The …".
    assert split_sentences("The result is shown in Figure 2. The next step is simple.") == [
        "The result is shown in Figure 2.", "The next step is simple."]
    answer = extractive_answer("What must I change so that my component can be called from "
                               "Visual Basic?", doc_sources(text), max_sentences=1)
    assert "Use IDispatch instead of IUnknown" in answer


def test_a_common_word_no_passage_holds_is_phrasing_not_a_missing_subject() -> None:
    passage = [Source(index=1, document_id="d1", filename="R-intro.pdf", page=31, chunk_id="c1",
                      text="5.7.3 Eigenvalues and eigenvectors\nThe function eigen(Sm) calculates "
                           "the eigenvalues and eigenvectors of a symmetric matrix Sm.", score=1.0)]
    # "get" is in no passage, but it is among the commonest English words: phrasing.
    found = extract("how to get eigenvalues of a symmetric matrix in R", passage)
    assert found.missing == 0.0 and found.coverage == pytest.approx(1.0)
    assert "eigen(Sm)" in found.text and answers(0.5, found)
    # "coroutine" is rare: the question asks about something the passage does not speak of.
    rare = extract("how to get eigenvalues of a symmetric matrix in a coroutine", passage)
    assert rare.missing > 0.3 and not answers(0.5, rare)


def test_a_speed_is_no_length_and_how_fast_asks_for_one() -> None:
    run = ("The Cresta is the ice-run of St. Moritz. A rider on the Cresta may travel at a speed "
           "that sometimes exceeds 70 miles an hour. The Cresta run starts at the top of the hill.")
    # "70 miles an hour" gives no length: "how long is the run?" finds none in the passages.
    assert extract("How long is the Cresta run?", doc_sources(run)).untyped
    fast = extract("How fast can a rider on the Cresta travel?", doc_sources(run), max_sentences=1)
    assert not fast.untyped and "70 miles an hour" in fast.text


def test_a_table_row_with_bars_is_a_statement() -> None:
    # HTML and PPTX tables are written "Table: 1 | A: A1 | B: B1", as spreadsheets use "; ".
    slide = "This is kinda backwards, huh?\n\nTable: 1 | A: A1 | B: B1 | C: C1\n\nTable: 2 | A: A2"
    answer = extractive_answer("Which cell of the table holds C1?", doc_sources(slide))
    assert "Table: 1 | A: A1 | B: B1 | C: C1 [1]" in answer


def test_how_long_is_answered_by_a_size_in_bytes() -> None:
    gcm = ("The `authTagLength` option sets the length of the authentication tag that will be "
           "returned by `getAuthTag()` and defaults to 16 bytes.")
    found = extract("How long is the authentication tag returned by getAuthTag()?", doc_sources(gcm))
    assert not found.untyped and "16 bytes" in found.text


def test_a_slide_is_quoted_whole() -> None:
    lines = ["This is the second content slide", "Topic 1", "Subtopic 1", "Topic 2", "Details 1"]

    def deck(filename: str) -> list[Source]:
        return [Source(index=1, document_id="d", filename=filename, page=3, chunk_id="c",
                       text="\n\n".join(lines), score=1.0)]

    question = "Which topics are listed on the second content slide of the presentation?"
    answer = extractive_answer(question, deck("sample-presentation.pptx"))
    # The slide's lines are no sentences: alone, none is an answer; together they are the slide.
    assert "This is the second content slide • Topic 1 • Subtopic 1 • Topic 2 • Details 1 [1]" \
        in answer
    assert "Topic 2" not in extractive_answer(question, deck("notes.txt"))
    # A question asking for a title is answered by the slide's first line.
    assert body_sentences(extractive_answer("What is the title of the second content slide?",
                                            deck("sample-presentation.pptx")))[0] \
        == "This is the second content slide [1]"


def test_a_slide_of_names_and_figures_is_quoted() -> None:
    # Nearly every word capitalised ("Budget • Venue: Lakeside Lodge, Brienz, …") is a title
    # or a byline in prose; on a slide it is the slide's content.
    lines = ["Budget", "Venue: Lakeside Lodge, Brienz, 4,200 EUR", "Catering: 1,800 EUR",
             "Coach hire: 650 EUR"]
    slide = Source(index=1, document_id="d", filename="offsite.pptx", page=4, chunk_id="c",
                   text="\n\n".join(lines), score=1.0)
    answer = extractive_answer("Which venue is on the budget slide?", [slide])
    assert "Budget • Venue: Lakeside Lodge, Brienz, 4,200 EUR • Catering" in answer


def test_the_document_a_question_names_by_file_name_answers() -> None:
    # A guide's sentences hold the question's words better than the deck the question names.
    guide = ("A budget slide in a presentation lists each cost line: the venue, the catering "
             "and the transport. Put the venue first on the budget slide, then the other costs.")
    deck = "\n\n".join(["Budget", "Venue: Lakeside Lodge, Brienz, 4,200 EUR",
                         "Catering: 1,800 EUR"])
    passages = [Source(index=1, document_id="g", filename="presentation-design-guide.md",
                       page=1, chunk_id="g1", text=guide, score=0.9),
                Source(index=2, document_id="o", filename="offsite-presentation.pptx", page=4,
                       chunk_id="o4", text=deck, score=0.7)]
    answer = extractive_answer("Which venue is on the budget slide of the offsite presentation?",
                               passages)
    assert "Budget • Venue: Lakeside Lodge, Brienz, 4,200 EUR • Catering: 1,800 EUR [2]" in answer
    # Not named, the guide's sentences alone answer.
    assert "Lakeside" not in extractive_answer("Which venue is on the budget slide?", passages)


def test_the_words_naming_a_document_are_held_by_its_passages() -> None:
    # "… of the sample presentation": the deck's slides never write "sample", yet they are what
    # the question asks about; the guide's "last" is no reason to quote it beside the slide.
    slide = "\n\n".join(["This is kinda backwards, huh?", "Table: 1 | A: A1 | B: B1 | C: C1",
                          "Table: 2 | A: A2 | B: B2 | C: C2"])
    guide = ("These effects are useful in spicing up slide presentations, among other places. "
             "The last effect is Glitter.")
    passages = [Source(index=1, document_id="g", filename="reportlab-userguide.pdf", page=57,
                       chunk_id="g", text=guide, score=0.6),
                Source(index=2, document_id="d", filename="sample-presentation.pptx", page=4,
                       chunk_id="s4", text=slide, score=0.55)]
    found = extract("What is in the table on the last slide of the sample presentation?", passages)
    assert body_sentences(found.text) == [
        "This is kinda backwards, huh? • Table: 1 | A: A1 | B: B1 | C: C1 • Table: 2 | A: A2 | "
        "B: B2 | C: C2 [2]"]
    assert found.coverage > 0.5  # "table" and "sample" of "table", "last", "slide", "sample"


def test_code_a_question_quotes_is_answered_by_the_example_holding_it() -> None:
    assert quoted_code("What does new URL('https:Example.com/', 'https://example.org/') give, "
                       "and what about 1234.5678 or f(x)?") == [
        "URL('https:Example.com/', 'https://example.org/')", "1234.5678"]
    # A passage cut inside a code block: nothing but code and its comments.
    example = ("myURL.port = 'abcd';\nconsole.log(myURL.port);\n// Prints 1234\n\n"
               "// Non-integers are truncated\nmyURL.port = 1234.5678;\n"
               "console.log(myURL.port);\n// Prints 1234\n\n"
               "Numbers which contain a decimal point are no exception to this rule.")
    passages = doc_sources("The port value may be a number or a string containing a number.",
                           example)
    question = "What happens if I assign a non-integer such as 1234.5678 to a URL's port?"
    answer = extractive_answer(question, passages)
    assert answer == (f"{LEAD}\n\nExample: [2]\n\n```\n// Non-integers are truncated\n"
                      "myURL.port = 1234.5678;\nconsole.log(myURL.port);\n// Prints 1234\n```")
    # Prose quoting it is no example; two different examples holding it leave it to the scores.
    assert "Example:" not in extractive_answer(
        question, doc_sources("Setting the port to 1234.5678 truncates it to 1234."))
    twice = example.replace("// Non-integers are truncated\n", "")
    assert "Example:" not in extractive_answer(question, doc_sources(example, twice))


def test_the_example_holding_most_of_what_the_question_quotes_answers_it() -> None:
    """An object literal's entries read as words yet belong to the example; of two examples
    holding a quoted "'second'", the one that also holds the quoted call answers."""
    literal = ("const params = new URLSearchParams({\n  user: 'abc',\n  query: ['first', 'second'],"
               "\n});\nconsole.log(params.getAll('query'));\n// Prints [ 'first,second' ]")
    pairs = ("params = new URLSearchParams([\n  ['user', 'abc'],\n  ['query', 'first'],\n"
             "  ['query', 'second'],\n]);\nconsole.log(params.toString());")
    question = ("I build URLSearchParams from an object whose query value is ['first', 'second']. "
                "What does getAll('query') give me?")
    answer = extractive_answer(question, doc_sources("Instantiate a new URLSearchParams object "
                                                     "with a query hash map.", pairs, literal))
    assert answer.startswith(f"{LEAD}\n\nExample: [3]\n\n```\nconst params") \
        and "// Prints [ 'first,second' ]" in answer
    # A paragraph of prose with a line of code in it is no example.
    prose = ("Each query value is converted to a string, so an array is joined with commas "
             "before it is stored as the value.\nconsole.log(params.getAll('query'));\n"
             "The method returns every value stored under the name as an array of strings.")
    assert "Example:" not in extractive_answer(question, doc_sources(prose))


def test_a_call_nested_two_deep_is_quoted_and_an_apostrophe_starts_no_quote() -> None:
    question = ("In the classes tutorial's generator examples, what does list(data[i] for i in "
                "range(len(data)-1, -1, -1)) give when data is 'golf'?")
    assert quoted_code(question) == ["list(data[i] for i in range(len(data)-1, -1, -1))"]
    example = (">>> data = 'golf'\n>>> list(data[i] for i in range(len(data)-1, -1, -1))\n"
               "['f', 'l', 'o', 'g']")
    answer = extractive_answer(question, doc_sources(
        "Generator expressions are more compact but less versatile than full generator "
        "definitions.", example))
    assert "Example: [2]" in answer and "['f', 'l', 'o', 'g']" in answer


def test_the_one_line_holding_code_the_question_quotes_answers_it() -> None:
    table = ("IDL declaration Caml function type Description\n"
             "void i([in] int x, [out] double * y) i : int -> double One int input, one double "
             "output\nint j([in] int x, [out] double * y) j : int -> int * double One int input, "
             "one int output (in the result), one double output")
    question = "What Caml type does camlidl give to int j([in] int x, [out] double * y)?"
    answer = extractive_answer(question, doc_sources(
        "This section describes how IDL function declarations are mapped to Caml.", table))
    assert answer == (f"{LEAD}\n\nint j([in] int x, [out] double * y) j : int -> int * double "
                      "One int input, one int output (in the result), one double output [2]")
    assert extract(question, doc_sources(table)).stated  # read off the passage: no gate
    # Not a statement of an example (its example answers), nor a line that is the quote alone:
    # those are scored as any sentence.
    statement = "new URL('file:///hello world').pathname; // Incorrect: /hello%20world"
    assert not extract("Why not read new URL('file:///hello world').pathname?",
                       doc_sources(statement)).stated
    assert not extract(question, doc_sources("int j([in] int x, [out] double * y)")).stated


def test_a_call_the_question_names_with_an_argument_it_spells_out_is_quoted() -> None:
    code = ("console.log(url.domainToASCII('español.com'));\n// Prints xn--espaol-zwa.com\n"
            "console.log(url.domainToASCII('中文.com'));\n// Prints xn--fiq228c.com")
    question = "What does url.domainToASCII() return for the Chinese domain 中文.com?"
    assert called_with(question, [code]) == {"url.domainToASCII('中文.com')"}
    assert called_with("What does url.domainToASCII() return?", [code]) == set()
    assert called_with("What does domainToASCII() return for 中文.com?", ["f('中文.com')"]) == set()
    answer = extractive_answer(question, doc_sources(
        "url.domainToASCII(domain): Returns the Punycode ASCII serialization of the domain.", code))
    assert "Example: [2]" in answer and "// Prints xn--fiq228c.com" in answer



def test_an_acronym_a_passage_defines_stands_for_its_words() -> None:
    defined = acronyms("… adding a byte order mark (BOM) to the start, as a virtual machine (VM) "
                       "would; Password-Based Key Derivation Function 2 (PBKDF2) …")
    assert defined == {"bom": ["byte", "order", "mark"], "vm": ["virtual", "machin"]}
    assert with_acronyms(["rais", "bom"], defined) == ["rais", "bom", "byte", "order", "mark"]


def test_a_hyphenated_size_in_bits_answers_how_long() -> None:
    com = ("COM components implement one or several interfaces, identified by unique 128-bit "
           "interface identifiers (IIDs). Interfaces are described in IDL files.")
    found = extract("How long are the interface identifiers that identify COM interfaces?",
                    doc_sources(com), max_sentences=1)
    assert not found.untyped and found.typed and "128-bit" in found.text
    # A number without the unit asked for is still no size.
    assert extract("How long are the interface identifiers?",
                   doc_sources("Interface identifiers are listed in 3 tables.")).untyped


def test_the_words_naming_the_document_are_not_asked_about() -> None:
    assert document_words("What does the camlidl manual recommend doing about in,out "
                          "parameters?") == ["manual"]
    assert document_words("Which model is fitted in the example of the R manual?") == ["manual"]
    assert document_words("How do I write the manual page of my command?") == []
    # ReportLab's user guide lists Python tutorials; the tutorial itself defines the word.
    links = ("• Python Tutorial.\nThe official Python Tutorial , originally written by Guido van "
             "Rossum himself. http://docs.python.org/tutorial/\n• Learning to Program.\n"
             "A tutorial on programming by Alan Gauld.")
    tutorial = ("By the way, I use the word attribute for any name following a dot — for "
                "example, in the expression z.real, real is an attribute of the object z.")
    classes = ("Attribute references use the standard syntax used for all attribute references "
               "in Python: obj.name. Class objects support two kinds of operations: attribute "
               "references and instantiation. Data attributes need not be declared; like local "
               "variables, they spring into existence when they are first assigned to.")
    answer = extractive_answer("What does the Python tutorial mean by the word attribute?",
                               doc_sources(links, tutorial, classes), max_sentences=1)
    assert "I use the word attribute for any name following a dot" in answer


async def test_the_relevance_check_weighs_each_paragraph_as_the_answer_shows_it() -> None:
    page = ("4.4 Page Transition Effects\n"
            "canvas.setPageTransition(self, effectname=None, duration=1, direction=0)\n"
            "The setPageTransition method specifies how one page will be replaced with the next.\n"
            'By setting the page transition effect to "dissolve" for example the current page '
            "will appear to melt away when it is replaced by the next page.\n"
            "These effects are useful in spicing up slide presentations.")
    question = "How can I make one page dissolve into the next in a slide presentation?"
    seen: list[str] = []

    async def similarity(_: str, texts: list[str]) -> float:
        # What the method does and how to get the dissolve are one answer; neither sentence
        # alone is.
        seen.extend(texts)
        return 0.7 if any("replaced with the next" in t and "dissolve" in t for t in texts) \
            else 0.4

    answer = await ExtractiveChatModel().answer(question, doc_sources(page), relevance=0.4,
                                                similarity=similarity)
    assert "`canvas.setPageTransition(" in answer and "dissolve" in answer
    assert any("replaced with the next" in t and "slide presentations" in t for t in seen)


# The shapes of API references as the parsers extract them (issue 14, a fourteenth look): each
# entry's name on a line of its own, its description below.
ATTRIBUTE_TABLE = ("the labels of the pie are placed around it. It is much better to put them\n"
                   "in a legend alongside.\nstartAngle\nWhere is the start angle of the first "
                   "pie slice?\nThe default is '90' which is twelve o'clock.\ndirection\n"
                   "Which direction do slices progress in?\nThe default is 'clockwise'.")


def test_a_name_on_a_line_of_its_own_heads_what_follows_it() -> None:
    # A PDF's attribute table: the name was glued to the sentence before ("… alongside.
    # startAngle") and the next name to the answer ("… twelve o'clock. direction").
    assert split_sentences(ATTRIBUTE_TABLE)[2:6] == [
        "startAngle", "Where is the start angle of the first pie slice?",
        "The default is '90' which is twelve o'clock.", "direction"]
    ocaml = ("Return the IUnknown interface of the given component. This never fails.\n"
             "val combine : 'a interface -> 'b interface -> 'a interface\n"
             "Combine the interfaces of two components.")
    assert split_sentences(ocaml)[2:] == [
        "val combine : 'a interface -> 'b interface -> 'a interface",
        "Combine the interfaces of two components."]
    # A one-word line inside a sentence is no name: the sentence before it goes on; nor are
    # the words a sentence ending in ":" lists, nor a word of prose after a full stop.
    assert split_sentences("The value is read from\nstdin\nwhen no file is given.") == [
        "The value is read from stdin when no file is given."]
    assert split_sentences("Install the following packages:\ncurl\nwget\nThen run it.") == [
        "Install the following packages: curl wget", "Then run it."]
    assert split_sentences("It is stored in the matrix M.\nwhere\nM is updated.") == [
        "It is stored in the matrix M. where", "M is updated."]


def test_a_question_the_document_asks_is_shown_with_its_answer() -> None:
    answer = extractive_answer("Where does the first slice of a pie chart start by default?",
                               doc_sources(ATTRIBUTE_TABLE))
    # The document's own question holds the reader's words; its answer holds the fact.
    assert body_sentences(answer)[0] == (
        "`startAngle`: Where is the start angle of the first pie slice? The default is '90' "
        "which is twelve o'clock [1].")
    # Questions are never quoted alone.
    assert "Which direction do slices progress in [1]?\n" not in answer


def test_a_markdown_property_heading_names_the_description_under_it() -> None:
    # Node's url.md: "#### `urlSearchParams.size`" above its one-line description.
    page = ("`urlSearchParams.size`\n\nThe total number of parameter entries.\n\n"
            "`urlSearchParams.sort()`\n\nSort all existing name-value pairs in-place by their "
            "names.")
    answer = extractive_answer("How can I find out how many parameter entries a URLSearchParams "
                               "object holds?", doc_sources(page))
    assert body_sentences(answer)[0] == (
        "`urlSearchParams.size`: The total number of parameter entries [1].")


def test_a_list_of_values_without_bullets_comes_with_the_sentence_that_introduces_it() -> None:
    # Node's crypto.md: a nested Markdown list, its bullets dropped by the parser.
    page = ("`dsaEncoding` {string} For DSA and ECDSA, this option specifies the format of the "
            "generated signature. It can be one of the following:\n\n"
            "`'der'` (default): DER-encoded ASN.1 signature structure encoding `(r, s)`.\n\n"
            "`'ieee-p1363'`: Signature format `r || s` as proposed in IEEE-P1363.\n\n"
            "`padding` {integer} Optional padding value for RSA.")
    answer = extractive_answer("Which dsaEncoding option gives ECDSA signatures in r || s form?",
                               doc_sources(page))
    assert ("It can be one of the following: `'der'` (default): DER-encoded ASN.1 signature "
            "structure encoding `(r, s)`. `'ieee-p1363'`: Signature format `r || s` as proposed "
            "in IEEE-P1363 [1].") in answer


def test_a_package_list_condition_is_shown_as_the_code_it_is() -> None:
    # The Debian Live manual (DOCX): each line of the example is a paragraph of its own.
    page = ("Any of the live-build configuration variables may be used in conditional statements "
            "in package lists.\n\nFor example, to install ia32-libs if the --architectures amd64 "
            "is specified:\n\n#if ARCHITECTURES amd64\n\nia32-libs\n\n#endif\n\n"
            "You may also test against variables that may contain more than one value.")
    answer = extractive_answer("How can I get live-build to install a package only when I build "
                               "for amd64?", doc_sources(page))
    assert "is specified: [1]\n\n```\n#if ARCHITECTURES amd64\nia32-libs\n#endif\n```" in answer
    # A word of prose between two commands is no code.
    answer = extractive_answer("How do I install foo?", doc_sources(
        "You can install foo with:\n\n$ pip install foo\n\nor\n\n$ conda install foo"))
    assert "with: `$ pip install foo` [1]" in answer and "\nor\n" not in answer


def test_a_signature_heads_only_the_sentences_of_its_own_section() -> None:
    # Found through `make run`: the last entry of one section headed the first sentence of the
    # next ("`urlSearchParams.sort()`: The `dsaEncoding` option specifies …").
    page = ("`urlSearchParams.sort()`\n\nSort all existing name-value pairs in-place by their "
            "names.\n\nSignatures\n\nThe `dsaEncoding` option specifies the format of the "
            "generated signature. It can be one of the following:\n\n`der` (default): DER.\n\n"
            "`ieee-p1363`: Signature format r || s as proposed in IEEE-P1363.")
    answer = extractive_answer("What values can the dsaEncoding option take for the signature "
                               "format?", doc_sources(page))
    assert body_sentences(answer)[0].startswith("The `dsaEncoding` option specifies")
    assert "sort()`:" not in answer


def test_an_option_with_a_value_heads_its_own_description_not_the_option_above() -> None:
    # (camlidl's manual, page 19.) "-D symbol=value" heads "The option -Dsymbol=value is passed
    # …"; not recognised as an option line, the search went on up to "-cpp" and the answer read
    # "`-cpp`: The option -Dsymbol=value is passed to the C preprocessor."
    page = ("4.2 Options\nThe following command-line options are recognized by camlidl.\n-cpp\n"
            "Pre-process the source IDL files with the C preprocessor. This option is set by "
            "default.\n-D symbol=value\nDefine a preprocessor symbol. The option -Dsymbol=value "
            "is passed to the C preprocessor.\nThe value can be omitted, as in -D symbol, and "
            "defaults to 1.\n-header\nGenerate a C header file f.h.")
    answer = extractive_answer("What value does a preprocessor symbol get when -D is given "
                               "without a value?", doc_sources(page))
    assert "`-cpp`" not in answer
    assert "`-D symbol=value`:" in answer


def test_an_index_in_running_text_is_shown_as_code_not_dropped_as_a_printed_reference() -> None:
    # (R-intro, page 26.) "Lst[[1]]" became "Lst[]": "[1]" was taken for a printed reference.
    page = ("Components are always numbered and may always be referred to as such. Thus if Lst is "
            "the name of a list with four components, these may be individually referred to as "
            "Lst[[1]], Lst[[2]], Lst[[3]] and Lst[[4]]. If, further, Lst[[4]] is a vector "
            "subscripted array then Lst[[4]][1] is its first entry. Deep learning is the state "
            "of the art for table detection [26] and scene text detection [4].")
    answer = extractive_answer("How do I refer to the components of a list Lst?",
                               doc_sources(page))
    assert "`Lst[[1]]`, `Lst[[2]]`, `Lst[[3]]` and `Lst[[4]]` [1]" in answer
    assert "`Lst[[4]][1]` is its first entry [1]" in answer
    # … and is no citation: the answer cites source 1 only, as itself.
    assert repair_citations(answer, {1}).cited == [1]
    assert repair_citations(answer, {1, 2, 3, 4}).cited == [1]
    # A printed reference after a space is still dropped.
    tables = extractive_answer("Which detection tasks is deep learning the state of the art for?",
                               doc_sources(page))
    assert "[26]" not in tables and "table detection and scene text detection [1]" in tables


def test_signatures_stacked_above_one_description_all_head_it() -> None:
    # (R-intro, page 70.) Three forms, one description: the answer named only the last one,
    # "`qqplot(x, y)`: The first form plots …", a label for what the passage says of qqnorm.
    page = ("qqnorm(x)\nqqline(x)\nqqplot(x, y)\nDistribution-comparison plots. The first form "
            "plots the numeric vector x against the expected Normal order scores (a normal "
            "scores plot) and the second adds a straight line to such a plot by drawing a line "
            "through the distribution and data quartiles.")
    answer = extractive_answer("How do I draw a normal scores plot with a straight line "
                               "through it?", doc_sources(page))
    assert "`qqnorm(x), qqline(x), qqplot(x, y)`: The first form plots" in answer


def test_an_example_above_a_sentence_about_it_is_no_signature() -> None:
    # (ReportLab user guide, page 11.) The lines of an example look like signatures; the sentence
    # under them says they are an example, so they do not label it.
    page = ("from reportlab.pdfgen import canvas\ndef hello(c):\nc.drawString(100,100,"
            "\"Hello World\")\nc = canvas.Canvas(\"hello.pdf\")\nhello(c)\nc.showPage()\nc.save()\n"
            "The above code creates a canvas object which will generate a PDF file named "
            "hello.pdf in the current working directory.")
    answer = extractive_answer("What file does the hello world canvas example generate?",
                               doc_sources(page))
    assert "The above code creates a canvas object" in answer
    assert "`hello(c)" not in answer and "c.save()`:" not in answer
    # A description under a signature is still headed by it.
    entry = "qqnorm(x)\nThis function plots x against the expected Normal order scores."
    plots = extractive_answer("What does qqnorm plot?", doc_sources(entry))
    assert "`qqnorm(x)`: This function plots" in plots


def test_the_sentence_after_the_best_one_joins_it_when_it_still_speaks_of_the_question() -> None:
    # (Node.js crypto.) The best sentence says when the call completes; the next one says when
    # it may block, with one word of the question: it goes on, and the answer with it.
    page = ("The `crypto.randomBytes()` method will not complete until there is sufficient "
            "entropy available. The only time when generating the random bytes may conceivably "
            "block for a longer period of time is right after boot, when the whole system is "
            "still low on entropy. Asynchronous callers get the bytes in a callback.")
    answer = extractive_answer("Will crypto.randomBytes() wait for entropy?", doc_sources(page),
                               max_sentences=1)
    assert "will not complete until there is sufficient entropy" in answer
    assert "right after boot" in answer
    # A sentence that no longer speaks of the question's words stays out.
    assert "callback" not in answer


@pytest.mark.parametrize(("page", "question", "leaned_on", "sentence"), [
    # (ReportLab user guide, Table.) "This argument" is cornerRadii, two sentences up; the
    # sentence right before it names no argument.
    ("The style argument can be an initial style for the table. The cornerRadii argument can be "
     "a list of the top left, top right, bottom left and bottom right radii. A positive non-zero "
     "radius indicates that the corner should be rounded. This argument will override any "
     "ROUNDEDCORNERS command in the argument style list.",
     "What overrides the ROUNDEDCORNERS command of a table style?",
     "The cornerRadii argument can be a list", "This argument will override any ROUNDEDCORNERS"),
    # (Live manual, keyboard settings.) "these" are the boot parameters the sentence before names.
    ("The keyboard is configured by live-config using the console-setup package. To configure "
     "it, use the keyboard-layouts and keyboard-variants boot parameters via the "
     "--bootappend-live option. Valid options for these can be found in "
     "/usr/share/X11/xkb/rules/base.lst.",
     "Where can I find the valid options?",
     "use the keyboard-layouts and keyboard-variants boot parameters",
     "/usr/share/X11/xkb/rules/base.lst"),
])
def test_a_sentence_leaning_on_an_earlier_one_is_joined_by_the_one_that_names_it(
        page: str, question: str, leaned_on: str, sentence: str) -> None:
    answer = extractive_answer(question, doc_sources(page), max_sentences=1)
    assert leaned_on in answer and sentence in answer


def test_what_an_acronym_stands_for_is_a_definition_question() -> None:
    assert definition_subject("What does COM stand for in the Camlidl manual?") == "com"
    assert definition_subject("What does the -nocpp option do?") is None
    # The sentence that says what it is answers, ahead of sentences that only use the word.
    page = ("Camlidl provides basic support for COM interfaces and components. The support "
            "for COM is currently quite small. COM is Microsoft's Common Object Model.")
    answer = extractive_answer("What does COM stand for?", doc_sources(page), max_sentences=1)
    assert "Common Object Model" in answer


def test_a_definition_question_behind_a_scene_or_before_a_contrast() -> None:
    question = ("In the functools docs, what is a key function, as opposed to an old-style "
                "comparison function?")
    assert definition_subject(question) == "key function"
    assert definition_subject("In R, what is a factor?") == "factor"
    # The sentence saying what a key function is answers, not the entry that uses the words.
    entry = ("cmp_to_key(func)\n\nTransform an old-style comparison function to a key function. "
             "Used with tools that accept key functions (such as sorted, min, max). This "
             "function is primarily used as a transition tool for programs being converted from "
             "Python 2 which supported the use of comparison functions.")
    glossary = ("A comparison function is any callable that accepts two arguments, compares "
                "them, and returns a negative number for less-than. A key function is a callable "
                "that accepts one argument and returns another value to be used as the sort key.")
    # (Two passages of the same document.)
    same = [Source(index=i, document_id="functools", filename="functools.rst", page=1,
                   chunk_id=f"c{i}", text=text, score=1.0)
            for i, text in enumerate((entry, glossary), 1)]
    assert "accepts one argument" in extractive_answer(question, same)


def test_one_word_a_passage_writes_for_two_of_the_question_holds_both() -> None:
    assert ("uppercas", "upper", "case") in joined_terms("render it in upper case")
    question = "Which ParagraphStyle attribute makes ReportLab render a paragraph's text in upper case?"
    page = ("The style argument should be an instance of class ParagraphStyle obtained using "
            "from reportlab.lib.styles import ParagraphStyle; this container class sets the "
            "default paragraph attributes. The options which can be set for a Paragraph can be "
            "seen from the ParagraphStyle defaults. ReportLab can render the text of a paragraph "
            "in many fonts. The textTransform attribute can be None, 'uppercase' or 'lowercase' "
            "to get the obvious result.")
    answer = extractive_answer(question, doc_sources(page), max_sentences=1)
    assert answer.startswith(f"{LEAD}\n\nThe textTransform attribute")
    # Not a name in code: `iterencode(bigobject)` names no "big object".
    assert ("bigobject", "big", "object") in joined_terms("a big object")
    code = doc_sources("for chunk in JSONEncoder().iterencode(bigobject):")
    assert "big" not in next(iter(extract("How do I encode a big object?", code).evidence), "")


def test_a_later_paragraph_about_another_name_is_not_headed_by_an_entry_name() -> None:
    # (functools.rst.) "partial.keywords" heads its own description; the paragraph after it is
    # about partial objects, and was shown as "`partial.keywords`: `partial` objects are like …".
    page = ("partial.args\n\nThe leftmost positional arguments that will be prepended to the "
            "positional arguments provided to a :class:`partial` object call.\n\n"
            "partial.keywords\n\nThe keyword arguments that will be supplied when the "
            ":class:`partial` object is called.\n\n:class:`partial` objects are like "
            ":class:`function` objects in that they are callable, weak referencable, and can "
            "have attributes. There are some important differences.")
    answer = extractive_answer("Are partial objects weak referencable?", doc_sources(page),
                               max_sentences=1)
    assert "`partial` objects are like `function` objects" in answer
    assert "`partial.keywords`:" not in answer
    # The entry's own description is still headed by it.
    own = extractive_answer("Which keyword arguments are supplied when a partial is called?",
                            doc_sources(page), max_sentences=1)
    assert "`partial.keywords`: The keyword arguments that will be supplied" in own


def test_a_line_ending_on_a_word_a_sentence_goes_on_from_is_no_heading() -> None:
    # (ReportLab's user guide, PDF.) "… the standard encoding on" / "Windows and …" was cut into
    # a "heading" and a sentence starting "Windows and many Unix systems …".
    page = ("The code chart below shows the characters in the WinAnsiEncoding.\nThis is the "
            "standard encoding on\nWindows and many Unix systems in America and Western Europe. "
            "It is also knows as Code Page 1252.")
    assert split_sentences(page)[1] == ("This is the standard encoding on Windows and many Unix "
                                        "systems in America and Western Europe.")
    # A short line that ends on a name or a capital letter still heads what follows.
    assert split_sentences("Appendix A\nThe grammar of the language.")[0] == "Appendix A"
    assert split_sentences("Reading data from files\nLarge data objects will usually be read "
                           "from files.")[0] == "Reading data from files"


def test_a_sentence_that_turns_against_the_one_before_brings_it() -> None:
    # (An Introduction to R, p. 71.) "However axes are still drawn …" was the answer without
    # the option it qualifies.
    page = ('type="s" Step-function plots.\ntype="n" No plotting at all. However axes are still '
            "drawn (by default) and the coordinate system is set up according to the data. "
            "Ideal for creating plots with subsequent low-level graphics functions.")
    answer = extractive_answer("Which plot() argument sets up the axes and coordinate system "
                               "from the data but draws no points?", doc_sources(page),
                               max_sentences=1)
    assert 'type="n" No plotting at all [1]. However axes are still drawn' in answer


def test_a_short_description_under_its_term_is_a_statement() -> None:
    # (Python's json docs, HTML.) A definition list's description of four words was too short to
    # be quoted, so the answer stopped at "… the following additional attributes:".
    page = ("exception json.JSONDecodeError(msg, doc, pos)\n\nSubclass of ValueError with the "
            "following additional attributes:\n\nmsg\n\nThe unformatted error message.\n\ndoc\n\n"
            "The JSON document being parsed.\n\npos\n\nThe start index of doc where parsing "
            "failed.")
    answer = extractive_answer("Which attribute of json.JSONDecodeError holds just the error "
                               "message, without the position details?", doc_sources(page))
    assert "`msg`: The unformatted error message [1]." in answer


def test_the_passage_ranked_first_is_quoted_even_when_another_shares_more_words() -> None:
    # (R-intro p. 11 ranked first, the ReportLab guide's list numbering second.) The second
    # shares "upper", "lower", "case" and "letters" with the question; the first answers it.
    r_page = ("1.8 R commands, case sensitivity, etc.\n\nTechnically R is an expression language "
              "with a very simple syntax. It is case sensitive as are most UNIX based packages, "
              "so A and a are different symbols and would refer to different variables. The set "
              "of symbols which can be used in R names depends on the operating system and "
              "country within which R is being run (technically on the locale in use).")
    lists = ("9.10 ListFlowable(),ListItem()\n\nThe type of numbering can also be set to use "
             "lower or upper case letters ('A,B,C' etc.) or Roman numerals (capitals or "
             "lowercase) using the bulletType property.")
    question = "Does R treat upper-case and lower-case letters in names as different?"
    found = body_sentences(extractive_answer(question, doc_sources(r_page, lists)))
    assert found[0].startswith("The type of numbering")  # the better match leads
    assert any("A and a are different symbols" in s and s.endswith("[1].") for s in found)
    # Ranked the other way round, the list numbering alone answers (the R sentence is not held
    # to the floor of the first passage's best sentence).
    swapped = extractive_answer(question, doc_sources(lists, r_page))
    assert "different symbols" not in swapped


# Four rules chosen on the QA set's tune split (session 34; docs/benchmarks.md §2b), each on the
# evaluation documents' own text.

SKI_RINKS = ("There are rinks in Switzerland 300 yards long—I leave the consideration of these, "
             "in the matter of labour required, to mathematicians.")
SKI_ICE = ("With each of these floodings the ice grows more desirably smooth, and more immaculately "
           "clean, till at the end of perhaps a fortnight there is something like 18 inches of "
           "solid ice over the ground that was levelled in the spring.")


def test_a_measure_given_with_another_dimension_does_not_answer() -> None:
    question = "How thick should the ice of a Swiss skating rink be?"
    _, thickness = asked_quantity(question)
    assert thickness is not None and thickness.search(SKI_ICE)
    assert not thickness.search(SKI_RINKS)  # "300 yards long" is a length, not a thickness
    _, length = asked_quantity("How long is the longest rink in Switzerland?")
    assert length is not None and length.search(SKI_RINKS)
    rinks = ("In fact, an artificial skating-rink is as necessary an equipment in the Swiss winter "
             "resort as is the hotel itself. These rinks are used for two purposes: skating, "
             "including bandy or ice hockey, and curling.")
    answer = extractive_answer(question, doc_sources(rinks, SKI_RINKS, SKI_ICE))
    assert "18 inches of solid ice" in answer and "300 yards" not in answer


def test_a_measure_of_what_the_question_measures_answers_with_few_of_its_words() -> None:
    # Node's crypto.md: the salt's sentence shares one word ("salt", in every passage) with
    # "How long should the salt be when I derive a key with pbkdf2 or scrypt in Node.js?".
    assert measured("How long should the salt be when I derive a key with pbkdf2?") == ["salt"]
    assert measured("How long may a line of code be under the live-build coding style?") == \
        ["line"]
    pbkdf2 = ("The `iterations` argument must be a number set as high as possible. The higher the "
              "number of iterations, the more secure the derived key will be, but will take a "
              "longer amount of time to complete.\n\nconst key = pbkdf2Sync('secret', 'salt', "
              "100000, 64, 'sha512');")
    scrypt = ("Provides a synchronous [scrypt][] implementation. Scrypt is a password-based key "
              "derivation function that is designed to be expensive computationally and "
              "memory-wise in order to make brute-force attacks unrewarding.\n\nThe `salt` should "
              "be as unique as possible. It is recommended that a salt is random and at least 16 "
              "bytes long. See [NIST SP 800-132][] for details.")
    question = "How long should the salt be when I derive a key with pbkdf2 or scrypt in Node.js?"
    found = extract(question, doc_sources(pbkdf2, scrypt))
    assert "at least 16 bytes long" in found.text and not found.untyped


def test_the_largest_and_the_maximum_are_one_word() -> None:
    assert content_terms("the longest key") == content_terms("the maximum key")
    assert content_terms("the smallest value") == content_terms("the min value")
    hkdf = ("`crypto.hkdf(digest, ikm, salt, info, keylen, callback)`\n\n`digest` {string} The "
            "digest algorithm to use.\n\n`ikm` {string|ArrayBuffer|Buffer} The input keying "
            "material. Must be provided but can be zero-length.\n\n`keylen` {number} The length of "
            "the key to generate. Must be greater than 0. The maximum allowable value is `255` "
            "times the number of bytes produced by the selected digest function (e.g. `sha512` "
            "generates 64-byte hashes, making the maximum HKDF output 16320 bytes).")
    answer = extractive_answer(
        "What is the longest key I can derive with crypto.hkdf when the digest is sha512?",
        doc_sources(hkdf))
    assert "16320 bytes" in answer


def test_a_sentence_beginning_whereas_goes_on_from_the_one_before() -> None:
    page = ("The language has available a conditional construction of the form\n> if (expr_1) "
            "expr_2 else expr_3\nwhere expr 1 must evaluate to a single logical value and the "
            "result of the entire expression\nis then evident.\nThe “short-circuit” operators && "
            "and || are often used as part of the condition in an if\nstatement. Whereas & and | "
            "apply element-wise to vectors, && and || apply to vectors of\nlength one, and only "
            "evaluate their second argument if necessary.")
    answer = extractive_answer("In an R if condition, should I use & or &&? What's the difference?",
                               doc_sources(page))
    assert "apply element-wise to vectors" in answer


TITLE_PAGE = ("LayoutParser: A Unified Toolkit for Deep\nLearning Based Document Image Analysis\n\n"
              "Zejiang Shen\n1\n(), Ruochen Zhang\n2\n, Melissa Dell\n3\n, Benjamin Charles "
              "Germain\nLee\n4\n, Jacob Carlson\n3\n, and Weining Li\n5\n1 Allen Institute for AI\n"
              "shannons@allenai.org 2 Brown University\nruochen zhang@brown.edu 3 Harvard "
              "University\n{melissadell,jacob carlson\n}@fas.harvard.edu\n4 University of "
              "Washington\nbcgl@cs.washington.edu 5 University of Waterloo\nw422li@uwaterloo.ca\n"
              "Abstract. Recent advances in document image analysis (DIA) have been\nprimarily "
              "driven by the application of neural networks.")


def test_an_authors_affiliation_is_read_off_the_title_page() -> None:
    assert affiliation("Where does Zejiang Shen, the first author, work?", TITLE_PAGE) == \
        ("Zejiang Shen", "Allen Institute for AI")
    assert affiliation("Which university is Benjamin Charles Germain Lee affiliated with?",
                       TITLE_PAGE) == ("Benjamin Charles Germain Lee", "University of Washington")
    assert affiliation("At which university is Weining Li?", TITLE_PAGE) == \
        ("Weining Li", "University of Waterloo")
    # Not a question about where someone works, or a name the page does not mark.
    assert affiliation("What did Zejiang Shen write?", TITLE_PAGE) is None
    assert affiliation("Where does Jane Roe work?", TITLE_PAGE) is None
    # Authors listed without commas: the next author is no affiliation.
    assert affiliation("Where does Jane Doe work?", "Jane Doe 1 John Roe 2\n1 Acme Labs\n"
                       "2 Foo University") == ("Jane Doe", "Acme Labs")


async def test_an_affiliation_answers_without_the_relevance_check() -> None:
    question = "Which university is LayoutParser co-author Melissa Dell affiliated with?"
    srcs = [Source(index=1, document_id="d", filename="layout-parser-paper.pdf", page=1,
                   chunk_id="c", text=TITLE_PAGE, score=0.4)]
    expected = f"{LEAD}\n\nMelissa Dell: Harvard University [1]."
    assert extractive_answer(question, srcs) == expected
    # The title page's similarity to the question (0.33 in the QA set) is under every floor;
    # the names and numbers it is read from are no sentence to weigh.
    assert await ExtractiveChatModel().answer(question, srcs, relevance=0.33) == expected


LIVE_SIZE = ("Now, build the image in the usual way: 「907」\n\n# lb build 2>&1 | tee build.log\n\n"
             "「908」\n\nOn the author's system at the time of writing this, the above "
             "configuration produced a 110MB image. This compares favourably with the 192MB "
             "image produced by the default configuration in . 「909」")
LIVE_USE_CASE = ("18.6 A base image for a 128MB USB key 「901」\n\nUse case: Create a default image "
                 "with some components removed in order to fit on a 128MB USB key with a little "
                 "space left over to use as you see fit. 「902」")
LIVE_NEXT = ("This compares favourably with the 192MB image produced by the default configuration "
             "in . 「909」\n\nLeaving off APT's indices with --apt-indices false saves a fair amount "
             "of space, the tradeoff being that you need to do an apt-get update before using apt "
             "in the live system.")
LIVE_QUESTION = ("In the live manual's 128MB USB key example, how big was the resulting image "
                 "compared with the default configuration?")


def test_a_quantity_the_question_states_is_not_the_one_it_asks_for() -> None:
    # The live manual's chunks as retrieved for the QA set's question: the question repeats
    # "128MB", which the use case's sentences give too; the size asked for is the image's.
    answer = extractive_answer(LIVE_QUESTION, doc_sources(LIVE_SIZE, LIVE_USE_CASE, LIVE_NEXT))
    assert "192MB" in answer


def test_a_sentence_whose_subject_is_this_leans_on_the_one_before() -> None:
    # "This compares favourably with the 192MB image …" says nothing without "… produced a
    # 110MB image", which shares fewer of the question's words.
    answer = extractive_answer(LIVE_QUESTION, doc_sources(LIVE_SIZE, LIVE_USE_CASE, LIVE_NEXT))
    assert "produced a 110MB image [1]. This compares favourably with the 192MB image" in answer


def test_how_many_is_answered_by_a_number_of_what_it_counts() -> None:
    _, models = asked_quantity("How many pre-trained models does the LayoutParser Model Zoo contain?")
    assert models is not None and models.search("The zoo offers 9 pre-trained models.")
    assert not models.search("It supports 5 datasets and 2 backends.")
    _, cups = asked_quantity("How many Stanley Cups have the Maple Leafs won?")
    assert cups is not None and cups.search("Team: Maple Leafs; Stanley Cups: 13")
    zoo = ("LayoutParser comes with a Model Zoo of pre-trained models for layout detection, "
           "trained on 5 different datasets such as PubLayNet and Newspaper Navigator.")
    # A number of something else does not answer (it did, as "a number").
    assert extract("How many pre-trained models does the LayoutParser Model Zoo contain?",
                   doc_sources(zoo)).untyped
    assert not extract("How many datasets were the Model Zoo's models trained on?",
                       doc_sources(zoo)).untyped


def test_a_term_heads_its_description_across_a_short_default_line() -> None:
    # The ReportLab guide's bar chart property table: "barLabelFormat" / "Defaults to None." /
    # the sentence that says what it does.
    table = ("barSpacing\nDefaults to 0. This is the spacing between bars in each\ngroup. If you "
             "wanted a little gap between green and red bars in\nthe example above, you would "
             "make this non-zero.\nbarLabelFormat\nDefaults to None. As with the YValueAxis, if "
             "you supply\na function or format string then labels will be drawn next to each "
             "bar\nshowing the numeric value. They are positioned automatically\nabove the bar "
             "for positive values and below for negative ones.\nbarLabels\nA collection of labels "
             "used to format all bar labels.")
    answer = extractive_answer("How can I get a ReportLab bar chart to print the numeric value "
                               "next to each bar?", doc_sources(table))
    assert "`barLabelFormat`: As with the YValueAxis, if you supply a function" in answer


async def test_a_best_sentence_holding_under_a_fifth_of_the_question_does_not_answer() -> None:
    # The json docs as retrieved for a question they do not answer: the best sentence holds
    # "encoding" and "json.load" of it, under MIN_COVERAGE of its weighted words.
    question = ("Which character encoding does json.load assume when I pass it a file opened in "
                "text mode without an encoding argument?")
    given = doc_sources(
        "Changed in version 3.6: All optional parameters are now keyword-only.\n\nChanged in "
        "version 3.6: fp can now be a binary file. The input encoding should be UTF-8, UTF-16 or "
        "UTF-32.\n\njson.loads(s, *, cls=None, object_hook=None, parse_float=None, "
        "parse_int=None, parse_constant=None, object_pairs_hook=None, **kw)\n\nDeserialize s (a "
        "str, bytes or bytearray instance containing a JSON document) to a Python object using "
        "this conversion table.\n\nThe other arguments have the same meaning as in load().\n\n"
        "If the data being deserialized is not a valid JSON document, a JSONDecodeError will be "
        "raised.\n\nChanged in version 3.6: s can now be of type bytes or bytearray. The input "
        "encoding should be UTF-8, UTF-16 or UTF-32.\n\nChanged in version 3.9: The keyword "
        "argument encoding has been removed.",
        "This module’s deserializer raises a ValueError when an initial BOM is present.\n\nThe "
        "RFC does not explicitly forbid JSON strings which contain byte sequences that don’t "
        "correspond to valid Unicode characters (e.g. unpaired UTF-16 surrogates), but it does "
        "note that they may cause interoperability problems. By default, this module accepts "
        "and outputs (when present in the original str) code points for such sequences.")
    found = extract(question, given)
    assert found.text and found.coverage < extractive.MIN_COVERAGE
    assert await ExtractiveChatModel().answer(question, given) == ""


def test_a_document_that_never_names_what_the_question_names_does_not_answer_it() -> None:
    guide = ("1.6 Installation and Setup\n\nTo avoid duplication, the installation instructions "
             "are kept in the README file in our distribution, which can be viewed online at "
             "https://hg.reportlab.com/hg-public/reportlab/ This release (3.6.12) of ReportLab "
             "requires Python versions 3.7+ or higher. If you need to use Python 2, please use the "
             "latest ReportLab 2.7 package that is suitable for you.")
    paper = ("LayoutParser is an open-source library for streamlining the usage of deep learning "
             "in document image analysis research and applications. DIA usually requires a "
             "sequence of models and other processing to obtain the final outputs.",
             "The library implements simple and intuitive Python APIs without sacrificing "
             "generalizability and versatility, and can be easily installed via pip.")
    given = [Source(index=i, document_id=document, filename=f"{document}.pdf", page=i,
                    chunk_id=f"c{i}", text=text, score=1.0)
             for i, (document, text) in enumerate(
                 [("guide", guide), ("paper", paper[0]), ("paper", paper[1])], 1)]
    question = "Which Python version does LayoutParser require?"
    # Only the paper names LayoutParser: its sentences are the best evidence, not ReportLab's
    # requirement (which the relevance check would weigh as if it answered).
    assert extractive._of_naming_documents(question, given) == {2, 3}
    assert extract(question, given).best_source == 2
    # Not when every document names it, nor for a name the question is set in or that names
    # the document (whose passages need not repeat it).
    assert extractive._of_naming_documents(question, given[1:]) == set()
    assert extractive._of_naming_documents(
        "Which Python version is needed with LayoutParser?", given) == set()
    assert extractive._of_naming_documents(
        "Which Python version does the LayoutParser paper require?", given) == set()


def test_currently_goes_on_from_the_sentence_before() -> None:
    page = ("The path option is the request path and should include the query string if any. "
            "An exception is thrown when the request path contains illegal characters. "
            "Currently, only spaces are rejected but that may change in the future.")
    answer = extractive_answer("Which characters in the request path make the request throw an "
                               "exception?", doc_sources(page), max_sentences=1)
    assert "Currently, only spaces are rejected" in answer


ERROR_ENTRY = """Exceptions

exception json.JSONDecodeError(msg, doc, pos)

Subclass of ValueError with the following additional attributes:

msg

The unformatted error message.

lineno

The line corresponding to pos.

colno

The column corresponding to pos.

New in version 3.5."""


def test_a_version_note_dates_the_entry_it_closes() -> None:
    # "New in version 3.5." holds none of the question's words and is four words long; for a
    # question asking for a version it answers with the entry it closes (the signature leads).
    question = "Since which Python version has json.JSONDecodeError had its lineno and colno attributes?"
    found = extract(question, doc_sources(ERROR_ENTRY))
    assert found.typed
    assert "`exception json.JSONDecodeError(msg, doc, pos)`: New in version 3.5 [1]." in found.text
    # Any other question: the note is no answer of its own.
    other = extract("What does the lineno attribute of json.JSONDecodeError hold?",
                    doc_sources(ERROR_ENTRY))
    assert "version" not in other.text
    # A note under a heading of its own dates nothing above the heading.
    headed = ERROR_ENTRY.replace("New in version 3.5.", "Changes\n\nNew in version 3.5.")
    assert not extract(question, doc_sources(headed)).typed


def test_a_version_note_dates_the_entry_of_a_long_class_signature() -> None:
    # The class line is too long to lead a sentence of its own; the note still dates its entry,
    # not the short signature of the entry before it.
    encoder = ("class json.JSONEncoder(*, skipkeys=False, ensure_ascii=True, check_circular=True, "
               "allow_nan=True, sort_keys=False, indent=None, separators=None, default=None)")
    passage = (f"raw_decode(s)\n\nDecode a JSON document from s.\n\n{encoder}\n\n"
               "Extensible JSON encoder for Python data structures.\n\n"
               "Changed in version 3.4: Added support for int- and float-derived Enum classes.")
    found = extract("In which Python version did the JSON encoder gain support for Enum classes?",
                    doc_sources(passage))
    assert f"`{encoder}`: Changed in version 3.4" in found.text
    assert "`raw_decode(s)`: Changed" not in found.text


async def test_a_version_note_of_the_entry_the_question_names_needs_no_more_evidence() -> None:
    cache = ("cache(user_function)\n\nSimple lightweight unbounded function cache. Returns the "
             "same as lru_cache(maxsize=None), a thin wrapper around a dictionary lookup.\n\n"
             "@cache\ndef factorial(n):\n    return n * factorial(n-1) if n else 1\n\n"
             "Added in version 3.9.")

    async def weak(_: str, __: list[str]) -> float:
        return 0.45  # the note's few words are far from the question's, as a whole passage is

    model = ExtractiveChatModel()
    # Read off the reference's structure (the note closes the entry the question names), the
    # answer needs no more evidence than that ...
    assert "`cache(user_function)`: Added in version 3.9" in await model.answer(
        "Which Python version introduced functools.cache?", doc_sources(cache), relevance=0.45,
        similarity=weak)
    # ... but a note of another entry is weighed as any answer is.
    assert await model.answer("Which Python version introduced functools.reduce?",
                              doc_sources(cache), relevance=0.45, similarity=weak) == ""


def _in_section(text: str, section: str, index: int = 1) -> Source:
    return Source(index=index, document_id="d1", filename="reference.md", page=1,
                  chunk_id=f"c{index}", text=text, score=1.0, location=section)


def test_a_passage_that_starts_inside_an_entry_is_about_that_entry() -> None:
    # A passage of lru_cache's entry, cut below its signature, beside one of another entry.
    typed = _in_section("If *typed* is set to true, function arguments of different types will be "
                        "cached separately.\n\n>>> f(3)\n>>> f(3.0)", "lru_cache(user_function)")
    other = _in_section("Function arguments of different types are compared as equal when their "
                        "values are equal.", "total_ordering", 2)
    found = extract("With lru_cache, are function arguments of different types cached separately?",
                    [other, typed])
    # Its sentences are shown with the signature that its section is, and named by it ...
    assert found.text.startswith(f"{LEAD}\n\n`lru_cache(user_function)`: If *typed* is set")
    # ... not its lines of code, which are the example's.
    assert "`lru_cache(user_function)`: `>>>" not in found.text


def test_an_option_line_states_the_default_of_its_option_not_of_its_function() -> None:
    options = _in_section("`namedCurve`: {string} Name of the curve to use (EC).\n\n"
                          "`prime`: {Buffer} The prime parameter (DH).\n\n"
                          "`primeLength`: {number} Prime length in bits (DH).\n\n"
                          "`generator`: {number} Custom generator (DH). **Default:** `2`.",
                          "crypto.generateKeyPair(type, options, callback)")
    # generateKeyPair's entry states a default, but of generator: namedCurve's is not given.
    assert extract("Which elliptic curve does crypto.generateKeyPair('ec') use if I leave out "
                   "the namedCurve option?", [options]).undefaulted


def test_a_version_note_opening_a_passage_dates_the_entry_its_section_is() -> None:
    # The reference heads each entry (reStructuredText's ".. function:: singledispatch"): a
    # passage several below the signature, whose first note is the entry's, is in its section.
    registry = ("To access all registered implementations, use the read-only registry attribute:"
                "\n\n>>> fun.registry.keys()\ndict_keys([<class 'int'>, <class 'object'>])\n\n"
                "Added in version 3.4.\n\nsingledispatchmethod(func)\n\nTransform a method into a "
                "single-dispatch generic function.\n\nAdded in version 3.8.")
    stdev = "def stdev(self):\n    return statistics.stdev(self._data)\n\nAdded in version 3.8."
    sources = [Source(index=1, document_id="d1", filename="functools.rst", page=1,
                      chunk_id="c1", text=stdev, score=1.0, location="cached_property(func)"),
               Source(index=2, document_id="d1", filename="functools.rst", page=1,
                      chunk_id="c2", text=registry, score=0.9, location="singledispatch")]
    found = extract("Which Python version introduced functools.singledispatch?", sources)
    assert found.typed
    assert found.text.startswith(f"{LEAD}\n\n`singledispatch`: Added in version 3.4 [2].")
    # A note of the entry that starts further down the passage is that entry's, and another
    # section's note is not quoted.
    assert "`singledispatch`: Added in version 3.8" not in found.text
    assert "[1]" not in found.text
    # A page is no section: the note of a PDF's page dates nothing above the passage.
    paged = [replace(s, location="p. 4") for s in sources]
    assert "Added in version 3.4" not in extract(
        "Which Python version introduced functools.singledispatch?", paged).text


DUMPS_ENTRY = """json.dumps(obj, *, skipkeys=False, ensure_ascii=True, allow_nan=True, indent=None)

Serialize obj to a JSON formatted str using this conversion table.

If allow_nan is false, it is a ValueError to serialize out of range float values.

Changed in version 3.4: Added support for int- and float-derived Enum classes.

Changed in version 3.6: All parameters are now keyword-only.

Changed in version 3.2: Allow strings for indent in addition to integers.

Using json.tool from the shell: `$ echo '{1.2:3.4}' | python -m json.tool`"""


def test_a_version_question_is_answered_by_a_note_about_what_it_dates() -> None:
    # The notes of the entry date the Enum support, the keyword-only parameters and the string
    # indent; none says when allow_nan came (and "allow" in "Allow strings for indent" is not
    # allow_nan; "1.2" in the shell example is code, no version).
    subject = dated_subject("In which Python version was the allow_nan parameter added to "
                            "json.dumps?")
    assert subject is not None
    assert not subject.dated_by("Allow strings for indent in addition to integers.")
    assert subject.dated_by("The allow_nan flag was added.")
    uuid = dated_subject("In which Node.js version was crypto.randomUUID() added?")
    assert uuid is not None and uuid.dated_by("Generates a random UUID.")
    assert not uuid.dated_by("Legacy streams API (prior to Node.js 0.10)")
    assert dated_subject("Which Python version does LayoutParser require?") is None

    refused = extract("In which Python version was the allow_nan parameter added to json.dumps?",
                      doc_sources(DUMPS_ENTRY))
    assert refused.untyped
    answered = extract("Since which Python version can I pass a string as the indent of "
                       "json.dumps?", doc_sources(DUMPS_ENTRY))
    assert not answered.untyped
    assert "Changed in version 3.2: Allow strings for indent" in answered.text
    enum = extract("Since which Python version can json.dumps serialize members of an IntEnum?",
                   doc_sources(DUMPS_ENTRY))
    assert not enum.untyped and "3.4" in enum.text


async def test_a_version_note_about_something_else_answers_nothing() -> None:
    question = "In which Python version was the allow_nan parameter added to json.dumps?"
    assert await ExtractiveChatModel().answer(question, doc_sources(DUMPS_ENTRY)) == ""


async def test_a_question_asking_for_a_default_needs_an_answer_that_states_one() -> None:
    question = ("Which elliptic curve does crypto.generateKeyPair('ec') use if I leave out the "
                "namedCurve option?")
    assert asks_default(question)
    assert not asks_default("How can I change the default user name of the live system?")
    # Partly answered by what it does: not only a default.
    assert not asks_default("What does the splitInRow argument control, and what is its default?")
    options = ("`crypto.generateKeyPair(type, options, callback)`\n\n`type` {string} Must be "
               "'rsa', 'dsa' or 'ec'.\n\n`namedCurve` {string} Name of the curve to use (EC).")
    found = extract(question, doc_sources(options))
    assert "Name of the curve to use" in found.text and found.undefaulted
    assert await ExtractiveChatModel().answer(question, doc_sources(options)) == ""
    stated = options.replace("(EC).", "(EC). **Default:** `'prime256v1'`.")
    assert "prime256v1" in await ExtractiveChatModel().answer(question, doc_sources(stated))


async def test_a_default_of_another_entry_does_not_answer_a_question_naming_its_own() -> None:
    entries = ("startAngle\nWhere is the start angle of the first pie slice? The default is '90' "
               "which is twelve o'clock.\nsideLabels\nThis creates a chart with the labels in two "
               "columns, one on either side.\nsideLabelsOffset\nThis is a fraction of the width of "
               "the pie that defines the horizontal distance between the pie and the columns of "
               "labels.")
    question = "What is the default value of the sideLabelsOffset property of a pie chart?"
    found = extract(question, doc_sources(entries))
    assert "fraction of the width" in found.text and found.undefaulted
    assert await ExtractiveChatModel().answer(question, doc_sources(entries)) == ""
    # The entry's own default answers, under its term; so does any default when none is named.
    own = entries.replace("columns of labels.", "columns of labels; its default is 0.05.")
    assert not extract(question, doc_sources(own)).undefaulted
    assert "0.05" in await ExtractiveChatModel().answer(question, doc_sources(own))
    assert not extract("What is the default start angle of a pie chart's first slice?",
                       doc_sources(entries)).undefaulted


def test_a_default_before_a_name_in_a_flattened_table_is_of_the_entry_before() -> None:
    # A reference table read as one sentence: "Defaults to None" is strokeColor's, and tickUp's
    # entry starts after it.
    table = ("XCategoryAxis properties. strokeColor Color of the axis line. Defaults to None "
             "strokeWidth Width of axis in points tickUp How far above the axis should the tick "
             "marks protrude?")
    question = "What is the default value of the tickUp property of an XCategoryAxis?"
    found = extract(question, doc_sources(table))
    assert "tickUp" in found.text and found.undefaulted
    # The name right after "default" ("the default of tickUp") or before it is stated.
    for stated in ("The default of tickUp is 5 points.", "tickUp: how far the tick marks "
                   "protrude above the axis. Defaults to 5 points."):
        assert not extract(question, doc_sources(stated)).undefaulted


_CEX = ("cex=1.5 Character expansion. The value is the desired size of text characters relative "
        "to the default text size. cex.axis cex.lab cex.main cex.sub The character expansion to "
        "be used for axis annotation, x and y labels, main and sub-titles, respectively.")
_TICKS = ("valueStep\nThe y change between tick intervals.\nminimumTickSpacing\nThis is used "
          "when valueStep is set to None, and ignored otherwise.")


@pytest.mark.parametrize(("entry", "question", "shown", "stated"), [
    # "cex.main" is the name asked about: "relative to the default text size" under a list of
    # names states no default of it.
    (_CEX, "What default value does R use for the cex.main graphics parameter?",
     "default text size", f"{_CEX} The default of cex.main is 1.2."),
    # "… and ignored otherwise" says when the setting counts, not what is used without it;
    # "otherwise" that goes on to a value states it.
    (_TICKS, "What is the default value of minimumTickSpacing on a YValueAxis?",
     "ignored otherwise", _TICKS.replace("ignored otherwise.", "otherwise it is 10 points.")),
])
def test_an_answer_stating_no_default_of_the_name_asked_is_undefaulted(
        entry: str, question: str, shown: str, stated: str) -> None:
    found = extract(question, doc_sources(entry))
    assert shown in found.text and found.undefaulted
    assert not extract(question, doc_sources(stated)).undefaulted


def test_a_setting_is_no_question_word() -> None:
    assert setting_phrase("How do I draw a bar chart with matplotlib?") == "matplotlib"
    assert setting_phrase("What does it return in Node.js?") == "Node.js"
    # "… and in what units?" asks what the answer is measured in: no tool it is set in.
    assert setting_phrase("Which attribute sets how far the label columns sit from the pie, "
                          "and in what units?") is None
    assert setting_phrase("Which module is it documented in, with which options?") is None


async def test_a_question_about_what_no_passage_speaks_of_is_not_answered() -> None:
    page = ("The functools module.\n\n@lru_cache(maxsize=128, typed=False)\n\nDecorator to "
            "wrap a function with a "
            "memoizing callable that saves up to the maxsize most recent calls. It can save time "
            "when an expensive or I/O bound function is periodically called with the same "
            "arguments. The cache is threadsafe so the wrapped function can be used in multiple "
            "threads.")
    question = "Can functools.lru_cache be used on async coroutine functions?"
    assert extract(question, doc_sources(page)).unasked
    assert await ExtractiveChatModel().answer(question, doc_sources(page)) == ""
    # One such word is not enough ("Can … be used from several threads at once?" is answered),
    # nor a setting the question ends on.
    assert not extract("Can functools.lru_cache be used on coroutine functions?",
                       doc_sources(page)).unasked
    threads = "Can the function wrapped by lru_cache be used in multiple threads in CPython?"
    assert not extract(threads, doc_sources(page)).unasked
    assert "threadsafe" in await ExtractiveChatModel().answer(threads, doc_sources(page))
    # Any question, not only yes/no; a word as written counts once ("Node.js" is one), and the
    # documents it names ("the docs") and the names setting its context ("Benson says") none.
    assert extract("How do I look up a value with a JSON Pointer (RFC 6901) using lru_cache?",
                   doc_sources(page)).unasked
    assert not extract("What does lru_cache return in Node.js when maxsize is None?",
                       doc_sources(page)).unasked
    assert not extract("Profiling shows lru_cache is slow. What do the docs suggest instead?",
                       doc_sources(page)).unasked
    # Nor a word of the file name ("asyncio" in asyncio-guide.pdf, whose pages need not say it),
    # nor a contraction ("I've").
    asyncio_code = "Can lru_cache wrap coroutine functions from asyncio code?"
    assert extract(asyncio_code, doc_sources(page)).unasked
    guide = [Source(index=1, document_id="d1", filename="asyncio-guide.pdf", page=1,
                    chunk_id="c1", text=page, score=1.0)]
    assert not extract(asyncio_code, guide).unasked
    assert not extract("I've coroutine functions: can lru_cache wrap them?",
                       doc_sources(page)).unasked


async def test_records_whose_fields_name_nothing_asked_do_not_answer_it() -> None:
    # "Which conference …?" over a workbook's rows: no field (nor any passage) names a
    # conference, so no value in them is one. A field that is asked for answers.
    table = ("Team: Blues; Location: STL; Stanley Cups: 1\n"
             "Team: Flyers; Location: PHI; Stanley Cups: 2\n"
             "Team: Maple Leafs; Location: TOR; Stanley Cups: 13")
    assert asked_kind("Which conference do the Flyers play in?") == "conference"
    assert asked_kind("In which arena do the Maple Leafs play?") == "arena"
    assert asked_kind("Where do the Flyers play?") is None
    model = ExtractiveChatModel()
    for question in ("Which conference do the Flyers play in?",
                     "In which arena do the Maple Leafs play, according to the workbook?"):
        found = extract(question, doc_sources(table))
        assert "Team: Flyers" in found.text or "Team: Maple Leafs" in found.text
        assert found.unasked
        assert await model.answer(question, doc_sources(table)) == ""
    assert not extract("Which location do the Flyers play in?", doc_sources(table)).unasked
    assert "PHI" in await model.answer("Which location do the Flyers play in?",
                                       doc_sources(table))
    # Prose is judged by the other rules: a sentence may name what it gives in other words.
    prose = "The Flyers play their home games in Philadelphia, in the Eastern Conference."
    assert not extract("Which conference do the Flyers play in?", doc_sources(prose)).unasked


def test_another_passage_of_the_document_joins_at_less_than_half_the_best_score() -> None:
    # "Distinct argument patterns … separate cache entries" scores best; "If typed is set to
    # true, … cached separately" from the next passage of the same page, at 0.45 of it, says
    # what the question asks. From another document it needs OTHER_DOCUMENT_FLOOR.
    def candidate(source: int, document: str, score: float) -> extractive._Candidate:
        return extractive._Candidate(source - 1, source, document, 0, f"Sentence {source}.",
                                     frozenset({f"term{source}"}), score)

    best, same, other = candidate(1, "d1", 1.0), candidate(2, "d1", 0.45), candidate(3, "d2", 0.45)
    assert extractive._pick([best, same, other], 6) == [best, same]


async def test_the_name_a_version_is_of_need_not_be_written() -> None:
    # The functools docs never write "Python": "Python version" says what the version is of,
    # not a subject the passages must name (a module's own docs, uploaded alone).
    assert proper_names("Since which Python version can I use annotations with register?") == []
    passage = ("To add overloaded implementations to the function, use the register attribute of "
               "the generic function.\n\nChanged in version 3.7: The register attribute now "
               "supports using type annotations.")

    async def close(_: str, sentences: list[str]) -> float:
        return 0.65

    answer = await ExtractiveChatModel().answer(
        "Since which Python version can the register attribute of singledispatch use type "
        "annotations?", doc_sources(passage), relevance=0.65, similarity=close)
    assert "Changed in version 3.7" in answer


def test_a_list_that_lost_its_bullets_is_shown_with_the_sentence_introducing_it() -> None:
    # A word processor's list: each item a paragraph, the bullets gone.
    page = ("It is beyond the scope of this document to give advice on how to customize your "
            "kernel. However, you must at least ensure your kernel configuration satisfies these "
            "minimum requirements:\n\nUse an initial ramdisk.\n\nInclude the union filesystem "
            "module (i.e. usually aufs).\n\nInclude any other filesystem modules required by "
            "your configuration.")
    question = "What are the minimum requirements for my own kernel configuration?"
    answer = extractive_answer(question, doc_sources(page), max_sentences=1)
    assert "requirements: Use an initial ramdisk. Include the union filesystem module" in answer
    assert answer.count("satisfies these minimum requirements") == 1
    # Long sentences after a colon are prose, not items.
    prose = page.replace("Use an initial ramdisk.", "Use an initial ramdisk, which the boot "
                         "loader hands to the kernel so that it can mount the live medium's "
                         "root filesystem before anything else.")
    assert "requirements: Use an" not in extractive_answer(question, doc_sources(prose),
                                                           max_sentences=1)


def test_a_sentence_shown_with_the_code_it_introduces_is_not_shown_again_without_it() -> None:
    page = ("Chapter 11: Statistical models in R 58\ninto k columns giving the indicators for all "
            "the levels. Second, the whole behavior can be\nchanged by the options setting for "
            "contrasts. The default setting in R is\noptions(contrasts = c(\"contr.treatment\", "
            "\"contr.poly\"))\nThe main reason for mentioning this is that R and S have different "
            "defaults for unordered\nfactors, S using Helmert contrasts. So if you need to compare "
            "your results to those of a\ntextbook or paper which used S-Plus, you will need to set"
            "\noptions(contrasts = c(\"contr.helmert\", \"contr.poly\"))\nThis is a deliberate "
            "difference, as treatment contrasts (R’s default) are thought easier for\nnewcomers "
            "to interpret.")
    question = ("I need to compare my R results with a textbook that used S-Plus and its Helmert "
                "contrasts for unordered factors. What options setting makes R do the same?")
    answer = extractive_answer(question, doc_sources(page))
    assert answer.count("you will need to set") == 1
    assert 'you will need to set `options(contrasts = c("contr.helmert", "contr.poly"))` [1]' \
        in answer


def test_of_two_copies_of_a_sentence_the_one_under_its_signature_is_shown() -> None:
    # Two overlapping chunks of the ReportLab guide: the first cut just below the signature.
    cut = ("This is called to filter flowables at the start of the main handle_flowable method. "
           "Upon return if flowables[0] has been set to None it is discarded and the main method "
           "returns immediately.\nBaseDocTemplate.afterFlowable(self, flowable)\nAn interested "
           "class could use this hook to gather information about what information is present.")
    whole = ("BaseDocTemplate.beforePage(self)\nThis is called at the beginning of page "
             "processing.\nBaseDocTemplate.filterFlowables(self,flowables)\n" + cut.split("\n")[0])
    question = ("Which BaseDocTemplate hook lets me inspect or drop flowables before the main "
                "handle_flowable method deals with them?")
    answer = extractive_answer(question, doc_sources(cut, whole))
    assert "`BaseDocTemplate.filterFlowables(self,flowables)`: This is called to filter " \
           "flowables" in answer
    assert answer.count("This is called to filter flowables") == 1


def test_a_default_stated_after_the_pick_joins_the_answer_to_a_default_question() -> None:
    options = ("--min-vsize=N\n--min-nsize=N\nFor expert use only: set the initial trigger sizes "
               "for garbage collection of vector heap (in bytes) and cons cells (number) "
               "respectively. Suffix 'M' specifies megabytes or millions of cells respectively. "
               "The defaults are 6Mb and 350k respectively and can also be set by environment "
               "variables R_NSIZE and R_VSIZE.\n--max-ppsize=N\nSpecify the maximum size of the "
               "pointer protection stack. This defaults to 10000.")
    question = ("What are the default initial garbage-collection trigger sizes for the vector heap "
                "and the cons cells?")
    found = extract(question, doc_sources(options), max_sentences=1)
    assert "The defaults are 6Mb and 350k" in found.text and not found.undefaulted
    # Not past the entry: the next option's default is not this one's.
    cut = options.replace("The defaults are 6Mb and 350k respectively and can also be set by "
                          "environment variables R_NSIZE and R_VSIZE.", "")
    assert "10000" not in extract(question, doc_sources(cut), max_sentences=1).text


def test_an_identifier_of_a_listed_family_is_found_where_it_is_written_whole() -> None:
    # crypto.md's constants as retrieved: the introduction holds more of the question's words
    # ("constants", "crypto", "OpenSSL") than the one row naming SSL_OP_ALL, whose parts every
    # row shares.
    intro = ("Crypto constants\n\nThe following constants exported by `crypto.constants` apply "
             "to various uses of the `node:crypto`, `node:tls`, and `node:https` modules and "
             "are generally specific to OpenSSL.\n\nOpenSSL options\n\n"
             "Constant: SSL_OP_ALL | Description: Applies multiple bug workarounds within "
             "OpenSSL.\n\nConstant: SSL_OP_ALLOW_NO_DHE_KEX | Description: Instructs OpenSSL to "
             "allow a non-[EC]DHE-based key exchange mode for TLS v1.3\n\n"
             "Constant: SSL_OP_NO_TICKET | Description: Instructs OpenSSL to disable use of "
             "RFC4507bis tickets.")
    answer = extractive_answer("What does the SSL_OP_ALL constant in Node's crypto.constants do?",
                               doc_sources(intro))
    assert "Applies multiple bug workarounds within OpenSSL" in answer
