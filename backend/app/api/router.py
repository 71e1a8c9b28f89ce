"""Mounts every domain router under /api/v1."""

from __future__ import annotations

from fastapi import APIRouter

from app.admin.router import router as admin_router
from app.api import metrics, sso, system
from app.auth.router import router as auth_router
from app.chats.router import router as chats_router
from app.collections.admin_router import router as groups_admin_router
from app.collections.router import router as collections_router
from app.documents.router import router as documents_router

api_router = APIRouter(prefix="/api/v1")
api_router.include_router(system.router)
api_router.include_router(auth_router)
api_router.include_router(sso.router)
api_router.include_router(documents_router)
api_router.include_router(chats_router)
api_router.include_router(collections_router)
api_router.include_router(groups_admin_router)
api_router.include_router(admin_router)
api_router.include_router(metrics.router)
