"""The grounding check of generated answers (app/rag/grounding.py): which source supports which
sentence, and how citations and flags follow from that. Pure logic; the end-to-end checks with a
real model server are in test_grounded_answers.py and tests/api/test_chat_llm.py."""

from __future__ import annotations

from app.rag.grounding import (
    UNSUPPORTED_MARK,
    Grounder,
    _units,
    cite_something,
    closest_sentence,
    names,
    numbers,
    support,
    word_order,
)
from app.rag.prompts import Source

FROB = ("The frobnicator connects to the hub over TLS on port 8,443. It gives up after a timeout "
        "of 42 seconds and retries three times.")
# From the CamlIDL manual (shared/eval/docs), the passage SmolLM2 cited for "What does camlidl do?".
CAMLIDL = ("For each file f.idl given on the command line, camlidl generates the following files: "
           "A Caml interface file f.mli that defines the Caml view of the IDL file. It contains Caml "
           "definitions for the types declared in the IDL file, as well as declarations for the "
           "functions and the interfaces. A Caml implementation file f.ml that implements the f.mli "
           "file. A C source file f_stubs.c that contains the stub functions for converting between "
           "C and Caml data representations.")
SOUP = "The cafeteria serves tomato soup on Tuesdays and lentil soup on Fridays."


def sources() -> list[Source]:
    return [Source(index=i + 1, document_id=f"d{i}", filename=f"f{i}.md", page=1, chunk_id=f"c{i}",
                   text=t, score=1.0) for i, t in enumerate((SOUP, FROB))]


def test_numbers_and_names() -> None:
    assert numbers("port 8,443, 3.5 MB, 42 seconds.") == {"8443", "3.5", "42"}
    assert names("Use `json.dumps` with read_table() in Python and pandas.DataFrame.") >= {
        "json.dumps", "read_table", "python", "pandas.dataframe"}
    assert "the" not in names("The frobnicator is fast.")  # the first word is not a name


def test_a_wrong_number_is_not_supported_even_when_the_words_match() -> None:
    assert support("The frobnicator gives up after a timeout of 42 seconds.", FROB).supported
    wrong = support("The frobnicator gives up after a timeout of 10 seconds.", FROB)
    assert wrong.lexical >= 0.6 and not wrong.facts_match and not wrong.supported
    assert support("It uses port 8443 over TLS.", FROB).supported  # "8,443" is 8443
    assert not support("The frobnicator connects to the hub over Bluetooth.", FROB).supported


def test_words_recombined_from_a_passage_are_not_supported_by_it() -> None:
    # Every word of the sentence is in the passage, but not what it says.
    garbled = "The implementation file converts the interfaces declared in the C source file."
    assert support(garbled, CAMLIDL).lexical == 1.0
    assert word_order(garbled, CAMLIDL) < 0.6 and not support(garbled, CAMLIDL).supported
    # Said back in the passage's words (or with them a little rearranged), it is.
    told = "camlidl generates a C source file f_stubs.c with the stub functions for converting."
    assert word_order(told, CAMLIDL) >= 0.6 and support(told, CAMLIDL).supported
    assert support("The stubs convert between Caml and C data representations.", CAMLIDL).supported
    # Another word order may still be a paraphrase, if the embeddings say so (see below).
    assert not support("Stub functions the data file converting source.", CAMLIDL).supported


def test_a_negated_claim_needs_a_negation_in_the_passage_sentence_it_matches() -> None:
    # (SmolLM2 on the LayoutParser paper.) The passage's words hold the claim, not what it says.
    paper = ("The library implements simple and intuitive Python APIs. Its convenient functions "
             "for handling document image data can be seamlessly integrated with existing DIA "
             "pipelines. It is open source.")
    wrong = support("The functions for handling document image data are not available.", paper)
    assert wrong.lexical >= 0.6 and not wrong.polarity and not wrong.supported
    assert support("Its functions for handling document image data can be integrated with "
                   "existing DIA pipelines.", paper).supported
    # A negation the passage makes too, in other words, stands; so does one only in code.
    assert support("The frobnicator does not retry more than three times.",
                   FROB + " It never retries more than three times.").polarity
    assert support("Call `connect(retry=None)` to reach the hub over TLS on port 8443.",
                   FROB).polarity
    assert not support("The frobnicator gives up after a timeout of 42 seconds without retrying.",
                       FROB).polarity


async def test_an_index_in_the_models_code_is_kept_not_taken_for_a_marker() -> None:
    # "`x[1]`" came out as "`x`": the sentence's markers were stripped inside its code too.
    vector = [Source(index=1, document_id="d", filename="R-intro.pdf", page=3, chunk_id="c",
                     text="Use x[1] to get the first element of the vector x in R.", score=1.0),
              Source(index=2, document_id="d2", filename="menu.md", page=1, chunk_id="c2",
                     text=SOUP, score=1.0)]
    g = Grounder(vector)
    g.feed("Use `x[1]` to get the first element of the vector x [1].\n"
           "The cafeteria serves soup on `days[2]` and Fridays [1].\n")
    out = await g.finish()
    assert out.text.startswith("Use `x[1]` to get the first element of the vector x [1].\n")
    assert f"on `days[2]` and Fridays {UNSUPPORTED_MARK}." in out.text
    assert out.cited == [1]  # (not 2: "days[2]" is code)


async def test_a_negated_claim_the_passage_contradicts_is_flagged() -> None:
    g = Grounder(sources())
    g.feed("The frobnicator never connects to the hub over TLS on port 8443 [2].")
    out = await g.finish()
    assert out.text == ("The frobnicator never connects to the hub over TLS on port 8443 "
                        f"{UNSUPPORTED_MARK}.")
    assert out.unsupported and out.cited == []


async def test_citations_follow_the_evidence() -> None:
    g = Grounder(sources())
    answer = ("The frobnicator connects to the hub over TLS on port 8443 [1]. "
              "The cafeteria serves tomato soup on Tuesdays. "
              "The frobnicator gives up after a timeout of 10 seconds [2].\n\nSure!")
    for i in range(0, len(answer), 7):  # streamed in small pieces
        g.feed(answer[i:i + 7])
    out = await g.finish()
    assert out.text == ("The frobnicator connects to the hub over TLS on port 8443 [2]. "
                        "The cafeteria serves tomato soup on Tuesdays [1]. "
                        f"The frobnicator gives up after a timeout of 10 seconds {UNSUPPORTED_MARK}."
                        "\n\nSure!")
    assert out.cited == [2, 1]
    assert out.unsupported == ["The frobnicator gives up after a timeout of 10 seconds."]
    assert out.checked == 3


async def test_code_blocks_fragments_and_refusals_are_left_as_written() -> None:
    g = Grounder(sources())
    answer = ("Here it is:\n```\nport = 9999 [1]\n```\nThe documents do not mention the "
              "frobnicator's colour [2].")
    g.feed(answer)
    out = await g.finish()
    assert out.text == answer
    assert out.unsupported == [] and out.checked == 0


async def test_a_heading_the_model_copied_is_never_given_a_citation() -> None:
    manual = ("Appendix B: Invoking R\nB.1 Invoking R from the command line\nWhen working at a "
              "command line on UNIX or Windows, the command 'R' can be used to start R.\n"
              "6.1 Writing an IDL file")
    radio = "The 2.4 GHz band gives a longer range than the 5 GHz band."
    srcs = [Source(index=i + 1, document_id=f"d{i}", filename=f"f{i}.txt", page=1,
                   chunk_id=f"c{i}", text=t, score=1.0) for i, t in enumerate((manual, radio))]
    g = Grounder(srcs)
    # SmolLM2 on QA batch 12: headings copied as answer lines, every word in the passage.
    answer = ("B.1 Invoking R from the command line\n6.1 Writing an IDL file [2]\n"
              "When working at a command line, the command 'R' can be used to start R.\n"
              "- 2.4 GHz band gives a longer range than 5 GHz [1]\n")
    g.feed(answer)
    out = await g.finish()
    # Nothing is attached to a heading; a marker the model wrote itself stays, as on any
    # fragment that claims nothing. A claim that merely starts with a number is checked.
    assert out.text == ("B.1 Invoking R from the command line\n6.1 Writing an IDL file [2]\n"
                        "When working at a command line, the command 'R' can be used to start "
                        "R [1].\n- 2.4 GHz band gives a longer range than 5 GHz [2]\n")
    assert out.cited == [2, 1] and out.checked == 2 and out.unsupported == []
    # A passage line with the paragraph number some exports print is the same heading.
    live = "18.6 A base image for a 128MB USB key 「901」\n\nUse case: Create a default image."
    g = Grounder([Source(index=1, document_id="d", filename="live-manual.docx", page=1,
                         chunk_id="c", text=live, score=1.0)])
    g.feed("18.6 A base image for a 128MB USB key\n")
    out = await g.finish()
    assert out.text == "18.6 A base image for a 128MB USB key\n" and out.cited == []


async def test_a_line_of_closing_brackets_is_never_given_a_citation() -> None:
    code = "const { getCiphers } = await import('node:crypto');\n  }, {\n})"
    g = Grounder([Source(index=1, document_id="d", filename="crypto.md", page=1, chunk_id="c",
                         text=code, score=1.0)])
    # SmolLM2 on QA batch 13: the end of a code example written as prose lines.
    g.feed("})\n")
    out = await g.finish()
    assert out.text == "})\n" and out.cited == [] and out.checked == 0
    # A short line of code with a one-letter name is still held to the passages' code.
    g = Grounder([Source(index=1, document_id="d", filename="crypto.md", page=1, chunk_id="c",
                         text=code, score=1.0)])
    g.feed("x = 5 [1]\n")
    out = await g.finish()
    assert out.unsupported == ["x = 5"] and out.checked == 1


async def test_r_output_copied_as_prose_is_code_not_a_citation() -> None:
    listing = "> ls(2)\n[1] \"u\" \"v\" \"w\""
    g = Grounder([Source(index=1, document_id="d", filename="R-intro.pdf", page=38,
                         chunk_id="c", text="The search path lists attached packages.", score=1.0),
                  Source(index=2, document_id="d", filename="R-intro.pdf", page=39,
                         chunk_id="c2", text=listing, score=1.0)])
    # SmolLM2 on QA batch 14: R's index of the first printed value read as a citation of [1].
    g.feed('> ls(2) [2]\n[1] "u" "v" "w"\nA sentence that follows.\n')
    out = await g.finish()
    assert '\n`[1] "u" "v" "w"`\n' in out.text and 1 not in out.cited
    # Aligned indexes, knitr's "##", NaN; one value after R's prompt. Not a model's list of
    # sources, "[1] 2023", nor a sentence after a marker.
    text = ('> mean(x)\n[1] 3.5\n  [1]  1  2 NaN\n## [1] 1 2\n[1] 2023\n'
            '[1] The default is 30 seconds.\n')
    code = [piece for piece, is_sentence in _units(text) if piece.startswith("`")]
    assert code == ["`[1] 3.5`", "`[1]  1  2 NaN`", "`## [1] 1 2`"]


async def test_a_line_of_contents_the_model_copied_is_never_given_a_citation() -> None:
    contents = ("Table of contents\nChapter 1 Introduction 6\n1.2 What is the ReportLab PDF "
                "Library? . . . . . . . . . . 6\n1.3 ReportLab's commercial software . . . . . 7")
    g = Grounder([Source(index=1, document_id="d", filename="userguide.pdf", page=2,
                         chunk_id="c", text=contents, score=1.0)])
    # SmolLM2 on QA batch 9, asked how to add a table of contents: the guide's own contents.
    answer = "1.2 What is the ReportLab PDF Library? . . . . . . . . . . 6\n"
    g.feed(answer)
    out = await g.finish()
    assert out.text == answer and out.cited == [] and out.checked == 0
    # Nor is a contents line the model copied in part ("Installing R  5" of "2 Installing R  5").
    g = Grounder([Source(index=1, document_id="d", filename="R-intro.pdf", page=2, chunk_id="c",
                         text="Contents\n2 Installing R  5\n3 Reading data files  9", score=1.0)])
    g.feed("Installing R  5\nChapter 3 Reading data files  9\n")
    out = await g.finish()
    # ("Chapter 3 …" is in no passage: checked, like any claim.)
    assert out.text.startswith("Installing R  5\n") and out.checked == 1
    # A claim that merely ends in a spaced number is a claim, not a line of contents.
    g = Grounder(sources())
    g.feed("The frobnicator gives up after a timeout of 42 seconds  42\n")
    out = await g.finish()
    assert out.checked == 1 and out.cited == [2]


def test_an_abbreviation_or_an_initial_does_not_end_a_sentence() -> None:
    text = ("Between Chur and St. Moritz lies a high valley some 4800 feet above sea-level [1]. "
            "It was surveyed by J. Smith in 1890. The model is written in R. The form is fixed.")
    assert [piece.strip() for piece, is_sentence in _units(text) if is_sentence] == [
        "Between Chur and St. Moritz lies a high valley some 4800 feet above sea-level [1].",
        "It was surveyed by J. Smith in 1890.", "The model is written in R.",
        "The form is fixed."]
    # A capital letter after a word in lower case is a name ending its sentence, not an
    # initial; "etc.", "no." and "max." end a sentence before a capital (unless a number follows).
    text = ("It is written in R. Pandas reads the same files. Plots, tables, etc. The rest is "
            "text. The answer is no. The limit is No. 5 of the list, see Fig. 3. Set the max. "
            "The value holds.")
    assert [piece.strip() for piece, is_sentence in _units(text) if is_sentence] == [
        "It is written in R.", "Pandas reads the same files.", "Plots, tables, etc.",
        "The rest is text.", "The answer is no.", "The limit is No. 5 of the list, see Fig. 3.",
        "Set the max.", "The value holds."]
    # Before a number, a bracket or a code, "Eq." and "Fig." stand for a word; "with", "by" and
    # "from" come before a person's initials.
    text = ("It is derived in Eq. (3) of the paper. It is shown in Fig. S2 and Sec. II of it. "
            "I worked with J. Smith on it. The letters from J. R. R. Tolkien are kept.")
    assert [piece.strip() for piece, is_sentence in _units(text) if is_sentence] == [
        "It is derived in Eq. (3) of the paper.", "It is shown in Fig. S2 and Sec. II of it.",
        "I worked with J. Smith on it.", "The letters from J. R. R. Tolkien are kept."]


def test_with_no_sentence_to_pick_the_closest_one_is_quoted_not_pointed_at() -> None:
    authors = ("LayoutParser: A Unified Toolkit\nZejiang Shen\n1\n(), Melissa Dell\n3\n"
               "3 Harvard University")
    srcs = [Source(index=1, document_id="d", filename="layoutparser.pdf", page=1, chunk_id="c",
                   text=authors, score=1.0)]
    # SmolLM2 on QA batch 12: "The closest passage in your documents is [1]." claims nothing
    # that a reader could check against the passage; a quote of it does.
    said = cite_something("What does the paper say about Melissa Dell?", srcs)
    assert said.startswith("The closest passage in your documents says: “")
    assert "Melissa Dell" in said and said.endswith("” [1].")
    assert cite_something("zzz qqq?", srcs) == "The closest passage in your documents is [1]."
    # (Where she works is read off the title page: her marker, 3, and the affiliation numbered 3.)
    assert cite_something("Which university is Melissa Dell affiliated with?", srcs) == \
        "From your documents:\n\nMelissa Dell: Harvard University [1]."
    # Code, or a line of mostly symbols, is no sentence to quote.
    table = Source(index=2, document_id="d", filename="userguide.pdf", page=85, chunk_id="c2",
                   text="['30', '31', '32'] t=Table(data,style=[('GRID',(0,0),(-1,-1),0.5)])",
                   score=1.0)
    assert cite_something("How do I give a table a grid?", [table]) == \
        "The closest passage in your documents is [2]."
    # A table's row is mostly short values, and still a line to quote.
    assert closest_sentence("In the table on the last slide, what is in column C of the second "
                            "row?", "This is kinda backwards, huh?\n\nTable: 2 | A: A2 | B: B2 | "
                            "C: C2") == "Table: 2 | A: A2 | B: B2 | C: C2"
    # A reference marker the document prints is not quoted: it would read as a citation.
    assert closest_sentence("Where does Melissa Dell study?", "Melissa Dell studies economic "
                            "history at Harvard [2, 7].") == \
        "Melissa Dell studies economic history at Harvard."
    # An index in code is no reference marker: the quote keeps the document's words, as code
    # (in prose, "inp[[1]]" would read as a citation of source 1).
    assert closest_sentence("How do I get the first element of the list?",
                            "Use items[0] to get the first element of the list.") == \
        "Use `items[0]` to get the first element of the list."
    assert closest_sentence("How do I split the list into vectors?",
                            "Split the list into vectors with label <- inp[[1]] and so on.") == \
        "Split the list into vectors with label <- `inp[[1]]` and so on."
    # A Markdown link reference definition is an address, not a sentence (Node's crypto docs
    # end with hundreds of them: "[`sign.update()`]: #signupdatedata-inputencoding").
    assert closest_sentence("What does sign.update() do?",
                            "[`sign.update()`]: #signupdatedata-inputencoding\n\n"
                            "Each call to update adds more data to sign.") == \
        "Each call to update adds more data to sign."


async def test_a_line_of_names_is_a_claim_to_check() -> None:
    srcs = [Source(index=i + 1, document_id=f"d{i}", filename=f"f{i}.txt", page=1,
                   chunk_id=f"c{i}", text=t, score=1.0) for i, t in enumerate((
                       "The Camlidl manual was written by Xavier Leroy and Damien Doligez.",
                       "The team toured Paris, London and Berlin in the winter."))]
    g = Grounder(srcs)
    g.feed("Xavier Leroy and Damien Doligez [2]\nXavier Leroy and John Smith\n")
    out = await g.finish()
    assert out.text.splitlines() == ["Xavier Leroy and Damien Doligez [1]",
                                         f"Xavier Leroy and John Smith {UNSUPPORTED_MARK}"]


async def test_a_line_of_data_is_held_to_the_passages_text_not_to_its_words() -> None:
    output = ("> state <- c(\"tas\", \"sa\", \"qld\", \"nsw\", \"nt\", \"wa\")\n"
              "> statef <- factor(state)\n> levels(statef)\n[1] \"nsw\" \"nt\" \"qld\" \"sa\" "
              "\"tas\" \"wa\"")
    srcs = [Source(index=1, document_id="d", filename="R-intro.pdf", page=23, chunk_id="c",
                   text=output, score=1.0)]
    g = Grounder(srcs)
    # SmolLM2 on QA batch 12: the values of a printed vector in an order the passage never
    # prints; every word is in the passage, so a bag of words "supported" it.
    g.feed("tas sa qld nsw nt wa wa qld vic\n\"nsw\" \"nt\" \"qld\" \"sa\" \"tas\" \"wa\"\n")
    out = await g.finish()
    assert out.unsupported == ["tas sa qld nsw nt wa wa qld vic"]
    assert out.text.splitlines()[1] == '"nsw" "nt" "qld" "sa" "tas" "wa" [1]'


async def test_prompt_delimiters_copied_by_the_model_are_dropped() -> None:
    g = Grounder(sources())
    g.feed('<source id="2" file="f1.md" page="1">\nThe frobnicator connects to the hub over TLS '
           'on port 8443 [2].\n</source>\n<source id="1" file="f0.md" page="1">The cafeteria serves '
           'tomato soup on Tuesdays [1].')
    out = await g.finish()
    assert "<source" not in out.text and "</source>" not in out.text
    assert "The frobnicator connects to the hub over TLS on port 8443 [2]." in out.text
    assert "The cafeteria serves tomato soup on Tuesdays [1]." in out.text
    assert out.unsupported == [] and out.cited == [2, 1]


async def test_embedding_similarity_supports_a_paraphrase() -> None:
    async def embed(texts: list[str]) -> list[list[float]]:
        # A stand-in for the embedder: the paraphrase and FROB point the same way.
        return [[1.0, 0.0] if ("frobnicator" in t.lower() or "device" in t.lower()) else [0.0, 1.0]
                for t in texts]

    claim = "The device links to the hub using TLS encryption."
    assert not support(claim, FROB).supported  # too few shared words on their own
    g = Grounder(sources(), embed=embed)
    g.feed(claim)
    out = await g.finish()
    assert out.cited == [2] and out.unsupported == []


PARTIAL = ("def partial(func, /, *args, **keywords):\n    def newfunc(*fargs, **fkeywords):\n"
           "        newkeywords = {**keywords, **fkeywords}\n"
           "        return func(*args, *fargs, **newkeywords)\n    return newfunc")
PLOT = "plot(fitted(fm), resid(fm),\nxlab=\"Fitted values\",\nylab=\"Residuals\")"


async def test_a_line_of_code_is_held_to_the_passages_code_not_to_its_words() -> None:
    srcs = [Source(index=i + 1, document_id=f"d{i}", filename=f"f{i}.txt", page=1,
                   chunk_id=f"c{i}", text=t, score=1.0) for i, t in enumerate((PARTIAL, PLOT))]
    g = Grounder(srcs)
    # SmolLM2 on the eleventh QA batch: every word is in the passage, the statement is not.
    g.feed("return func(*args, **kwargs) [1]\n"
           "return func(*args, *fargs, **newkeywords) [2]\n"
           "plot(fitted(fm), resid(fm)) [2]\n")
    out = await g.finish()
    assert out.unsupported == ["return func(*args, **kwargs)"]
    # The line as the passage writes it is cited there, whichever source the model named; a call
    # the passage continues on its next line ("resid(fm),") is the passage's call.
    assert "return func(*args, *fargs, **newkeywords) [1]" in out.text
    assert "plot(fitted(fm), resid(fm)) [2]" in out.text
    assert out.cited == [1, 2] and out.checked == 3
