"""Chat with an OpenAI-compatible model configured (a wire-protocol double on loopback), served by a
real uvicorn server so client disconnects are real TCP disconnects."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.core.migrations import upgrade_async
from tests.api.helpers import parse_sse, served, upload_bytes, wait_done
from tests.api.llm_double import DoubleServer
from tests.conftest import make_settings, register

MANUAL = (b"# Frobnicator\n\nThe frobnicator connects to the hub over TLS on port 8443.\n\n"
          b"## Timeouts\n\nThe frobnicator gives up after a timeout of 42 seconds.\n\n"
          b"# Cafeteria\n\nThe cafeteria serves soup on Tuesdays.\n")


@pytest.fixture(scope="module")
def double() -> Any:
    with DoubleServer() as server:
        yield server


@pytest.fixture(scope="module")
async def llm_base(double: DoubleServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    from app.main import create_app

    tmp: Path = tmp_path_factory.mktemp("llm-app")
    url = f"sqlite+aiosqlite:///{tmp / 'db.sqlite'}"
    await upgrade_async(url)
    app = create_app(make_settings(tmp, database_url=url, llm_base_url=double.base_url,
                                   llm_model="double", cookie_secure=False))
    async with served(app) as url:
        yield url


@pytest.fixture
async def user(llm_base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=llm_base, timeout=120) as c:
        import uuid

        await register(c, f"u{uuid.uuid4().hex[:8]}@example.com")
        yield c


async def _conversation_with_doc(c: httpx.AsyncClient) -> str:
    doc = await upload_bytes(c, "frobnicator.md", MANUAL)
    if doc["documents"][0]["status"] != "ready":
        await wait_done(c, doc["documents"][0]["id"])
    r = await c.post("/api/v1/conversations", json={})
    return str(r.json()["id"])


async def test_follow_up_is_rewritten_before_retrieval(user: httpx.AsyncClient, double: DoubleServer) -> None:
    conv = await _conversation_with_doc(user)
    double.state.answer_deltas = ["It uses ", "TLS on port 8443 ", "[1]", " and [7]", "."]
    r = await user.post(f"/api/v1/conversations/{conv}/messages",
                        json={"content": "How does the frobnicator connect to the hub?"})
    first = parse_sse(r.text)
    final = dict(first)["citations"]
    assert "[7]" not in final["content"] and "[1]" in final["content"]  # invalid marker removed
    assert [c["index"] for c in final["citations"]] == [1]
    assert (await user.get("/api/v1/config")).json()["llm_configured"] is True

    double.state.condensed = "What is the timeout of the frobnicator?"
    double.state.answer_deltas = ["After 42 seconds [1]."]
    r = await user.post(f"/api/v1/conversations/{conv}/messages", json={"content": "what about its timeout?"})
    events = dict(parse_sse(r.text))
    condense = [q for q in double.state.requests if "standalone" in q["messages"][0]["content"].lower()]
    assert condense and "what about its timeout?" in condense[-1]["messages"][-1]["content"]
    assert "frobnicator" in condense[-1]["messages"][-1]["content"].lower()  # history was given
    top = events["sources"]["sources"][0]
    assert "42 seconds" in (await user.get(f"/api/v1/documents/{top['document_id']}/chunks")).text
    answer_prompt = double.state.requests[-1]["messages"]
    assert any("42 seconds" in m["content"] for m in answer_prompt)
    assert answer_prompt[0]["role"] == "system"


async def test_client_disconnect_stops_generation(user: httpx.AsyncClient, double: DoubleServer,
                                                  llm_base: str) -> None:
    conv = await _conversation_with_doc(user)
    double.state.answer_deltas = [f"word{i} " for i in range(400)]
    double.state.delay = 0.05
    double.state.stream_closed_early = False
    double.state.deltas_sent = 0
    got = 0
    async with user.stream("POST", f"/api/v1/conversations/{conv}/messages",
                           json={"content": "Tell me everything about the frobnicator"}) as r:
        async for line in r.aiter_lines():
            if line.startswith("event: token"):
                got += 1
                if got >= 3:
                    break
    await asyncio.sleep(1.5)
    sent = double.state.deltas_sent
    await asyncio.sleep(1.0)
    assert double.state.stream_closed_early
    assert double.state.deltas_sent == sent < 400  # nothing more is generated
    double.state.delay = 0.0
    detail = (await user.get(f"/api/v1/conversations/{conv}")).json()
    last = detail["messages"][-1]
    assert last["role"] == "assistant" and last["status"] == "stopped" and last["content"].startswith("word0")


async def test_llm_error_keeps_question_and_reports(user: httpx.AsyncClient, double: DoubleServer) -> None:
    conv = await _conversation_with_doc(user)
    double.state.fail_status = 400
    try:
        r = await user.post(f"/api/v1/conversations/{conv}/messages", json={"content": "When is soup served?"})
    finally:
        double.state.fail_status = None
    events = parse_sse(r.text)
    assert [e for e, _ in events] == ["sources", "error"]
    assert "overloaded" in events[1][1]["detail"]
    detail = (await user.get(f"/api/v1/conversations/{conv}")).json()
    assert [m["role"] for m in detail["messages"]] == ["user", "assistant"]
    assert detail["messages"][0]["content"] == "When is soup served?"
    assert detail["messages"][1]["status"] == "error"


async def test_generated_sentences_are_checked_against_the_sources(
        user: httpx.AsyncClient, double: DoubleServer) -> None:
    # The model cites nothing for a true sentence and states a number its source contradicts.
    conv = await _conversation_with_doc(user)
    double.state.answer_deltas = ["The frobnicator ", "connects to the hub over TLS on port 8443. ",
                                  "It gives up after a timeout of ", "99 seconds [1]."]
    r = await user.post(f"/api/v1/conversations/{conv}/messages",
                        json={"content": "How does the frobnicator connect, and when does it give up?"})
    events = dict(parse_sse(r.text))
    final = events["citations"]
    by_index = {s["index"]: s for s in events["sources"]["sources"]}
    port = next(i for i, s in by_index.items() if "8443" in s["snippet"])
    assert final["content"] == (f"The frobnicator connects to the hub over TLS on port 8443 [{port}]. "
                                "It gives up after a timeout of 99 seconds "
                                "[not found in your documents].")
    assert final["unsupported"] == ["It gives up after a timeout of 99 seconds."]
    assert [c["index"] for c in final["citations"]] == [port]
    assert events["done"]["timings"]["grounding_ms"] >= 0
    stored = (await user.get(f"/api/v1/conversations/{conv}")).json()["messages"][-1]
    assert stored["content"] == final["content"] and stored["model"] == "double"
    assert [c["index"] for c in stored["citations"]] == [port]


async def test_an_answer_with_sources_never_ends_uncited(user: httpx.AsyncClient,
                                                         double: DoubleServer) -> None:
    conv = await _conversation_with_doc(user)
    double.state.answer_deltas = ["I am not sure about that, sorry."]
    r = await user.post(f"/api/v1/conversations/{conv}/messages",
                        json={"content": "When does the cafeteria serve soup?"})
    final = dict(parse_sse(r.text))["citations"]
    assert final["content"].startswith("I am not sure about that, sorry.")
    assert final["citations"], final
    assert "soup on Tuesdays" in final["content"]  # the passage that answers, cited


async def test_an_answer_cut_off_inside_code_still_ends_cited(user: httpx.AsyncClient,
                                                              double: DoubleServer) -> None:
    # The token limit stops the model inside a code block: the passage appended after it must
    # be prose again, or its markers would be code and the answer would cite nothing.
    conv = await _conversation_with_doc(user)
    double.state.answer_deltas = ["Try this:\n```python\n", "def soup():\n    return serve("]
    r = await user.post(f"/api/v1/conversations/{conv}/messages",
                        json={"content": "When does the cafeteria serve soup?"})
    final = dict(parse_sse(r.text))["citations"]
    assert final["content"].startswith("Try this:\n```python\ndef soup():\n    return serve(\n```\n\n")
    assert final["citations"], final
    assert "soup on Tuesdays" in final["content"].split("```")[-1]


async def test_a_summary_request_gives_the_model_the_documents_central_passages(
        user: httpx.AsyncClient, double: DoubleServer) -> None:
    conv = await _conversation_with_doc(user)
    double.state.answer_deltas = ["The frobnicator connects to the hub over TLS [1]."]
    before = len(double.state.requests)
    r = await user.post(f"/api/v1/conversations/{conv}/messages",
                        json={"content": "Summarise my documents"})
    events = dict(parse_sse(r.text))
    sources = events["sources"]["sources"]
    assert sources and {s["filename"] for s in sources} == {"frobnicator.md"}
    prompts = double.state.requests[before:]
    assert len(prompts) == 1  # no rewrite, no search: the answer prompt only
    assert any("port 8443" in m["content"] for m in prompts[0]["messages"])
    final = events["citations"]
    assert [c["index"] for c in final["citations"]] == [1] and final["citations"][0]["filename"] == \
        "frobnicator.md"
