from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.text import DisplayText

RoleName = Literal["viewer", "editor", "owner"]


class CollectionIn(BaseModel):
    name: DisplayText = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class CollectionPatch(BaseModel):
    name: DisplayText | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class CollectionOut(BaseModel):
    id: str
    name: str
    description: str
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    role: RoleName  # the caller's strongest role (directly or through a group)
    document_count: int
    member_count: int


class CollectionList(BaseModel):
    items: list[CollectionOut]


class MemberIn(BaseModel):
    """Exactly one of `user_id` / `group_id`. Adding an existing member changes their role."""

    user_id: str | None = Field(default=None, max_length=36)
    group_id: str | None = Field(default=None, max_length=36)
    role: RoleName

    @model_validator(mode="after")
    def _one_principal(self) -> MemberIn:
        if (self.user_id is None) == (self.group_id is None):
            raise ValueError("give exactly one of user_id and group_id")
        return self


class MemberOut(BaseModel):
    id: str  # the membership's id (DELETE /collections/{id}/members/{member_id})
    kind: Literal["user", "group"]
    user_id: str | None
    group_id: str | None
    name: str  # the user's email or the group's name
    role: RoleName
    created_at: datetime


class MemberList(BaseModel):
    items: list[MemberOut]


class UserRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    display_name: str


class GroupIn(BaseModel):
    name: DisplayText = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)


class GroupPatch(BaseModel):
    name: DisplayText | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)


class GroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    description: str
    created_at: datetime


class GroupDetail(GroupOut):
    member_count: int


class GroupList(BaseModel):
    items: list[GroupDetail]


class GroupMemberIn(BaseModel):
    user_id: str = Field(max_length=36)


class GroupMemberList(BaseModel):
    items: list[UserRef]
