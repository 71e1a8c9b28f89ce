"""Keyword (full-text) search providers: the protocol (the implementation for the database's
dialect is picked in `app.bootstrap`)."""

from app.providers.keyword.base import KeywordHit, KeywordIndex, KeywordScope, query_terms

__all__ = ["KeywordHit", "KeywordIndex", "KeywordScope", "query_terms"]
