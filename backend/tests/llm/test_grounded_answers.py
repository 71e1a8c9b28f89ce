"""Grounded generation with a real model: the app configured with SmolLM2 served by llama.cpp (the
`llama_server` fixture), asked over HTTP about a document generated here. The model is tiny and
rarely writes `[n]` itself; every answer for which sources were retrieved must still cite one, and
every cited source must be one the answer's sentences were checked against."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.api.helpers import parse_sse, upload_bytes, wait_done
from tests.conftest import register
from tests.llm.conftest import LlamaServer, served_with_smollm

MANUAL = (b"# Glacier station handbook\n\n"
          b"## Power\n\nThe station runs on two wind turbines and a battery bank of 48 kilowatt-hours. "
          b"The diesel generator starts only when the battery falls below 20 percent.\n\n"
          b"## Water\n\nDrinking water comes from melted snow, filtered twice and boiled for five "
          b"minutes before use.\n\n"
          b"## Radio\n\nThe radio check with the coast base is every day at 18:00 on channel 16.\n")
QUESTIONS = ["How is the station powered?", "When is the radio check?"]


@pytest.fixture(scope="module")
async def smollm_app(llama_server: LlamaServer,
                     tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with served_with_smollm(llama_server, tmp_path_factory.mktemp("grounded-app"),
                                  max_tokens=96) as url:
        yield url


async def handbook_conversation(c: httpx.AsyncClient, prefix: str) -> str:
    """A new account with the station handbook ready, and a new conversation's id."""
    await register(c, f"{prefix}{uuid.uuid4().hex[:8]}@example.com")
    doc = (await upload_bytes(c, "station.md", MANUAL))["documents"][0]
    if doc["status"] != "ready":
        await wait_done(c, doc["id"])
    return str((await c.post("/api/v1/conversations", json={})).json()["id"])


@pytest.mark.timeout(900)  # a CPU-bound model on a shared machine
async def test_every_answer_with_sources_cites_one(smollm_app: str) -> None:
    async with httpx.AsyncClient(base_url=smollm_app, timeout=600) as c:
        conv = await handbook_conversation(c, "g")
        for question in QUESTIONS:
            r = await c.post(f"/api/v1/conversations/{conv}/messages", json={"content": question})
            events = dict(parse_sse(r.text))
            assert "error" not in events, events
            assert events["sources"]["sources"], question
            final = events["citations"]
            cited = [s["index"] for s in final["citations"]]
            assert cited, (question, final["content"])
            assert {int(n) for n in re.findall(r"\[(\d+)\]", final["content"])} == set(cited)
            listed = {s["index"] for s in events["sources"]["sources"]}
            assert set(cited) <= listed
            for sentence in final["unsupported"]:  # flagged in the text, after the sentence
                assert sentence.rstrip(".!?") in final["content"]
            assert final["content"].count("[not found in your documents]") == len(final["unsupported"])
        stored = (await c.get(f"/api/v1/conversations/{conv}")).json()["messages"]
        answers = [m for m in stored if m["role"] == "assistant"]
        assert len(answers) == len(QUESTIONS) and all(m["model"] == "smollm2" and m["citations"] for m in answers)


@pytest.mark.timeout(600)
async def test_a_number_that_contradicts_the_source_is_flagged(smollm_app: str) -> None:
    # The real model is asked to state a wrong figure (the handbook says 48 kilowatt-hours); the
    # sentence it writes must come back flagged, in the stream and in the stored message.
    async with httpx.AsyncClient(base_url=smollm_app, timeout=600) as c:
        conv = await handbook_conversation(c, "n")
        r = await c.post(f"/api/v1/conversations/{conv}/messages", json={"content": (
            "Repeat this sentence exactly and write nothing else: "
            "The battery bank of the station stores 60 kilowatt-hours.")})
        final = dict(parse_sse(r.text))["citations"]
        wrong = [s for s in final["unsupported"] if "60" in s]
        assert wrong, final  # the model stated the figure and it was flagged
        assert all("48" not in s for s in wrong)
        assert "60 kilowatt-hours [not found in your documents]" in final["content"]
        assert final["citations"]  # still cites what the documents do say
        stored = (await c.get(f"/api/v1/conversations/{conv}")).json()["messages"][-1]
        assert stored["content"] == final["content"] and stored["model"] == "smollm2"
