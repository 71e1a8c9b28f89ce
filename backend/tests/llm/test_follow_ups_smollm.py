"""Follow-ups with a real (weak) model configured: SmolLM2 served by llama.cpp rewrites the
follow-up, and the rule-based query is searched too and fused, so a poor rewrite cannot lose the
previous turn's document. Two conversations, two turns each (the model is slow on a shared CPU)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import conversation_docs as cd
from tests.api.helpers import parse_sse, upload, upload_bytes, wait_done
from tests.conftest import register
from tests.llm.conftest import LlamaServer, served_with_smollm


@pytest.fixture(scope="module")
async def smollm_app(llama_server: LlamaServer,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with served_with_smollm(llama_server, tmp_path_factory.mktemp("follow-up-app"),
                                  max_tokens=64) as url:
        yield url


async def ask(c: httpx.AsyncClient, conv: str, content: str) -> dict[str, Any]:
    r = await c.post(f"/api/v1/conversations/{conv}/messages", json={"content": content})
    events = dict(parse_sse(r.text))
    assert "error" not in events, events
    return {"sources": events["sources"]["sources"], **events["citations"]}


@pytest.mark.timeout(1200)  # a CPU-bound model on a shared machine
async def test_follow_ups_keep_the_previous_document(smollm_app: str, tmp_path: Path) -> None:
    async with httpx.AsyncClient(base_url=smollm_app, timeout=600) as c:
        await register(c, f"f{uuid.uuid4().hex[:8]}@example.com")
        ids = [(await upload(c, cd.r_manual(tmp_path)))["documents"][0]["id"]]
        for name, text in (("spreadsheet-guide.md", cd.SPREADSHEET_GUIDE),
                           ("acme-x100-manual.md", cd.ACME), ("zeta-z200-manual.md", cd.ZETA)):
            ids.append((await upload_bytes(c, name, text.encode()))["documents"][0]["id"])
        for doc_id in ids:
            await wait_done(c, doc_id)

        conv = (await c.post("/api/v1/conversations", json={})).json()["id"]
        await ask(c, conv, "How do I read data from a file in R?")
        follow = await ask(c, conv, "And how do I write it back?")
        assert follow["citations"], follow["content"]  # answered, and cited
        assert {s["filename"] for s in follow["citations"]} == {"R-manual.pdf"}
        # The write.table page was retrieved whatever the model's rewrite said.
        assert any(s["page"] == 2 for s in follow["sources"] if s["filename"] == "R-manual.pdf")

        conv = (await c.post("/api/v1/conversations", json={})).json()["id"]
        await ask(c, conv, "How do I reset the Zeta Z200?")
        follow = await ask(c, conv, "and how do I update its firmware?")
        assert follow["citations"], follow["content"]
        assert {s["filename"] for s in follow["citations"]} == {"zeta-z200-manual.md"}


@pytest.mark.timeout(600)
async def test_a_summary_request_is_answered_from_the_named_document_and_cited(
        smollm_app: str) -> None:
    async with httpx.AsyncClient(base_url=smollm_app, timeout=600) as c:
        await register(c, f"s{uuid.uuid4().hex[:8]}@example.com")
        for name, text in (("acme-x100-manual.md", cd.ACME), ("zeta-z200-manual.md", cd.ZETA)):
            await wait_done(c, (await upload_bytes(c, name, text.encode()))["documents"][0]["id"])
        conv = (await c.post("/api/v1/conversations", json={})).json()["id"]
        summary = await ask(c, conv, "What is the Acme X100 manual about?")
        # The model is given the named document's central passages (no search), and whatever it
        # writes, the answer cites them: grounding attaches citations the model left out.
        assert {s["filename"] for s in summary["sources"]} == {"acme-x100-manual.md"}
        assert summary["citations"], summary["content"]
        assert {s["filename"] for s in summary["citations"]} == {"acme-x100-manual.md"}
