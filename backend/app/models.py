"""Imports every ORM model so metadata is complete (Alembic, create_all in tests)."""

from app.auth.models import ApiKey, AuthSession, Invite, RefreshToken, User
from app.chats.models import Citation, Conversation, Message
from app.collections.models import Collection, CollectionMember, Group, GroupMember
from app.core.db import Base
from app.documents.models import Chunk, Document, Job
from app.platform.models import AppSetting, AuditEntry

__all__ = [
    "ApiKey", "AppSetting", "AuditEntry", "AuthSession", "Base", "Chunk", "Citation", "Collection",
    "CollectionMember", "Conversation", "Document", "Group", "GroupMember", "Invite", "Job",
    "Message", "RefreshToken", "User",
]
