"""Chat and search through the real RAG pipeline: real database, Chroma, embedding model."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from httpx import AsyncClient

from tests import docgen
from tests.api.helpers import parse_sse, upload, upload_bytes, wait_done
from tests.conftest import register


def pages_containing(path: Any, phrase: str) -> set[int]:
    """Oracle computed straight from the PDF, independently of our pipeline."""
    pdf = pypdfium2.PdfDocument(str(path))
    found = set()
    for i in range(len(pdf)):
        text = " ".join(pdf[i].get_textpage().get_text_range().split())
        if phrase.lower() in text.lower():
            found.add(i + 1)
    return found


async def ask(client: AsyncClient, conv_id: str, content: str, **extra: Any) -> list[tuple[str, dict[str, Any]]]:
    r = await client.post(f"/api/v1/conversations/{conv_id}/messages", json={"content": content, **extra},
                          headers={"Accept": "text/event-stream"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/event-stream")
    return parse_sse(r.text)


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return docgen.layout_paper(tmp_path_factory.mktemp("chat") / "layout-parser-paper.pdf")


async def new_conversation(client: AsyncClient) -> str:
    r = await client.post("/api/v1/conversations", json={})
    assert r.status_code == 201
    return str(r.json()["id"])


async def test_answer_cites_right_document_and_page(client: AsyncClient, paper: Path, tmp_path: Path) -> None:
    await register(client)
    body = await upload(client, paper, docgen.table_docx(tmp_path / "tables-with-incomplete-rows.docx"))
    pdf_id = body["documents"][0]["id"]
    for d in body["documents"]:
        assert (await wait_done(client, d["id"]))["status"] == "ready"
    expected_pages = pages_containing(paper, "scene text detection")
    assert expected_pages

    conv = await new_conversation(client)
    events = await ask(client, conv, "Which work is cited for scene text detection?")
    names = [e for e, _ in events]
    assert names[0] == "sources" and names[-2:] == ["citations", "done"]
    assert "token" in names and set(names[1:-2]) == {"token"}
    final = events[-2][1]
    streamed = "".join(p["text"] for e, p in events if e == "token")
    assert streamed.strip() == final["content"]
    cites = final["citations"]
    assert cites, final
    assert cites[0]["document_id"] == pdf_id and cites[0]["page"] in expected_pages
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", final["content"])}
    assert markers and markers == {c["index"] for c in cites}
    source_idx = {s["index"] for s in events[0][1]["sources"]}
    assert markers <= source_idx
    # Numbered 1..n in the order the answer first cites them (no gaps such as 1, 3, 5), and the
    # `sources` event lists the sources in that order, so the streamed markers point right too.
    first_use = list(dict.fromkeys(int(m) for m in re.findall(r"\[(\d+)\]", final["content"])))
    assert first_use == list(range(1, len(first_use) + 1))
    listed = events[0][1]["sources"]
    assert [s["index"] for s in listed] == list(range(1, len(listed) + 1))
    assert [c["chunk_id"] for c in cites] == [s["chunk_id"] for s in listed[: len(cites)]]
    for c in cites:
        assert set(c) == {"index", "document_id", "filename", "page", "chunk_id", "snippet", "score",
                          "collection_id", "collection_name", "location", "available"}
        assert c["collection_id"] is None and c["available"]  # the private space
        if c["document_id"] == pdf_id:  # a PDF's place is its page
            assert c["location"] == f"p. {c['page']}"

    # History is persisted with the citations, and the title comes from the first question.
    detail = (await client.get(f"/api/v1/conversations/{conv}")).json()
    assert detail["title"].startswith("Which work is cited")
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][1]["citations"] == cites
    assert detail["messages"][1]["id"] == events[-1][1]["message_id"]

    # The same request as JSON returns the finished message.
    r = await client.post(f"/api/v1/conversations/{conv}/messages",
                          json={"content": "Which work is cited for scene text detection?"},
                          headers={"Accept": "application/json"})
    assert r.status_code == 200 and r.json()["role"] == "assistant" and r.json()["citations"]


async def test_relevance_floor_says_not_found(client: AsyncClient, paper: Path) -> None:
    await register(client)
    doc = (await upload(client, paper))["documents"][0]
    await wait_done(client, doc["id"])
    conv = await new_conversation(client)
    events = await ask(client, conv, "What is the recommended dosage of ibuprofen for toddlers?")
    final = dict(events)["citations"]
    assert final["citations"] == []
    assert "couldn't find" in final["content"]


async def test_not_found_quotes_the_closest_passage(client: AsyncClient) -> None:
    # Nothing answers "how many" (no number anywhere), yet the top passage speaks of the subject:
    # the answer says "not found" and quotes, cited, the sentence closest to the question.
    await register(client)
    doc = (await upload_bytes(client, "ferns.md", b"# Ferns\n\nFerns reproduce using spores, not "
                              b"seeds. Ferns grow best in damp shade under taller trees.\n"))
    await wait_done(client, doc["documents"][0]["id"])
    conv = await new_conversation(client)
    events = await ask(client, conv, "How many spores does a fern release in a year?")
    final = dict(events)["citations"]
    assert final["content"] == ("I could not find an answer to that. The closest passage in your "
                                "documents says: “Ferns reproduce using spores, not seeds.” [1].")
    assert [c["filename"] for c in final["citations"]] == ["ferns.md"]
    stored = (await client.get(f"/api/v1/conversations/{conv}")).json()["messages"][-1]
    assert stored["content"] == final["content"] and len(stored["citations"]) == 1


async def test_scope_limits_sources(client: AsyncClient) -> None:
    await register(client)
    a = (await upload_bytes(client, "ferns.md", b"# Ferns\n\nFerns reproduce using spores, not seeds.\n"))
    b = (await upload_bytes(client, "mosses.md", b"# Mosses\n\nMosses also reproduce using spores.\n"))
    a_id, b_id = a["documents"][0]["id"], b["documents"][0]["id"]
    await wait_done(client, a_id)
    await wait_done(client, b_id)
    conv = await new_conversation(client)
    events = await ask(client, conv, "How do they reproduce using spores?", document_ids=[b_id])
    sources = dict(events)["sources"]["sources"]
    assert sources and {s["document_id"] for s in sources} == {b_id}


async def test_conversation_crud(client: AsyncClient) -> None:
    await register(client)
    first = await new_conversation(client)
    second = await new_conversation(client)
    listed = (await client.get("/api/v1/conversations")).json()["items"]
    assert [c["id"] for c in listed] == [second, first]  # newest first
    r = await client.patch(f"/api/v1/conversations/{first}", json={"title": "Renamed"})
    assert r.json()["title"] == "Renamed"
    assert (await client.delete(f"/api/v1/conversations/{first}")).status_code == 204
    assert (await client.get(f"/api/v1/conversations/{first}")).status_code == 404
    assert [c["id"] for c in (await client.get("/api/v1/conversations")).json()["items"]] == [second]


async def test_follow_up_without_llm_borrows_previous_question(client: AsyncClient) -> None:
    await register(client)
    doc = await upload_bytes(client, "widget.md", (
        b"# Frobnicator\n\nThe frobnicator connects to the hub over TLS.\n\n"
        b"## Timeouts\n\nThe frobnicator gives up after a timeout of 42 seconds.\n\n"
        b"# Unrelated\n\nThe cafeteria serves soup on Tuesdays.\n"))
    await wait_done(client, doc["documents"][0]["id"])
    conv = await new_conversation(client)
    await ask(client, conv, "How does the frobnicator connect to the hub?")
    events = await ask(client, conv, "what about its timeout?")
    assert "42 seconds" in dict(events)["citations"]["content"]
