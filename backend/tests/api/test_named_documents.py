"""A question that names a document by its file name ("… of the offsite presentation") searches
that document as well, through the real pipeline (database, Chroma, embedding model): its slide
answers although a long guide's words match the question better. Only documents the caller may
read, within the question's scope, are ever searched that way."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.rag import pipeline
from tests import docgen
from tests.api.helpers import ask, new_conversation, upload, upload_bytes, wait_done
from tests.conftest import register

QUESTION = "What is on the budget slide of the offsite presentation?"
_TOPICS = ["venue", "catering", "transport", "speakers", "workshops", "printing", "insurance",
           "decorations", "photography", "accommodation", "security", "recordings"]
# A guide about building presentations whose every section speaks of budget slides: many
# passages that hold the question's words better than the deck's own slide does.
GUIDE = "# Presentation design guide\n\n" + "\n\n".join(
    f"## The {topic} line of a budget slide\n\n"
    f"A budget slide in an offsite presentation lists the {topic} as its own cost line. Put the "
    f"{topic} on the budget slide with its amount, so that the presentation reads like the "
    f"invoice. When the {topic} changes, update the budget slide before the presentation is "
    f"shared, and say on the slide who approved the {topic}. A budget slide that hides the "
    f"{topic} makes the whole presentation harder to trust, so keep the {topic} visible."
    for topic in _TOPICS)
DECK = [
    ("Team offsite 2026", ["Planning overview for the spring retreat"]),
    ("Agenda", ["Day one: strategy", "Day two: hiking and workshops"]),
    ("Travel", ["Coach leaves the office at 8:00", "Return on Friday evening"]),
    ("Budget", ["Lakeside Lodge, Brienz: 4,200 EUR", "Coach hire: 650 EUR"]),
]


def filenames(final: dict[str, Any]) -> set[str]:
    return {s["filename"] for s in final["sources"]}


@pytest.fixture
async def library(client: AsyncClient, tmp_path: Path) -> dict[str, str]:
    await register(client)
    deck = await upload(client, docgen.pptx(tmp_path / "offsite-presentation.pptx", DECK))
    guide = await upload_bytes(client, "presentation-design-guide.md", GUIDE.encode())
    ids = {"deck": deck["documents"][0]["id"], "guide": guide["documents"][0]["id"]}
    for doc_id in ids.values():
        assert (await wait_done(client, doc_id))["status"] == "ready"
    return ids


async def test_the_named_document_is_searched_too(client: AsyncClient,
                                                  library: dict[str, str]) -> None:
    final = await ask(client, await new_conversation(client), QUESTION)
    assert "Lakeside Lodge" in final["content"], final["content"]
    assert "offsite-presentation.pptx" in {c["filename"] for c in final["citations"]}
    # Not named, the guide's passages fill every place.
    other = await ask(client, await new_conversation(client),
                      "What is on the budget slide of a presentation?")
    assert filenames(other) == {"presentation-design-guide.md"}


async def test_the_named_document_is_searched_without_the_words_naming_it(
        client: AsyncClient, library: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Within the deck, "offsite presentation" would only find its title slide; the whole scope is
    # still searched with the question as asked.
    searched: list[tuple[str, list[str] | None]] = []
    real = pipeline.retrieve

    async def recording(session: Any, container: Any, **kwargs: Any) -> Any:
        searched.append((kwargs["query"], kwargs.get("document_ids")))
        return await real(session, container, **kwargs)

    monkeypatch.setattr(pipeline, "retrieve", recording)
    final = await ask(client, await new_conversation(client), QUESTION)
    assert "Lakeside Lodge" in final["content"], final["content"]
    assert searched == [(QUESTION, None),
                        ("What is on the budget slide of the?", [library["deck"]])]


async def test_a_document_outside_the_scope_is_not_searched(
        client: AsyncClient, library: dict[str, str]) -> None:
    final = await ask(client, await new_conversation(client), QUESTION,
                      document_ids=[library["guide"]])
    assert filenames(final) == {"presentation-design-guide.md"}
    assert "Lakeside Lodge" not in final["content"]


async def test_another_users_document_is_never_named(
        client: AsyncClient, library: dict[str, str],
        anon_client_factory: Callable[[], AsyncClient]) -> None:
    async with anon_client_factory() as bob:
        await register(bob, "bob@example.com")
        guide = await upload_bytes(bob, "presentation-design-guide.md", GUIDE.encode())
        assert (await wait_done(bob, guide["documents"][0]["id"]))["status"] == "ready"
        final = await ask(bob, await new_conversation(bob), QUESTION)
    assert filenames(final) == {"presentation-design-guide.md"}
    assert "Lakeside Lodge" not in final["content"]
