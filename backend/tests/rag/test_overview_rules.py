"""The rules of the extractive overview (app.rag.overview), on passages built by hand: which
sections are listed, which sentences are quoted, in what order, and how they are shown."""

from __future__ import annotations

import re

from app.rag.overview import _compose, _Doc, _Passage
from app.rag.sentences import quotable


def doc(name: str = "guide.md", chunks: int = 6) -> _Doc:
    return _Doc(id="d1", filename=name, version=1, chunk_count=chunks, kind="markdown", collection_id=None,
                collection_name=None)


def passage(n: int, text: str, *path: str, page: int = 1) -> _Passage:
    return _Passage(chunk_id=f"d1:1:{n}", n=n, page=page, text=text, heading_path=path)


GUIDE = [
    passage(0, "Copyright 2024 Example Corp. Permission is granted to copy this guide freely "
               "for any purpose whatsoever.\n\nThe Harbour tool moves shipping containers "
               "between terminals using scheduled cranes and trucks.", "Harbour guide"),
    passage(1, "Contents\n\n1 Cranes ........ 3\n\n2 Trucks ........ 7", "Harbour guide",
            "Table of contents"),
    passage(2, "Cranes lift containers from ships onto the quay in scheduled crane windows. "
               "For example, crane three works the night window on the eastern quay of the "
               "harbour.", "Harbour guide", "1 Cranes", page=3),
    passage(3, "Trucks carry containers from the quay to the terminals on fixed routes. "
               "Trucks carry containers from the quay to the terminals on fixed routes daily.",
            "Harbour guide", "2 Trucks", page=7),
    passage(4, "> harbour move --from quay --to terminal\n\nIt prints the route it chose.",
            "Harbour guide", "2 Trucks", page=8),
    passage(5, "Terminals store containers until their owners collect them with trucks.",
            "Harbour guide", "3 Terminals_and_yards", page=9),
]


def test_sections_skip_the_shared_title_numbers_and_contents() -> None:
    text = _compose([doc()], {"d1": GUIDE}, 0).text
    sections = next(line for line in text.splitlines() if line.startswith("Sections: "))
    # The title every passage shares is not a section; numbers and the contents page are dropped;
    # a name's Markdown characters are escaped.
    assert sections == r"Sections: Cranes · Trucks · Terminals\_and\_yards"


def test_central_sentences_lead_with_what_the_document_is_and_skip_notices() -> None:
    overview = _compose([doc()], {"d1": GUIDE}, 0)
    bullets = [line for line in overview.text.splitlines() if line.startswith("- ")]
    # First the document's opening sentence of prose, never the copyright notice; then the
    # central ones in reading order, one per passage; no code, no sentence leaning on "It",
    # no example ("For example, …") while main points remain.
    assert bullets[0].startswith("- The Harbour tool moves shipping containers")
    assert not any("Copyright" in b or "Permission" in b for b in bullets)
    assert not any("harbour move" in b or b.startswith("- It ") for b in bullets)
    assert not any("For example" in b for b in bullets)
    assert [s.page for s in overview.sources] == sorted(s.page for s in overview.sources)
    assert len({s.chunk_id for s in overview.sources}) == len(overview.sources) == len(bullets)
    assert [f"[{s.index}]" for s in overview.sources] == [b.rsplit(" ", 1)[1] for b in bullets]


def test_a_repeated_sentence_is_quoted_once() -> None:
    bullets = [line for line in _compose([doc()], {"d1": GUIDE}, 0).text.splitlines()
               if line.startswith("- ")]
    assert sum("Trucks carry containers" in b for b in bullets) <= 1


def test_sentences_are_shared_among_documents_and_the_rest_counted() -> None:
    other = _Doc(id="d2", filename="notes.md", version=1, chunk_count=1, kind="markdown", collection_id="c1",
                 collection_name="Ops team")
    notes = [_Passage(chunk_id="d2:1:0", n=0, page=1, heading_path=(),
                      text="The notes record which cranes failed during the winter storms.")]
    text = _compose([doc(), other], {"d1": GUIDE, "d2": notes}, 3).text
    assert "**guide.md**" in text and r"**notes.md** (collection Ops team)" in text
    assert text.endswith("… and 3 more documents. Choose documents in the scope picker to "
                         "summarise them.")


def test_a_document_without_prose_quotes_its_first_rows() -> None:
    sheet = [_Passage(chunk_id="d1:1:0", n=0, page=1, heading_path=("Cups",),
                      text="Team: Blues; Location: STL; Cups: 1\nTeam: Flyers; Location: PHI; "
                           "Cups: 2")]
    overview = _compose([doc("cups.xlsx", 1)], {"d1": sheet}, 0)
    assert "- Team: Blues; Location: STL; Cups: 1 [1]" in overview.text
    assert len(overview.sources) == 1
    # A row of one value repeated (a sheet of placeholder marks) says nothing about the document.
    marks = [_Passage(chunk_id="d1:1:0", n=0, page=1, heading_path=("Grid",),
                      text="x | x | x | x | x\nx | x | x | x | x")]
    overview = _compose([doc("grid.xlsx", 1)], {"d1": marks}, 0)
    assert "x | x" not in overview.text and "(no sentence of running text to quote" in overview.text


def test_a_sheet_is_introduced_by_its_columns_before_its_rows() -> None:
    """Each table whose rows name their columns is described by them, under its sheet's name (not
    quoted as a line of its own); slides and headerless rows are quoted as they are."""
    row = "Team: {}; Location: {}; Stanley Cups: {}"
    cups = [
        _Passage(chunk_id="d1:1:0", n=0, page=1, heading_path=("Stanley Cups",),
                 text="Stanley Cups\n\n" + "\n\n".join(
                     row.format(*r) for r in [("Blues", "STL", 1), ("Flyers", "PHI", 2)])),
        _Passage(chunk_id="d1:1:1", n=1, page=2, heading_path=("Stanley Cups Since 67",),
                 text="Stanley Cups Since 67\n\nStanley Cups Since 67\n\n" + "\n\n".join(
                     row.format(*r) for r in [("Blues", "STL", 1), ("Kings", "LAK", 2)])),
    ]
    bullets = [line for line in _compose([doc("cups.xlsx", 2)], {"d1": cups}, 0).text.splitlines()
               if line.startswith("- ")]
    assert bullets == [
        "- Stanley Cups: columns Team · Location · Stanley Cups [1]",
        "- Team: Blues; Location: STL; Stanley Cups: 1 [1]",
        "- Team: Flyers; Location: PHI; Stanley Cups: 2 [1]",
        "- Stanley Cups Since 67: columns Team · Location · Stanley Cups [2]",
        "- Team: Kings; Location: LAK; Stanley Cups: 2 [2]",
    ]
    # A file without sheets (CSV) has its columns without a name; one row alone names none.
    csv = [passage(0, "Name: Ada; Born: 1815\nName: Alan; Born: 1912")]
    assert "- Columns: Name · Born [1]" in _compose([doc("people.csv", 1)], {"d1": csv}, 0).text
    one = [passage(0, "Name: Ada; Born: 1815 and more words here")]
    assert "Columns" not in _compose([doc("people.csv", 1)], {"d1": one}, 0).text
    # A slide's title is its heading and its first line: still quoted.
    slides = [passage(0, "Quarterly harbour review\n\nCranes moved more boxes", "Quarterly harbour review")]
    text = _compose([doc("deck.pptx", 1)], {"d1": slides}, 0).text
    assert "- Quarterly harbour review [1]" in text and "columns" not in text


def test_printed_markers_never_read_as_citations() -> None:
    paper = [_Passage(chunk_id="d1:1:0", n=0, page=1, heading_path=(),
                      text="Layout models detect the regions of a scanned page [12] with deep "
                           "networks trained on [large] annotated collections.")]
    overview = _compose([doc("paper.pdf", 1)], {"d1": paper}, 0)
    assert "[12]" not in overview.text and r"\[large\]" in overview.text
    assert overview.text.count("[1]") == 1


def test_document_text_never_hides_or_fakes_a_marker() -> None:
    # A lone backtick would open a code span to the end of the line and hide its [n]; "[2]" in a
    # file name or a heading, even escaped, reads as a citation in Markdown; so do entities.
    tricky = [_Passage(chunk_id="d1:1:0", n=0, page=1, heading_path=("Results [2]",),
                       text="The `make tool builds every target of the harbour project quickly. "
                            "Quay cranes &lbrack;2&rsqb; lift containers from ships onto trucks."),
              _Passage(chunk_id="d1:1:1", n=1, page=2, heading_path=("Methods &lbrack;3&rsqb;",),
                       text="Trucks carry the containers from the quay to the inland terminals.")]
    overview = _compose([doc("scan[2].pdf", 2)], {"d1": tricky}, 0)
    markers = re.findall(r"\[(\d+)\]", overview.text)
    lines = [line for line in overview.text.splitlines() if line.startswith("- ")]
    assert len(markers) == len(lines), overview.text  # every line's marker is read as one
    assert list(dict.fromkeys(markers)) == [str(s.index) for s in overview.sources]
    assert "`" not in overview.text and r"Methods \&lbrack;3\&rsqb;" in overview.text


def test_a_short_file_in_one_passage_gets_several_sentences() -> None:
    note = [_Passage(chunk_id="d1:1:0", n=0, page=1, heading_path=("Pump guide", "Priming"),
                     text="The pump must be primed with water before its first start. Replace "
                          "the pump seal every two years to prevent leaks of the cooling water.")]
    overview = _compose([doc("pump.md", 1)], {"d1": note}, 0)
    bullets = [line for line in overview.text.splitlines() if line.startswith("- ")]
    assert len(bullets) == 2 and all(b.endswith("[1]") for b in bullets), overview.text


def test_restructuredtext_markup_reads_as_markdown() -> None:
    # (functools.rst.) Roles, literals and links are shown as a reader of the rendered page sees
    # them, in answers and summaries alike.
    sentence = ("For instance, the :attr:`~definition.__name__` and :attr:`__doc__` attributes "
                "of :class:`partial` objects are not created automatically, as :pep:`412` notes; "
                "the ``__dict__`` attribute is `a mapping <https://docs.python.org/>`_.")
    assert quotable(sentence) == (
        "For instance, the `__name__` and `__doc__` attributes of `partial` objects are not "
        "created automatically, as PEP 412 notes; the `__dict__` attribute is a mapping.")
    # Plain text with colons and code keeps its own.
    assert quotable("Default: `'pem'`. Use `a:b` here.") == "Default: `'pem'`. Use `a:b` here."


def test_a_list_a_name_is_set_to_is_code_not_a_printed_reference() -> None:
    # "[10, 20, 30]" after "=" is a value; dropped as a reference, the answer read
    # "pc.data = [1]." once its own citation was added.
    assert quotable("Set the slices with pc.data = [10, 20, 30].") == \
        "Set the slices with pc.data = `[10, 20, 30]`."
    assert quotable("Call draw([1, 2]) first.") == "Call draw(`[1, 2]`) first."
    # A printed reference is still dropped.
    assert quotable("Deep learning is the state of the art [26].") == \
        "Deep learning is the state of the art."
