"""`admits`: the document conditions both kinds of search scope share."""

from __future__ import annotations

from app.providers.keyword.base import KeywordScope
from app.providers.scopes import admits
from app.providers.vectorstore.base import VectorScope


def test_only_some_all_but_some_or_all() -> None:
    assert admits("a", {"a"}, None) and not admits("b", {"a"}, None)
    assert not admits("a", None, {"a"}) and admits("b", None, {"a"})
    assert admits("a", None, None)
    # Both scopes answer alike.
    for scope in (KeywordScope(owner_id="o", exclude_document_ids=frozenset({"a"})),
                  VectorScope(owner_id="o", exclude_document_ids=frozenset({"a"}))):
        assert not scope.keeps("a") and scope.keeps("b")
