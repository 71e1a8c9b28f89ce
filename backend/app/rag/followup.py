"""Conversation-aware retrieval: a follow-up that leans on the previous turn ("and how do I write
it back?", "what about the second one?") is searched with that turn's topic and, when it is
elliptic, within the documents the previous answer cited.

The rule is bounded and explainable, no model involved: a short question that starts like a
continuation, refers back with a pronoun or an ordinal, or has almost no words of its own is
*elliptic*; its query borrows the key words of the previous question, and retrieval is restricted
to the previous answer's documents (still readable and in the current scope), falling back to the
whole scope when they hold nothing relevant. With a language model, its rewrite is searched as
well and both result lists are fused, so a weak model's rewrite can add evidence but never take
the rule's away.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.access.rules import plan_for
from app.documents.models import Document
from app.providers.llm.base import ChatMessage
from app.rag.retrieval import RetrievalResult, RetrievedChunk
from app.rag.terms import ORDINALS, content_terms

MAX_WORDS = 14  # longer questions carry their own subject
TOPIC_TURNS = 3  # questions a chain of follow-ups may reach back to for its topic
_RRF_K = 60
_CONTINUATION = re.compile(
    r"^\s*(?:and|but|also|so|or|then|plus|what about|how about|what else|and what|same for|"
    r"why not|what if)\b", re.IGNORECASE)
# "that"/"this" only when they stand for a noun ("what is that?", "this one"), not as relatives.
_ANAPHOR = re.compile(
    r"\b(?:it|its|it's|they|them|their|theirs|he|she|him|his|her|these|those|"
    r"(?:this|that|the other|the same)(?:\s+ones?)?(?=\s*[?.!,]|\s*$)|(?:this|that)\s+ones?|"
    r"the (?:former|latter))\b", re.IGNORECASE)
_ORDINAL = re.compile(
    r"\b(first|second|third|fourth|fifth|last|next|previous|other)\s+(?:one|ones|item|step|"
    r"option|method|way|part|point)\b", re.IGNORECASE)
_QUESTION_WORDS = frozenset("how what which who whom whose why when where can could do does".split())


def elliptic(question: str) -> bool:
    """A follow-up that cannot be understood without the previous turn: it refers back (a
    pronoun, "the second one"), or is a continuation ("and …", "what about …") or a fragment with
    at most two words of its own ("and the timeout?")."""
    if len(question.split()) > MAX_WORDS:
        return False
    own = len(content_terms(question))
    return bool(_ANAPHOR.search(question) or _ORDINAL.search(question) or own <= 1
                or (_CONTINUATION.match(question) and own <= 2))


def speaks_to(question: str, chunks: Sequence[RetrievedChunk]) -> bool:
    """Whether the previous turn's documents say anything about the follow-up's own words (or it
    has none): if not, the follow-up changed the subject and the whole scope is searched."""
    own = set(content_terms(question))
    return not own or any(own & set(content_terms(c.text)) for c in chunks)


def previous_question(history: Sequence[ChatMessage]) -> str | None:
    """The previous question; when that was itself a follow-up ("what about the second one?"),
    with the questions it leaned on, back to the one that stated the topic."""
    asked = [m.content for m in history if m.role == "user" and m.content.strip()]
    chain: list[str] = []
    for text in reversed(asked[-TOPIC_TURNS:]):
        chain.insert(0, text)
        if not elliptic(text):
            break
    return " ".join(chain) or None


def topic_words(text: str) -> str:
    """The key words of `text` as written (not stemmed: the query goes to the embedder and the
    keyword index), question words and stop words left out."""
    kept = []
    seen: set[str] = set()
    for word in re.findall(r"[\w.()%$<>-]+", text):
        bare = word.strip(".,()?!").lower()
        name = len(bare) == 1 and word.isupper()  # "R", "C": a language, not a stray letter
        if not bare or bare in _QUESTION_WORDS or bare in seen or not (name or content_terms(bare)):
            continue
        seen.add(bare)
        kept.append(word.strip(",?!"))
    return " ".join(kept)


def rule_query(question: str, history: Sequence[ChatMessage]) -> str:
    """The follow-up with the previous question's key words appended, when it is elliptic, and
    for "the second one" the head of the previous answer's second numbered item."""
    previous = previous_question(history)
    if not previous or not elliptic(question):
        return question
    extra = [topic_words(previous)]
    answer = next((m.content for m in reversed(history) if m.role == "assistant"), "")
    extra.append(numbered_item(question, answer))
    return " ".join([question.strip(), *(e for e in extra if e)])


def answer_terms(question: str, history: Sequence[ChatMessage]) -> tuple[str, str | None]:
    """For the extractive answerer: the follow-up (with the item "the second one" points at,
    which it is about as much as its own words) and the previous question as context; or the
    question and None when it is not elliptic."""
    previous = previous_question(history)
    if not previous or not elliptic(question):
        return question, None
    answer = next((m.content for m in reversed(history) if m.role == "assistant"), "")
    item = numbered_item(question, answer)
    return (f"{question} {item}" if item else question), previous


def numbered_item(question: str, answer: str) -> str:
    """"the second one" → the first words of item 2. of `answer` ("" when there is none)."""
    match = _ORDINAL.search(question)
    number = ORDINALS.get(match.group(1).lower()) if match else None
    if number is None:
        return ""
    item = re.search(rf"(?:^|\s){number}[.)]\s+([^.;:\[\n]{{3,60}})", answer)
    return item.group(1).strip() if item else ""


async def follow_up_documents(session: AsyncSession, owner_id: str, cited: Sequence[str],
                              scope: Sequence[str] | None,
                              collection_ids: Sequence[str] | None) -> list[str]:
    """The previous answer's documents that the reader may still read within the current scope,
    in citation order."""
    if not cited:
        return []
    plan = await plan_for(session, owner_id, document_ids=scope, collection_ids=collection_ids)
    rows = (await session.execute(select(Document.id, Document.owner_id, Document.collection_id)
                                  .where(Document.id.in_(list(cited))))).all()
    allowed = {doc_id for doc_id, owner, coll in rows if plan.allows(owner, coll, doc_id)}
    return [d for d in dict.fromkeys(cited) if d in allowed]


def fuse_results(results: Sequence[RetrievalResult], k: int) -> RetrievalResult:
    """Reciprocal-rank fusion of the same question searched several ways (rule-based query and a
    model's rewrite). Found when any of them found something."""
    found = [r for r in results if not r.not_found] or list(results[:1])
    if len(found) == 1:
        return found[0]
    scores: dict[str, float] = {}
    chunks: dict[str, RetrievedChunk] = {}
    for result in found:
        for rank, chunk in enumerate(result.chunks):
            scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + 1.0 / (_RRF_K + rank + 1)
            chunks.setdefault(chunk.chunk_id, chunk)
    order = sorted(scores, key=lambda cid: (-scores[cid], cid))[:k]
    # Scores stay each chunk's own retrieval score: the fused rank only decides the order.
    return RetrievalResult(chunks=[chunks[cid] for cid in order],
                           best_dense=max(r.best_dense for r in found), not_found=False,
                           timings=found[0].timings)

