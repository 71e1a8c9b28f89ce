from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.auth.scopes import Scope
from app.core.text import DisplayText


class RegisterIn(BaseModel):
    email: EmailStr
    password: str = Field(min_length=1, max_length=1024)
    display_name: DisplayText = Field(default="", max_length=200)
    invite: str | None = Field(default=None, max_length=200,
                               description="The token of an administrator's invite link")


class RegistrationOut(BaseModel):
    status: Literal["accepted"]
    detail: str


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class PasswordChangeIn(BaseModel):
    current_password: str = Field(max_length=1024)
    new_password: str = Field(max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    display_name: str
    role: Literal["user", "admin"]
    is_active: bool
    must_change_password: bool
    created_at: datetime


def _read_only() -> list[Scope]:
    return ["read"]


class ApiKeyIn(BaseModel):
    name: DisplayText = Field(min_length=1, max_length=100)
    # read: list, search, chat · write: + upload, delete, reprocess · admin: + admin routes (admins)
    scopes: list[Scope] = Field(default_factory=_read_only, min_length=1, max_length=3)
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    scopes: list[Scope]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str


class ApiKeyList(BaseModel):
    items: list[ApiKeyOut]
