from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import Any

from httpx import AsyncClient
from sqlalchemy import select

from app.admin import service as admin_service
from app.core.db import create_engine, create_sessionmaker
from app.platform.crypto import SecretBox
from app.platform.models import AppSetting
from app.platform.runtime import RuntimeSettingsService
from tests.admin.conftest import container, free_port

SETTINGS = "/api/v1/admin/settings"


def _saved_values(body: dict[str, Any]) -> dict[str, Any]:
    """The settings response without `reindex`: the index's live status, which a background
    build or the first search may change between two reads, not a saved value."""
    return {k: v for k, v in body.items() if k != "reindex"}


async def _raw_rows(api_app: Any) -> dict[str, AppSetting]:
    async with container(api_app).sessions() as session:
        return {r.key: r for r in (await session.execute(select(AppSetting))).scalars()}


async def test_defaults_come_from_environment(admin: AsyncClient, api_app: Any) -> None:
    r = await admin.get(SETTINGS)
    assert r.status_code == 200
    body = r.json()
    s = container(api_app).settings
    assert body["llm"] == {"base_url": s.llm_base_url, "model": s.llm_model, "api_key_set": False,
                           "temperature": s.llm_temperature, "max_tokens": s.llm_max_tokens,
                           "context_size": s.llm_context_tokens}
    assert body["embedding"]["provider"] == s.embedding_provider
    assert body["embedding"]["model"] == s.embedding_model
    assert body["retrieval"] == {"top_k": s.retrieval_top_k, "hybrid_weight": s.hybrid_weight,
                                 "relevance_floor": s.relevance_floor}
    assert body["uploads"] == {"max_upload_mb": s.max_upload_mb, "max_pages": s.max_pages,
                               "quota_mb": s.user_quota_mb}
    assert body["registration_open"] is True
    assert set(body["reindex"]) >= {"status", "progress", "collection"}


async def test_update_persists_encrypts_and_hides_secrets(admin: AsyncClient, api_app: Any) -> None:
    secret = "sk-live-0123456789abcdef"
    r = await admin.put(SETTINGS, json={
        "llm": {"base_url": "http://127.0.0.1:9/v1/", "model": "llama3", "api_key": secret,
                "temperature": 0.3},
        "retrieval": {"top_k": 9},
        "uploads": {"max_upload_mb": 5},
    })
    assert r.status_code == 200, r.text
    assert secret not in r.text
    body = r.json()
    assert body["llm"]["base_url"] == "http://127.0.0.1:9/v1"
    assert body["llm"]["api_key_set"] is True and "api_key" not in body["llm"]
    assert body["llm"]["temperature"] == 0.3 and body["llm"]["max_tokens"] == 700  # untouched
    assert body["retrieval"]["top_k"] == 9 and body["uploads"]["max_upload_mb"] == 5

    # Stored encrypted: the raw row never holds the plaintext, and it decrypts with the app key.
    rows = await _raw_rows(api_app)
    stored = rows["llm"].secret
    assert stored and secret not in stored and secret not in str(rows["llm"].value)
    assert SecretBox(container(api_app).settings.secret).decrypt(stored) == secret

    # A fresh read (a new request) sees the same; /config reflects the configured LLM.
    again = (await admin.get(SETTINGS)).json()
    assert again["llm"] == body["llm"] and secret not in str(again)
    assert (await admin.get("/api/v1/config")).json()["llm_configured"] is True

    # Omitting the key keeps it; "" clears it; other fields are left alone.
    r = await admin.put(SETTINGS, json={"llm": {"model": "llama3.1"}})
    assert r.json()["llm"]["api_key_set"] is True
    assert SecretBox(container(api_app).settings.secret).decrypt(
        (await _raw_rows(api_app))["llm"].secret or "") == secret
    r = await admin.put(SETTINGS, json={"llm": {"api_key": ""}})
    assert r.json()["llm"]["api_key_set"] is False and r.json()["llm"]["model"] == "llama3.1"
    assert (await _raw_rows(api_app))["llm"].secret is None

    # Clearing the base URL switches back to extractive answers.
    r = await admin.put(SETTINGS, json={"llm": {"base_url": None}})
    assert r.json()["llm"]["base_url"] is None
    assert (await admin.get("/api/v1/config")).json()["llm_configured"] is False


async def test_invalid_updates_are_refused_and_change_nothing(admin: AsyncClient) -> None:
    before = (await admin.get(SETTINGS)).json()
    for body in ({"retrieval": {"top_k": 0}}, {"retrieval": {"hybrid_weight": 1.5}},
                 {"llm": {"base_url": "not a url"}}, {"uploads": {"max_upload_mb": -1}},
                 {"llm": {"unknown": 1}}, {"nonsense": True}):
        r = await admin.put(SETTINGS, json=body)
        assert r.status_code == 422, (body, r.text)
    # Consistency across fields: an OpenAI-compatible embedder needs a URL.
    r = await admin.put(SETTINGS, json={"embedding": {"provider": "openai", "model": "nomic"}})
    assert r.status_code == 400 and r.json()["error"] == "invalid_settings"
    after = (await admin.get(SETTINGS)).json()
    assert _saved_values(after) == _saved_values(before)


async def test_change_is_seen_by_another_process_within_the_ttl(admin: AsyncClient, api_app: Any) -> None:
    settings = container(api_app).settings
    # A second service on its own engine and sessionmaker, as in another API or worker process.
    engine = create_engine(settings.effective_database_url)
    other = RuntimeSettingsService(settings, create_sessionmaker(engine), ttl=1.0)
    try:
        assert (await other.current()).retrieval.top_k == settings.retrieval_top_k
        r = await admin.put(SETTINGS, json={"retrieval": {"top_k": 17, "relevance_floor": 0.4},
                                            "registration": {"mode": "closed"}})
        assert r.status_code == 200
        started = time.monotonic()
        while (await other.current()).retrieval.top_k != 17:
            assert time.monotonic() - started < 3.0, "change not visible within the TTL"
            await asyncio.sleep(0.1)
        values = await other.current()
        assert values.retrieval.relevance_floor == 0.4 and values.registration_open is False
        assert time.monotonic() - started <= 1.5
    finally:
        await engine.dispose()


async def test_runtime_values_never_show_keys_in_repr(api_app: Any, admin: AsyncClient) -> None:
    await admin.put(SETTINGS, json={"llm": {"base_url": "http://127.0.0.1:9/v1",
                                            "api_key": "sk-should-not-leak"},
                                    "embedding": {"api_key": "emb-should-not-leak"}})
    svc = RuntimeSettingsService(container(api_app).settings, container(api_app).sessions)
    values = await svc.current()
    assert values.llm.api_key == "sk-should-not-leak"
    assert values.embedding.api_key == "emb-should-not-leak"
    assert "leak" not in repr(values)


async def test_settings_test_llm_reports_failure_with_detail(admin: AsyncClient) -> None:
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm"})
    assert r.status_code == 200
    assert r.json()["ok"] is False and "No language model" in r.json()["detail"]
    port = free_port()  # nothing listens there
    await admin.put(SETTINGS, json={"llm": {"base_url": f"http://127.0.0.1:{port}/v1"}})
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm"})
    body = r.json()
    assert body["ok"] is False and "connect" in body["detail"].lower()
    assert body["latency_ms"] >= 0
    r = await admin.post(f"{SETTINGS}/test", json={"target": "nope"})
    assert r.status_code == 422


async def test_settings_test_llm_against_a_real_server(admin: AsyncClient, openai_stub_url: str) -> None:
    await admin.put(SETTINGS, json={"llm": {"base_url": openai_stub_url, "model": "tiny",
                                            "api_key": "sk-test"}})
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm"})
    assert r.json()["ok"] is True, r.json()
    await admin.put(SETTINGS, json={"llm": {"api_key": "sk-wrong"}})
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm"})
    assert r.json()["ok"] is False and "API key" in r.json()["detail"]


async def test_settings_test_uses_the_values_typed_in_the_form(
        admin: AsyncClient, api_app: Any, openai_stub_url: str) -> None:
    """Candidate values are tested without being saved; a blank key means the saved one, which is
    never sent to another URL."""
    saved = (await admin.get(SETTINGS)).json()
    candidate = {"base_url": openai_stub_url, "model": "tiny", "api_key": "sk-test"}
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm", "llm": candidate})
    assert r.status_code == 200 and r.json()["ok"] is True, r.json()
    assert _saved_values((await admin.get(SETTINGS)).json()) == _saved_values(saved)  # none saved
    assert "llm" not in await _raw_rows(api_app)  # no settings row was written
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm"})  # the saved (empty) settings
    assert r.json()["ok"] is False and "No language model" in r.json()["detail"]

    # Saved with its key: a blank key in the form reuses it for the same URL...
    await admin.put(SETTINGS, json={"llm": {"base_url": openai_stub_url, "model": "tiny",
                                            "api_key": "sk-test"}})
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm", "llm": {
        "base_url": openai_stub_url, "model": "another", "api_key": ""}})
    assert r.json()["ok"] is True and "another" in r.json()["detail"], r.json()
    # ...a wrong typed key is tested as typed (and not saved)...
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm", "llm": {"api_key": "sk-wrong"}})
    assert r.json()["ok"] is False and "API key" in r.json()["detail"]
    assert (await admin.post(f"{SETTINGS}/test", json={"target": "llm"})).json()["ok"] is True
    # ...and another URL never receives the saved key (the stub refuses the keyless request).
    other = openai_stub_url.replace("127.0.0.1", "localhost")
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm", "llm": {"base_url": other}})
    body = r.json()
    assert body["ok"] is False and "only sent to the saved URL" in body["detail"], body
    # Candidate values are validated like a save.
    r = await admin.post(f"{SETTINGS}/test", json={"target": "llm", "llm": {"base_url": "not a url"}})
    assert r.status_code == 422


async def test_settings_test_candidate_embedding(admin: AsyncClient, openai_stub_url: str) -> None:
    r = await admin.post(f"{SETTINGS}/test", json={"target": "embedding", "embedding": {
        "provider": "openai", "model": "stub-3", "base_url": openai_stub_url, "api_key": "sk-test"}})
    assert r.json()["ok"] is True and "3-dimensional" in r.json()["detail"], r.json()
    assert (await admin.get(SETTINGS)).json()["embedding"]["provider"] == "local"  # not saved


async def test_settings_test_remote_embedding(api_app: Any, openai_stub_url: str) -> None:
    # Called on the service: saving an embedding change through the API would start a re-index.
    values = await RuntimeSettingsService(container(api_app).settings,
                                          container(api_app).sessions).current()
    remote = replace(values, embedding=replace(values.embedding, provider="openai", model="stub-3",
                                               base_url=openai_stub_url, api_key="sk-test",
                                               dimension=None))
    result = await admin_service.test_settings(container(api_app), remote, "embedding")
    assert result.ok is True and "3-dimensional" in result.detail, result
    bad_key = replace(remote, embedding=replace(remote.embedding, api_key="sk-nope"))
    result = await admin_service.test_settings(container(api_app), bad_key, "embedding")
    assert result.ok is False and "401" in result.detail


async def test_settings_test_local_embedding(admin: AsyncClient) -> None:
    r = await admin.post(f"{SETTINGS}/test", json={"target": "embedding"})
    body = r.json()
    assert body["ok"] is True, body
    assert "384-dimensional" in body["detail"]
