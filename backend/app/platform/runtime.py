"""Runtime settings that admins change without a restart (stored in `app_settings`).

Each group (llm, embedding, retrieval, uploads, registration, login) is one row whose JSON `value` holds
only the fields an admin has set; anything absent falls back to the environment (`Settings`).
API keys live encrypted in the row's `secret` column and never leave this module in clear except
inside `RuntimeValues`, whose repr hides them.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.config import Settings, normalize_domain
from app.core.context import ClientInfo
from app.core.errors import Invalid
from app.platform import audit
from app.platform.crypto import SecretBox, SecretDecryptError
from app.platform.models import AppSetting

log = logging.getLogger("citewise.runtime")

REGISTRATION_KEY = "registration"
GROUPS = ("llm", "embedding", "retrieval", "uploads")
CLEARED = "api_key_cleared"  # marker in `value`: the admin removed a key that the env may provide
CACHE_TTL_SECONDS = 2.0


LOGIN_KEY = "login"
RegistrationMode = Literal["open", "invite", "domains", "closed"]


# ---- values ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class LLMValues:
    base_url: str | None
    model: str
    api_key: str | None = field(repr=False)
    temperature: float
    max_tokens: int
    context_size: int
    timeout_seconds: float
    max_retries: int = 3

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


@dataclass(frozen=True, slots=True)
class EmbeddingValues:
    provider: Literal["local", "openai"]
    model: str
    base_url: str | None
    api_key: str | None = field(repr=False)
    dimension: int | None
    batch_size: int = 16
    threads: int | None = None

    def identity(self) -> dict[str, Any]:
        """What decides the vectors: changing any of these needs a re-index (the key does not)."""
        return {"provider": self.provider, "model": self.model,
                "base_url": self.base_url if self.provider == "openai" else None,
                "dimension": self.dimension}


@dataclass(frozen=True, slots=True)
class RetrievalValues:
    top_k: int
    hybrid_weight: float
    relevance_floor: float
    candidates: int


@dataclass(frozen=True, slots=True)
class UploadValues:
    max_upload_mb: int
    max_pages: int
    quota_mb: int


@dataclass(frozen=True, slots=True)
class RegistrationValues:
    """Who may create an account: anyone, holders of an invite, addresses at allowed domains, or
    nobody (administrators create accounts). An admin's invite works under every mode."""

    mode: RegistrationMode
    allowed_domains: tuple[str, ...]

    @property
    def open(self) -> bool:
        """Whether someone without an invite may try to register."""
        return self.mode in ("open", "domains")

    def domain_allowed(self, email: str) -> bool:
        return email.rsplit("@", 1)[-1].lower() in self.allowed_domains


@dataclass(frozen=True, slots=True)
class RuntimeValues:
    llm: LLMValues
    embedding: EmbeddingValues
    retrieval: RetrievalValues
    uploads: UploadValues
    registration: RegistrationValues
    # Stored choice; see `password_login_enabled` for the effective one.
    password_login: bool
    sso_enabled: bool

    @property
    def llm_configured(self) -> bool:
        return self.llm.configured

    @property
    def registration_open(self) -> bool:
        return self.registration.open

    @property
    def password_login_enabled(self) -> bool:
        # Without single sign-on, password sign-in is the only way in: it can never be switched off.
        return self.password_login or not self.sso_enabled


# ---- patch (validated input) ------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _url(value: str | None) -> str | None:
    if value is None or value.strip() == "":
        return None
    return str(HttpUrl(value.strip())).rstrip("/")


class LLMPatch(_Strict):
    base_url: str | None = Field(default=None, max_length=500)
    model: str = Field(default="", min_length=1, max_length=200)
    api_key: str | None = Field(default=None, max_length=4000)
    temperature: float = Field(default=0.1, ge=0.0, le=2.0)
    max_tokens: int = Field(default=700, ge=16, le=32768)
    context_size: int = Field(default=4096, ge=512, le=1_048_576)

    _check_url = field_validator("base_url")(_url)


class EmbeddingPatch(_Strict):
    provider: Literal["local", "openai"] = "local"
    model: str = Field(default="", min_length=1, max_length=200)
    base_url: str | None = Field(default=None, max_length=500)
    api_key: str | None = Field(default=None, max_length=4000)
    dimension: int | None = Field(default=None, ge=1, le=16384)

    _check_url = field_validator("base_url")(_url)


class RetrievalPatch(_Strict):
    top_k: int = Field(default=6, ge=1, le=50)
    hybrid_weight: float = Field(default=0.5, ge=0.0, le=1.0)
    relevance_floor: float = Field(default=0.25, ge=0.0, le=1.0)


class UploadsPatch(_Strict):
    max_upload_mb: int = Field(default=100, ge=1, le=10_240)
    max_pages: int = Field(default=5000, ge=1, le=100_000)
    quota_mb: int = Field(default=5120, ge=0, le=10_485_760)


class RegistrationPatch(_Strict):
    mode: RegistrationMode = "open"
    allowed_domains: list[str] = Field(default_factory=list, max_length=200)

    @field_validator("allowed_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return sorted({normalize_domain(d) for d in value if d.strip()})


class RuntimePatch(_Strict):
    """A partial update: only fields that are present are changed (`exclude_unset`)."""

    llm: LLMPatch | None = None
    embedding: EmbeddingPatch | None = None
    retrieval: RetrievalPatch | None = None
    uploads: UploadsPatch | None = None
    registration: RegistrationPatch | None = None
    password_login: bool | None = None
    reindex: dict[str, Any] | None = None  # read-only status echoed back by clients; ignored


# ---- service ----------------------------------------------------------------------------------

class RuntimeSettingsService:
    def __init__(self, settings: Settings, sessions: async_sessionmaker[AsyncSession],
                 *, ttl: float = CACHE_TTL_SECONDS) -> None:
        self._settings = settings
        self._sessions = sessions
        self._ttl = ttl
        self._box = SecretBox(settings.secret)
        self._cached: RuntimeValues | None = None
        self._loaded_at = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> RuntimeValues:
        """Values at most `ttl` seconds old, so every process sees a change within seconds."""
        if self._cached is not None and time.monotonic() - self._loaded_at < self._ttl:
            return self._cached
        async with self._lock:
            if self._cached is None or time.monotonic() - self._loaded_at >= self._ttl:
                async with self._sessions() as session:
                    self._cached = await self.read(session)
                self._loaded_at = time.monotonic()
            return self._cached

    def invalidate(self) -> None:
        self._cached = None

    async def llm_configured(self, session: AsyncSession) -> bool:
        row = await session.get(AppSetting, "llm")
        stored = row.value if row is not None else {}
        return bool(stored.get("base_url", self._settings.llm_base_url))

    async def read(self, session: AsyncSession) -> RuntimeValues:
        """Fresh values within the caller's transaction (no cache)."""
        rows = await self._rows(session)
        s = self._settings
        llm, emb = rows.get("llm"), rows.get("embedding")
        lv, ev = _value(llm), _value(emb)
        rv, uv = _value(rows.get("retrieval")), _value(rows.get("uploads"))
        reg = _value(rows.get(REGISTRATION_KEY))
        login = _value(rows.get(LOGIN_KEY))
        return RuntimeValues(
            llm=LLMValues(
                base_url=lv.get("base_url", s.llm_base_url), model=lv.get("model", s.llm_model),
                api_key=self._secret(llm, s.llm_api_key.get_secret_value() if s.llm_api_key else None),
                temperature=float(lv.get("temperature", s.llm_temperature)),
                max_tokens=int(lv.get("max_tokens", s.llm_max_tokens)),
                context_size=int(lv.get("context_size", s.llm_context_tokens)),
                timeout_seconds=s.llm_timeout_seconds,
            ),
            embedding=EmbeddingValues(
                provider=ev.get("provider", s.embedding_provider),
                model=ev.get("model", s.embedding_model),
                base_url=ev.get("base_url", s.embedding_base_url),
                api_key=self._secret(
                    emb, s.embedding_api_key.get_secret_value() if s.embedding_api_key else None),
                dimension=ev.get("dimension", s.embedding_dimension),
                batch_size=s.embedding_batch_size, threads=s.embedding_threads,
            ),
            retrieval=RetrievalValues(
                top_k=int(rv.get("top_k", s.retrieval_top_k)),
                hybrid_weight=float(rv.get("hybrid_weight", s.hybrid_weight)),
                relevance_floor=float(rv.get("relevance_floor", s.relevance_floor)),
                candidates=s.retrieval_candidates,
            ),
            uploads=UploadValues(
                max_upload_mb=int(uv.get("max_upload_mb", s.max_upload_mb)),
                max_pages=int(uv.get("max_pages", s.max_pages)),
                quota_mb=int(uv.get("quota_mb", s.user_quota_mb)),
            ),
            registration=_registration(reg, s),
            password_login=bool(login.get("password_login", s.password_login)),
            sso_enabled=s.oidc_enabled,
        )

    async def update(
        self, session: AsyncSession, patch: RuntimePatch | Mapping[str, Any], actor: audit.Actor | None,
        client: ClientInfo | None,
    ) -> RuntimeValues:
        """Apply a partial update in the caller's transaction and audit it (never the secrets)."""
        if not isinstance(patch, RuntimePatch):
            patch = RuntimePatch.model_validate(patch)
        data = patch.model_dump(exclude_unset=True, exclude={"reindex"})
        before = await self.read(session)
        rows = await self._rows(session)
        changes: dict[str, Any] = {}
        secrets: dict[str, str] = {}
        for group in GROUPS:
            fields = data.get(group)
            if not fields:
                continue
            row = rows.get(group) or _new_row(session, group)
            value = dict(row.value)
            if "api_key" in fields:
                key = fields.pop("api_key")
                if key is not None:  # null behaves like "omit": keep the stored key
                    secrets[f"{group}.api_key"] = self._set_secret(row, value, key.strip())
            old = getattr(before, group)
            for name, new in fields.items():
                if getattr(old, name) != new:
                    changes[f"{group}.{name}"] = {"from": getattr(old, name), "to": new}
                value[name] = new
            row.value = value
            row.updated_by = actor.id if actor else None
        if data.get("registration"):
            wanted = data["registration"]
            old_reg = before.registration
            changes.update({
                f"registration.{name}": {"from": _plain(getattr(old_reg, name)), "to": new}
                for name, new in wanted.items() if _plain(getattr(old_reg, name)) != new
            })
            row = rows.get(REGISTRATION_KEY) or _new_row(session, REGISTRATION_KEY)
            value = {k: v for k, v in row.value.items() if k != "open"}  # the legacy boolean
            row.value = {**value, "mode": old_reg.mode, "allowed_domains": list(old_reg.allowed_domains),
                         **wanted}
            row.updated_by = actor.id if actor else None
        if data.get("password_login") is not None:
            if before.password_login != data["password_login"]:
                changes["password_login"] = {"from": before.password_login,
                                             "to": data["password_login"]}
            row = rows.get(LOGIN_KEY) or _new_row(session, LOGIN_KEY)
            row.value = {**row.value, "password_login": data["password_login"]}
            row.updated_by = actor.id if actor else None
        await session.flush()
        after = await self.read(session)
        _check_consistent(after)
        if "password_login" in changes and not after.password_login and not after.sso_enabled:
            raise Invalid("Password sign-in can only be turned off while single sign-on is "
                          "configured (CITEWISE_OIDC_ISSUER and CITEWISE_OIDC_CLIENT_ID).",
                          code="sso_not_configured")
        if changes or secrets:
            audit.record(session, "settings.updated", actor_id=actor.id if actor else None,
                         actor_email=actor.email if actor else None, target="runtime_settings",
                         client=client, details={"changes": changes, "secrets": secrets})
        self.invalidate()
        return after

    # -- helpers --------------------------------------------------------------------------------

    async def _rows(self, session: AsyncSession) -> dict[str, AppSetting]:
        keys = (*GROUPS, REGISTRATION_KEY, LOGIN_KEY)
        result = await session.execute(select(AppSetting).where(AppSetting.key.in_(keys)))
        return {row.key: row for row in result.scalars()}

    def _secret(self, row: AppSetting | None, default: str | None) -> str | None:
        if row is None:
            return default
        if row.secret:
            try:
                return self._box.decrypt(row.secret)
            except SecretDecryptError:
                log.warning("stored API key for %s cannot be decrypted (secret key changed?)",
                            row.key)
                return None
        if row.value.get(CLEARED):
            return None
        return default

    def _set_secret(self, row: AppSetting, value: dict[str, Any], key: str) -> str:
        if key == "":
            row.secret = None
            value[CLEARED] = True
            return "cleared"
        row.secret = self._box.encrypt(key)
        value.pop(CLEARED, None)
        return "set"


def _value(row: AppSetting | None) -> dict[str, Any]:
    return dict(row.value) if row is not None else {}


def _registration(stored: dict[str, Any], settings: Settings) -> RegistrationValues:
    if "mode" in stored:
        mode = stored["mode"]
    elif "open" in stored:  # stored before registration modes existed
        mode = "open" if stored["open"] else "closed"
    else:
        mode = settings.effective_registration_mode
    domains = stored.get("allowed_domains", settings.registration_allowed_domains)
    return RegistrationValues(mode=mode, allowed_domains=tuple(domains))


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _new_row(session: AsyncSession, key: str) -> AppSetting:
    row = AppSetting(key=key, value={})
    session.add(row)
    return row


def _check_consistent(values: RuntimeValues) -> None:
    if values.embedding.provider == "openai" and not values.embedding.base_url:
        raise Invalid("An OpenAI-compatible embedding provider needs a base URL.",
                      code="invalid_settings")
    if values.registration.mode == "domains" and not values.registration.allowed_domains:
        raise Invalid("Registration by email domain needs at least one allowed domain.",
                      code="invalid_settings")
    if values.embedding.provider == "local" and values.embedding.dimension not in (None, 384):
        raise Invalid("The local embedding model produces 384-dimensional vectors.",
                      code="invalid_settings")
