"""Which documents a question names by their file name (`rag.question.names_file`)."""

from __future__ import annotations

import pytest

from app.rag.question import file_name_terms, names_file, without_naming


def test_name_terms_drop_extension_digits_and_one_letter_words() -> None:
    assert file_name_terms("winter-sports.epub") == ["winter", "sport"]
    assert file_name_terms("a1977-backus-p21.pdf") == ["backus"]
    assert file_name_terms("camlidl-1.04.doc.pdf") == ["camlidl", "doc"]
    assert file_name_terms("R-intro.pdf") == ["intro"]
    assert file_name_terms("python_tutorial_classes.html") == ["python", "tutori", "class"]


@pytest.mark.parametrize(("question", "filename"), [
    # two consecutive words of the name
    ("What is in the table on the last slide of the sample presentation?", "sample-presentation.pptx"),
    ("How long should ski sticks be, according to Winter Sports in Switzerland?", "winter-sports.epub"),
    ("Who won the Stanley Cup in 1994?", "stanley-cups.xlsx"),
    # one word of the name before a word for a document
    ("Is there a book the camlidl manual recommends for learning COM?", "camlidl-1.04.doc.pdf"),
    ("What key size does the Node.js crypto documentation recommend?", "crypto.md"),
    ("Where does the ReportLab user guide explain fonts?", "reportlab-userguide.pdf"),
])
def test_a_question_names_its_document(question: str, filename: str) -> None:
    assert names_file(question, filename)


@pytest.mark.parametrize(("question", "filename"), [
    ("How do I hash a password with crypto?", "crypto.md"),  # one word, no document word
    ("What does the R manual say about factors?", "R-intro.pdf"),  # "R" is one letter
    ("What changed in camlidl 1.04?", "camlidl-1.04.doc.pdf"),
    ("How do I give a presentation a title slide?", "sample-presentation.pptx"),
    ("Which sports are played in winter?", "winter-sports.epub"),  # not consecutive
    ("How do I build a live image?", "live-manual.en.docx"),
])
def test_a_question_that_does_not_name_the_document(question: str, filename: str) -> None:
    assert not names_file(question, filename)


@pytest.mark.parametrize(("question", "filenames", "searched"), [
    ("How large is the skating rink at Villars, according to Winter Sports in Switzerland?",
     ["winter-sports.epub"], "How large is the skating rink at Villars, according to in Switzerland?"),
    # a word for a document right after the name goes with it; elsewhere it is a word as any other
    ("What does the camlidl manual say about unions?", ["camlidl-1.04.doc.pdf"],
     "What does the say about unions?"),
    ("Which paper size does the ReportLab user guide use?", ["reportlab-userguide.pdf"],
     "Which paper size does the user use?"),
    # not named: unchanged; nothing but the name: unchanged
    ("Which paper size does ReportLab use?", ["reportlab-userguide.pdf"],
     "Which paper size does ReportLab use?"),
    ("What is the sample presentation?", ["sample-presentation.pptx"],
     "What is the sample presentation?"),
])
def test_a_named_document_is_searched_without_its_name(question: str, filenames: list[str],
                                                       searched: str) -> None:
    assert without_naming(question, filenames) == searched
