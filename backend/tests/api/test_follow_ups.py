"""Follow-up questions without a language model, through the real pipeline (database, Chroma,
embedding model): an elliptic follow-up resolves to the document and topic of the previous turn,
also when another document answers the follow-up's own words better, and between two manuals
with the same section names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from tests import conversation_docs as cd
from tests.api.helpers import ask, new_conversation, upload, upload_bytes, wait_done
from tests.conftest import register


def cited_files(final: dict[str, Any]) -> set[str]:
    return {c["filename"] for c in final["citations"]}


@pytest.fixture
async def library(client: AsyncClient, tmp_path: Path) -> AsyncClient:
    await register(client)
    r_doc = await upload(client, cd.r_manual(tmp_path))
    ids = [r_doc["documents"][0]["id"]]
    for name, text in (("spreadsheet-guide.md", cd.SPREADSHEET_GUIDE),
                       ("acme-x100-manual.md", cd.ACME), ("zeta-z200-manual.md", cd.ZETA)):
        ids.append((await upload_bytes(client, name, text.encode()))["documents"][0]["id"])
    for doc_id in ids:
        await wait_done(client, doc_id)
    return client


async def test_write_it_back_stays_in_the_manual(library: AsyncClient) -> None:
    conv = await new_conversation(library)
    first = await ask(library, conv, "How do I read data from a file in R?")
    assert "read.table" in first["content"] and cited_files(first) == {"R-manual.pdf"}
    follow = await ask(library, conv, "and how do I write it back?")
    assert "write.table" in follow["content"], follow["content"]
    assert cited_files(follow) == {"R-manual.pdf"}
    assert {c["page"] for c in follow["citations"]} == {2}  # the page about writing
    # The same words as a first question have no topic to lean on: the guide's "written back".
    alone = await ask(library, await new_conversation(library), "and how do I write it back?")
    assert "write.table" not in alone["content"]


@pytest.mark.parametrize(("product", "other", "fact"), [
    ("Zeta Z200", "acme-x100-manual.md", "side micro-USB"),
    ("Acme X100", "zeta-z200-manual.md", "rear USB-C"),
])
async def test_follow_up_keeps_the_product_of_the_previous_turn(
        library: AsyncClient, product: str, other: str, fact: str) -> None:
    conv = await new_conversation(library)
    first = await ask(library, conv, f"What are the two ways to reset the {product}?")
    mine = {c["filename"] for c in first["citations"]} - {other}
    assert mine and other not in cited_files(first), first
    second = await ask(library, conv, "what about the second one?")
    assert cited_files(second) == mine
    assert "Factory reset" in second["content"], second["content"]
    firmware = await ask(library, conv, "and how do I update its firmware?")
    assert fact in firmware["content"], firmware["content"]
    assert cited_files(firmware) == mine


async def test_a_new_subject_is_not_held_to_the_previous_document(library: AsyncClient) -> None:
    conv = await new_conversation(library)
    await ask(library, conv, "How do I reset the Zeta Z200?")
    # Elliptic ("and …", two words of its own) but about the guide: the manual says nothing
    # about it, so the whole library is searched.
    final = await ask(library, conv, "and how do I invite a colleague?")
    assert cited_files(final) == {"spreadsheet-guide.md"}, final
