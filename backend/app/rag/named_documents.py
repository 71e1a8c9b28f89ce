"""Documents a question names by their file name: "the table on the last slide of the sample
presentation" (sample-presentation.pptx), "the camlidl manual" (camlidl-1.04.doc.pdf); the rule
is `question.names_file`.

Such a question is about that document, yet its words may favour others ("table" ranks the
chapter on tables of a PDF guide above the slide holding one). The chat then searches the named
documents as well and fuses both rankings (`followup.fuse_results`): the named document's best
passages join the others without pushing out what the whole scope found best. Within the
named document, the words naming it are left out of the search (`question.without_naming`): there
they only find its title page ("… according to Winter Sports in Switzerland?"). Only the caller's
readable documents within the question's scope are considered (the same read plan as retrieval),
and only when at most `MAX_NAMED` are named: a name shared by many files says nothing about which
one is meant.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import access_for, read_plan
from app.documents.models import Document
from app.rag.question import names_file

MAX_NAMED = 2
# A question word's first letters: the file names worth the exact check are found in SQL.
_PREFIX = 4


async def named_documents(session: AsyncSession, owner_id: str, question: str,
                          scope: Sequence[str] | None, collection_ids: Sequence[str] | None
                          ) -> dict[str, str]:
    """The readable, searchable documents in scope that `question` names, by id with their file
    names (none when more than `MAX_NAMED` are)."""
    words = {w[:_PREFIX] for w in re.findall(r"[^\W\d_]{3,}", question.lower())}
    if not words:
        return {}
    access = await access_for(session, owner_id)
    lowered = func.lower(Document.filename)
    stmt = (select(Document.id, Document.owner_id, Document.collection_id, Document.filename)
            .where(access.condition(), Document.searchable_version.is_not(None),
                   or_(*(lowered.contains(w, autoescape=True) for w in sorted(words)))))
    named = [row for row in (await session.execute(stmt)).all() if names_file(question, row[3])]
    if not named:
        return {}  # most questions: no read plan needed
    plan = await read_plan(session, access, document_ids=scope, collection_ids=collection_ids)
    found = {doc_id: filename for doc_id, owner, coll, filename in sorted(named)
             if plan.allows(owner, coll, doc_id)}
    return found if len(found) <= MAX_NAMED else {}
