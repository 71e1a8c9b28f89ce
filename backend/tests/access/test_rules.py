"""`read_plan`'s owner partitions on real SQLite and PostgreSQL: whole partitions when every
document is readable, "only these" or "all but these" otherwise, and the re-check rule."""

from __future__ import annotations

import uuid
from typing import Any

from httpx import AsyncClient

from app.access.rules import Partition, access_for, read_plan
from app.auth.models import User
from app.collections.models import Collection, CollectionMember
from app.documents.models import Document


def _doc(owner: str, collection: str | None) -> Document:
    doc_id = str(uuid.uuid4())
    return Document(id=doc_id, owner_id=owner, collection_id=collection, filename="f.txt",
                    mime_type="text/plain", kind="text", size_bytes=1, content_hash=doc_id,
                    storage_key=doc_id, status="ready")


async def test_partitions(client: AsyncClient, api_app: Any) -> None:
    container = api_app.state.container
    me, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with container.sessions() as s:
        for uid in (me, other):
            s.add(User(id=uid, email=f"{uid}@example.com", password_hash="x"))
        shared, hidden, mine_gone = (Collection(name=n) for n in ("shared", "hidden", "left"))
        s.add_all([shared, hidden, mine_gone])
        await s.flush()
        s.add(CollectionMember(collection_id=shared.id, user_id=me, role="viewer"))
        # me: 3 private documents and 1 in a collection they no longer belong to
        private = [_doc(me, None) for _ in range(3)]
        left = _doc(me, mine_gone.id)
        # other: 1 shared document, 2 private, 1 in a collection me cannot read
        readable = _doc(other, shared.id)
        others = [_doc(other, None), _doc(other, None), _doc(other, hidden.id)]
        s.add_all([*private, left, readable, *others])
        await s.commit()

        access = await access_for(s, me)
        plan = await read_plan(s, access)
        parts = {p.owner_id: p for p in plan.partitions}
        # Mostly readable: all but the one left behind. Mostly unreadable: only the shared one.
        assert parts[me] == Partition(owner_id=me, exclude_document_ids=frozenset({left.id}))
        assert parts[other] == Partition(owner_id=other, document_ids=frozenset({readable.id}))
        assert plan.allows(other, shared.id, readable.id)
        assert not plan.allows(other, None, others[0].id)
        assert not plan.allows(me, mine_gone.id, left.id)
        assert plan.allows(me, None, private[0].id)

        # A selection: only the shared collection; my private documents are out of scope.
        plan = await read_plan(s, access, collection_ids=[shared.id])
        assert [p.owner_id for p in plan.partitions] == [other]
        assert not plan.allows(me, None, private[0].id)

        # Every document of an owner readable: that partition is searched without a filter.
        s.add(CollectionMember(collection_id=hidden.id, user_id=me, role="viewer"))
        for d in others[:2]:
            d.collection_id = shared.id
        await s.commit()
        plan = await read_plan(s, await access_for(s, me))
        assert Partition(owner_id=other) in plan.partitions
