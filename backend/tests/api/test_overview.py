"""Whole-document requests without a language model, through the real pipeline (database, Chroma,
embedding model): "summarise my documents" answers with each document's sections and central
sentences, cited 1..n, from exactly the documents in scope and never another user's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.rag.overview import overview_request
from tests import conversation_docs as cd
from tests.api.helpers import ask, new_conversation, upload, upload_bytes, wait_done
from tests.conftest import register

CANARY = "The stranger's canary sentence about quasar migration lives only in this file."


@pytest.mark.parametrize(("question", "names", "singular"), [
    ("Summarise the main points of my documents", (), False),
    ("Summarize this document.", (), True),
    ("Can you give me a short overview of these files?", (), False),
    ("What is this about?", (), True),
    ("What is the Acme X100 manual about?", ("acme", "x100"), False),
    ("tl;dr", (), False),
    ("What are the key points of R-manual.pdf", ("r", "manual", "pdf"), False),
    ("summarise it", (), True),
    ("Summarise the selected documents", (), False),
    # A file name names that file, its extension included; a number alone names nothing.
    ("Summarise contract.pdf", ("contract", "pdf"), False),
    ("What is report.docx about?", ("report", "docx"), False),
    ("Summarize in 3 bullets", (), False),
])
def test_whole_document_requests_are_recognised(question: str, names: tuple[str, ...],
                                                singular: bool) -> None:
    request = overview_request(question)
    assert request is not None
    assert request.names == names and request.singular is singular


@pytest.mark.parametrize("question", [
    "How do I reset the Zeta Z200?",
    "What is the default port about",  # no document word: names a thing, checked against names
    "What does the status light say",
    "What does it say?",
    "What are the rules about sharing?",
    "Outline-free question: which port is used?",
])
def test_questions_are_not_overview_requests(question: str) -> None:
    request = overview_request(question)
    # Either not a request at all, or one whose words must then name a document to count.
    assert request is None or request.names


def cited_files(final: dict[str, Any]) -> set[str]:
    return {c["filename"] for c in final["citations"]}


def check_numbering(final: dict[str, Any]) -> None:
    """Markers 1..n without gaps in order of first use; every quoted line cites a source."""
    used = [int(n) for n in re.findall(r"\[(\d+)\]", final["content"])]
    first_use = list(dict.fromkeys(used))
    assert first_use == list(range(1, len(first_use) + 1)), final["content"]
    assert [c["index"] for c in final["citations"]] == first_use
    bullets = [line for line in final["content"].splitlines() if line.startswith("- ")]
    assert bullets and all(re.search(r"\[\d+\]$", line) for line in bullets), final["content"]


@pytest.fixture
async def library(client: AsyncClient, tmp_path: Path,
                  anon_client_factory: Callable[[], AsyncClient]) -> dict[str, str]:
    async with anon_client_factory() as stranger:
        await register(stranger, "stranger@example.com")
        doc = await upload_bytes(stranger, "quasar-notes.md",
                                 f"# Quasar notes\n\n{CANARY}\n".encode())
        await wait_done(stranger, doc["documents"][0]["id"])
    await register(client)
    ids = {"R-manual.pdf": (await upload(client, cd.r_manual(tmp_path)))["documents"][0]["id"]}
    for name, text in (("spreadsheet-guide.md", cd.SPREADSHEET_GUIDE),
                       ("acme-x100-manual.md", cd.ACME), ("zeta-z200-manual.md", cd.ZETA)):
        ids[name] = (await upload_bytes(client, name, text.encode()))["documents"][0]["id"]
    for doc_id in ids.values():
        await wait_done(client, doc_id)
    return ids


async def test_summary_of_all_documents_cites_each_and_no_stranger(
        client: AsyncClient, library: dict[str, str]) -> None:
    conv = await new_conversation(client)
    final = await ask(client, conv, "Summarise the main points of my documents")
    assert cited_files(final) == set(library), final["content"]
    check_numbering(final)
    for name in library:  # one heading per document
        assert f"**{name}**" in final["content"], final["content"]
    assert "quasar" not in final["content"].lower()
    assert "quasar-notes.md" not in {s["filename"] for s in final["sources"]}
    # What each document says it is for: its first sentence of prose.
    assert "There are two ways to reset the Acme X100" in final["content"]
    assert "Shared sheets open in the browser from the team drive." in final["content"]
    stored = (await client.get(f"/api/v1/conversations/{conv}")).json()["messages"][-1]
    assert stored["content"] == final["content"] and stored["model"] == "extractive"


async def test_a_named_document_is_summarised_alone(client: AsyncClient,
                                                    library: dict[str, str]) -> None:
    conv = await new_conversation(client)
    final = await ask(client, conv, "What is the Acme X100 manual about?")
    assert cited_files(final) == {"acme-x100-manual.md"}, final["content"]
    check_numbering(final)
    # A Markdown file has no pages: its citations name their section, live and when stored.
    places = {c["location"] for c in final["citations"]}
    assert places and places <= {"Acme X100 user manual", "Resetting the device",
                                 "Updating the firmware", "Connecting to Wi-Fi"}, places
    stored = (await client.get(f"/api/v1/conversations/{conv}")).json()["messages"][-1]
    assert [c["location"] for c in stored["citations"]] == [c["location"] for c in final["citations"]]
    assert "Zeta" not in final["content"]
    # A whole-document word with a name that matches nothing is a question like any other.
    other = await ask(client, conv, "Summarise how to reset the Zeta Z200")
    assert not other["content"].startswith("**"), other["content"]
    assert "zeta-z200-manual.md" in cited_files(other)


async def test_scope_and_previous_turn_choose_the_document(client: AsyncClient,
                                                           library: dict[str, str]) -> None:
    scoped = await ask(client, await new_conversation(client), "Summarise this document",
                       document_ids=[library["zeta-z200-manual.md"]])
    assert cited_files(scoped) == {"zeta-z200-manual.md"}, scoped["content"]
    pair = [library["zeta-z200-manual.md"], library["spreadsheet-guide.md"]]
    selected = await ask(client, await new_conversation(client), "Summarise the selected documents",
                         document_ids=pair)
    assert cited_files(selected) == {"zeta-z200-manual.md", "spreadsheet-guide.md"}
    conv = await new_conversation(client)
    first = await ask(client, conv, "How do I read data from a file in R?")
    assert "R-manual.pdf" in cited_files(first)
    follow = await ask(client, conv, "summarise it")
    assert cited_files(follow) == {"R-manual.pdf"}, follow["content"]
    # "The key points" after an answer are those of what it cited, not of every document.
    points = await ask(client, conv, "What are the key points?")
    assert cited_files(points) == {"R-manual.pdf"}, points["content"]
    everything = await ask(client, conv, "Summarise all my documents")
    assert cited_files(everything) == set(library), everything["content"]
    assert all(c["location"] == f"p. {c['page']}" for c in follow["citations"])


async def test_nothing_ready_to_summarise(client: AsyncClient) -> None:
    await register(client)
    final = await ask(client, await new_conversation(client), "Summarise my documents")
    assert final["citations"] == [] and "no ready document" in final["content"]
