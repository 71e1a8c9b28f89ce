"""A chunk's id names its document: the vector store reads it off to post-filter a search."""

from __future__ import annotations

import uuid

from app.documents.vectors import chunk_document, chunk_id, vector_record


def test_a_chunk_id_names_its_document_and_its_vector_has_the_same_id() -> None:
    doc = str(uuid.uuid4())
    for version, n in ((1, 0), (3, 117)):
        cid = chunk_id(doc, version, n)
        assert chunk_document(cid) == doc
        record = vector_record(chunk_id=cid, owner_id="u", document_id=doc, version=version, n=n,
                               page_start=1, page_end=1, embedding=[1.0])
        assert record.id == cid and chunk_document(record.id) == record.document_id
    assert chunk_id(doc, 1, 2) != chunk_id(doc, 2, 1)
