"""A cell of a table asked for by column and row (app/rag/table_cells.py), answered by the
extractive answerer with the cell and its row, cited."""

from __future__ import annotations

from app.rag.extractive import ExtractiveChatModel, extract
from app.rag.prompts import Source
from app.rag.table_cells import asked_cell, find_cell, row_cells, tables

SLIDE = ("This is kinda backwards, huh?\n\nTable: 1 | A: A1 | B: B1 | C: C1\n\n"
         "Table: 2 | A: A2 | B: B2 | C: C2")
SHEET = ("Team: Blues; Location: STL; Stanley Cups: 1\nTeam: Flyers; Location: PHI; Stanley Cups: 2\n"
         "Team: Maple Leafs; Location: TOR; Stanley Cups: 13")


def sources(*texts: str) -> list[Source]:
    return [Source(index=i, document_id=f"d{i}", filename=f"doc{i}.pptx", page=i, chunk_id=f"c{i}",
                   text=text, score=1.0) for i, text in enumerate(texts, 1)]


def test_the_column_and_row_a_question_asks_for() -> None:
    assert asked_cell("What is in column C of the second row?") == ("C", 2)
    assert asked_cell("In the table, what does the 1st row say in column 'Stanley Cups'?") == (
        "Stanley Cups", 1)
    assert asked_cell("What is in the Location column of the last row?") == ("Location", -1)
    assert asked_cell("What is in row two, column B?") == ("B", 2)
    assert asked_cell("How many rows does the table have?") is None
    assert asked_cell("Which column holds the team?") is None


def test_rows_of_one_table_share_their_headers() -> None:
    assert row_cells("Table: 1 | A: A1 | B: B1") == [("Table", "1"), ("A", "A1"), ("B", "B1")]
    assert row_cells("Team: Blues; Location: STL") == [("Team", "Blues"), ("Location", "STL")]
    assert row_cells("Note: this is a sentence, not a row.") is None
    found = tables(SLIDE + "\n\nName: x | Size: 3\nName: y | Size: 4")
    assert [len(t) for t in found] == [2, 2]
    assert found[0][1][0] == "Table: 2 | A: A2 | B: B2 | C: C2"


def test_the_cell_of_the_first_text_whose_table_has_it() -> None:
    cell = find_cell("What is in column C of the second row?", ["No table here.", SLIDE, SHEET])
    assert cell is not None and (cell.text, cell.header, cell.value) == (1, "C", "C2")
    last = find_cell("What is in the location column of the last row?", [SHEET])
    assert last is not None and (last.header, last.value) == ("Location", "TOR")
    assert find_cell("What is in column D of the first row?", [SLIDE]) is None
    assert find_cell("What is in column B of the third row?", [SLIDE]) is None
    # Two tables of one passage with that cell, and different values: no answer from them.
    assert find_cell("What is in column A of the first row?",
                     [SLIDE + "\n\nIntro text.\n\nKey: k | A: other"]) is None


async def test_the_answer_is_the_cell_and_its_row_cited() -> None:
    question = ("In the table on the last slide of the sample presentation, what is in column C "
                "of the second row?")
    found = extract(question, sources("This is the first content slide", SLIDE))
    assert found.stated and found.best_source == 2
    answer = await ExtractiveChatModel().answer(question,
                                                sources("This is the first content slide", SLIDE))
    assert "C: C2 [2]" in answer and "Table: 2 | A: A2 | B: B2 | C: C2 [2]" in answer
