"""Upload → extract → chunk → embed → index through the real app (in-process jobs, embedded Chroma),
on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from app.documents import repository as repo
from app.providers.vectorstore import AllOwners
from tests import docgen
from tests.api.helpers import upload, upload_bytes, wait_done
from tests.conftest import register


async def _vector_count(api_app: Any, document_id: str) -> int:
    container = api_app.state.container
    total = 0
    for target in await container.index.targets():
        # Every owner's collections: a document's vectors must not survive anywhere.
        total += await container.vectors.count(
            target.collection, scope=AllOwners(document_ids=frozenset({document_id})))
    return total


async def test_upload_pdf_and_docx_to_ready(client: AsyncClient, api_app: Any, tmp_path: Path) -> None:
    await register(client)
    body = await upload(client, docgen.layout_paper(tmp_path / "layout-parser-paper.pdf"),
                        docgen.table_docx(tmp_path / "tables-with-incomplete-rows.docx"))
    assert body["errors"] == []
    pdf, docx = body["documents"]
    assert pdf["status"] == "queued" and pdf["mime_type"] == "application/pdf"
    pdf = await wait_done(client, pdf["id"])
    docx = await wait_done(client, docx["id"])
    assert pdf["status"] == "ready", pdf["error"]
    assert docx["status"] == "ready", docx["error"]
    assert pdf["page_count"] == 2 and pdf["chunk_count"] > 0 and pdf["progress"] == 100
    assert set(pdf["timings"]) >= {"extract", "chunk", "embed", "index"}

    chunks = (await client.get(f"/api/v1/documents/{pdf['id']}/chunks", params={"limit": 500})).json()
    assert chunks["total"] == pdf["chunk_count"]
    pages = {c["page_start"] for c in chunks["items"]}
    assert pages == {1, 2}
    assert any("LayoutParser" in c["text"] for c in chunks["items"] if c["page_start"] == 1)
    page2 = (await client.get(f"/api/v1/documents/{pdf['id']}/chunks", params={"page": 2})).json()
    assert page2["items"] and all(c["page_start"] <= 2 <= c["page_end"] for c in page2["items"])
    assert await _vector_count(api_app, pdf["id"]) == pdf["chunk_count"]

    listed = (await client.get("/api/v1/documents", params={"sort": "filename", "order": "asc"})).json()
    assert [d["filename"] for d in listed["items"]] == [
        "layout-parser-paper.pdf", "tables-with-incomplete-rows.docx"]
    only_pdf = (await client.get("/api/v1/documents", params={"q": "layout"})).json()
    assert only_pdf["total"] == 1


async def test_duplicate_upload_returns_existing(client: AsyncClient) -> None:
    await register(client)
    first = (await upload_bytes(client, "notes.md", b"# Notes\n\nThe quarterly review is on Friday.\n"))
    again = (await upload_bytes(client, "renamed.md", b"# Notes\n\nThe quarterly review is on Friday.\n"))
    assert again["documents"][0]["id"] == first["documents"][0]["id"]
    assert again["documents"][0]["duplicate"] is True and first["documents"][0]["duplicate"] is False
    assert (await client.get("/api/v1/documents")).json()["total"] == 1


async def test_bad_files_fail_clearly_and_worker_survives(client: AsyncClient, tmp_path: Path) -> None:
    await register(client)
    locked = docgen.pdf(tmp_path / "password.pdf", ["Secret minutes"], user_password="openpassword")
    body = await upload(client, locked)
    bad = await wait_done(client, body["documents"][0]["id"])
    assert bad["status"] == "failed" and "password" in bad["error"].lower()
    empty = await upload_bytes(client, "empty.txt", b"")
    assert empty["documents"] == [] and empty["errors"][0]["error"] == "empty_file"
    binary = await upload_bytes(client, "x.bin", bytes(range(256)) * 64)
    assert binary["errors"] and "unsupported" in binary["errors"][0]["detail"].lower()
    # The runner goes on with the next document.
    ok = await upload_bytes(client, "after.txt", b"The worker is still alive after bad input.\n")
    assert (await wait_done(client, ok["documents"][0]["id"]))["status"] == "ready"


async def test_other_users_documents_are_not_found(client: AsyncClient, anon_client_factory) -> None:  # type: ignore[no-untyped-def]
    await register(client)
    doc = (await upload_bytes(client, "a.txt", b"Alice's private plans for the garden.\n"))["documents"][0]
    async with anon_client_factory() as bob:
        await register(bob, "bob@example.com")
        for method, url in [("GET", f"/api/v1/documents/{doc['id']}"),
                            ("GET", f"/api/v1/documents/{doc['id']}/file"),
                            ("GET", f"/api/v1/documents/{doc['id']}/chunks"),
                            ("DELETE", f"/api/v1/documents/{doc['id']}"),
                            ("POST", f"/api/v1/documents/{doc['id']}/reprocess")]:
            r = await bob.request(method, url)
            assert r.status_code == 404, (method, url, r.status_code)
        assert (await bob.get("/api/v1/documents")).json()["total"] == 0
        r = await bob.post("/api/v1/documents/batch-delete", json={"ids": [doc["id"]]})
        assert r.json()["deleted"] == 0
    assert (await client.get(f"/api/v1/documents/{doc['id']}")).status_code == 200


async def test_file_download_is_safe(client: AsyncClient) -> None:
    await register(client)
    doc = (await upload_bytes(client, '../../evil"\r\nname.html',
                              b"<html><body><script>alert(1)</script><p>Hello</p></body></html>"))
    d = doc["documents"][0]
    assert "/" not in d["filename"] and "\r" not in d["filename"]
    r = await client.get(f"/api/v1/documents/{d['id']}/file", params={"inline": 1})
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment")  # HTML never inline
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]


async def test_delete_removes_file_rows_and_vectors(client: AsyncClient, api_app: Any) -> None:
    await register(client)
    doc = (await upload_bytes(client, "delete-me.txt", b"Temporary document about tulips.\n" * 20))["documents"][0]
    doc = await wait_done(client, doc["id"])
    assert await _vector_count(api_app, doc["id"]) == doc["chunk_count"] > 0
    path = api_app.state.container.files.path(doc["id"])
    assert path.exists()
    assert (await client.delete(f"/api/v1/documents/{doc['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/documents/{doc['id']}")).status_code == 404
    assert await _vector_count(api_app, doc["id"]) == 0
    assert not path.exists()


async def test_delete_while_processing(client: AsyncClient, api_app: Any, tmp_path: Path) -> None:
    await register(client)
    manual = docgen.pdf(tmp_path / "manual.pdf", ["\n\n".join(docgen.paragraphs(page, 3))
                                                     for page in range(26)])
    doc = (await upload(client, manual))["documents"][0]
    for _ in range(400):  # delete as soon as it is being worked on
        state = (await client.get(f"/api/v1/documents/{doc['id']}")).json()
        if state["status"] == "processing":
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert (await client.delete(f"/api/v1/documents/{doc['id']}")).status_code == 204
    runner = api_app.state.container.jobs
    await runner.join()
    assert await _vector_count(api_app, doc["id"]) == 0


async def test_a_document_deleted_as_its_chunks_are_written_is_skipped_quietly(
        client: AsyncClient, api_app: Any, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    # The delete commits between the worker's last check and its chunk insert: the rows' foreign
    # key fails. That is the document gone (stop, nothing to retry), not a crash of the pipeline.
    await register(client)
    write = repo.replace_chunks
    deleted: list[str] = []

    async def deleted_first(session: Any, document_id: str, rows: Any, **kwargs: Any) -> Any:
        if rows and not deleted:
            assert (await client.delete(f"/api/v1/documents/{document_id}")).status_code == 204
            deleted.append(document_id)
        return await write(session, document_id, rows, **kwargs)

    monkeypatch.setattr(repo, "replace_chunks", deleted_first)
    caplog.set_level(logging.INFO, logger="citewise.ingestion")
    doc = (await upload_bytes(client, "gone.md", b"# Gone\n\nDeleted while it was read.\n"))
    await api_app.state.container.jobs.join()
    assert deleted == [doc["documents"][0]["id"]]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    finished = [r for r in caplog.records if r.getMessage() == "ingestion finished"]
    assert [getattr(r, "outcome", None) for r in finished] == ["skipped"], caplog.text
    assert (await client.get("/api/v1/documents")).json()["total"] == 0
    assert await _vector_count(api_app, deleted[0]) == 0


async def test_reprocess_replaces_chunks(client: AsyncClient, api_app: Any) -> None:
    await register(client)
    doc = (await upload_bytes(client, "r.txt", b"Reprocessing keeps exactly one copy of each passage.\n" * 30))["documents"][0]
    first = await wait_done(client, doc["id"])
    old_ids = {c["id"] for c in (await client.get(f"/api/v1/documents/{doc['id']}/chunks")).json()["items"]}
    r = await client.post(f"/api/v1/documents/{doc['id']}/reprocess")
    assert r.status_code == 202 and r.json()["status"] == "queued"
    second = await wait_done(client, doc["id"])
    assert second["status"] == "ready" and second["chunk_count"] == first["chunk_count"]
    new_ids = {c["id"] for c in (await client.get(f"/api/v1/documents/{doc['id']}/chunks")).json()["items"]}
    assert new_ids.isdisjoint(old_ids)
    assert await _vector_count(api_app, doc["id"]) == second["chunk_count"]


async def test_batch_delete(client: AsyncClient) -> None:
    await register(client)
    a = (await upload_bytes(client, "a.txt", b"alpha document\n"))["documents"][0]
    b = (await upload_bytes(client, "b.txt", b"beta document\n"))["documents"][0]
    r = await client.post("/api/v1/documents/batch-delete", json={"ids": [a["id"], b["id"], "nope"]})
    assert r.json()["deleted"] == 2
    assert (await client.get("/api/v1/documents")).json()["total"] == 0
