"""Settings: one class, two profiles.

`embedded` (default) runs everything in one process on SQLite + embedded Chroma + an in-process job
runner. `production` expects PostgreSQL, a Chroma server and Redis/ARQ workers. Only the providers picked
from these settings differ; business code is the same.
"""

from __future__ import annotations

import ipaddress
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Secrets people copy from tutorials; refusing them in production is cheap insurance.
KNOWN_DEFAULT_SECRETS = frozenset(
    {"changeme", "change-me", "secret", "secret-key", "your-secret-key", "supersecret",
     "please-change-me", "development", "citewise", "insecure"}
)
MIN_SECRET_BYTES = 32
# "kkkk…" or "abab…" pass a length check; a random secret of 32+ characters has far more than this.
MIN_SECRET_DISTINCT_CHARS = 6
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class ConfigError(RuntimeError):
    """Raised at start-up when the configuration is unsafe or inconsistent."""


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CITEWISE_", env_file=".env", extra="ignore", populate_by_name=True
    )

    mode: Literal["embedded", "production"] = "embedded"
    data_dir: Path = Path("./data")
    secret_key: SecretStr | None = Field(
        default=None, validation_alias=_env("CITEWISE_SECRET_KEY", "SECRET_KEY")
    )
    database_url: str | None = Field(
        default=None, validation_alias=_env("CITEWISE_DATABASE_URL", "DATABASE_URL")
    )
    redis_url: str | None = Field(
        default=None, validation_alias=_env("CITEWISE_REDIS_URL", "REDIS_URL")
    )
    chroma_url: str | None = Field(
        default=None, validation_alias=_env("CITEWISE_CHROMA_URL", "CHROMA_URL")
    )

    # HTTP
    host: str = "127.0.0.1"
    port: int = 8000
    allowed_origins: list[str] = Field(default_factory=list)
    # Proxies (addresses or CIDRs) whose X-Forwarded-For is believed. Empty: the socket peer is the client.
    trusted_proxies: list[str] = Field(default_factory=list)
    cookie_secure: bool | None = None  # None: Secure in production, not on plain-http embedded
    serve_frontend: bool = True
    # The API adds the security headers (CSP, X-Frame-Options...) to its responses. False when a
    # proxy adds them to every response (the shipped Nginx config does): one place, never twice.
    security_headers: bool = True
    frontend_dist: Path | None = None
    log_level: str = "INFO"
    log_json: bool = True

    # Auth
    access_token_minutes: int = 15
    refresh_token_days: int = 14
    session_absolute_days: int = 30
    jwt_issuer: str = "citewise"
    jwt_audience: str = "citewise-api"
    # Legacy switch: with registration_mode unset, true means "open" and false "closed".
    registration_open: bool = True
    registration_mode: Literal["open", "invite", "domains", "closed"] | None = None
    registration_allowed_domains: list[str] = Field(default_factory=list)
    password_login: bool = True  # ignored (always on) while single sign-on is not configured
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 20
    login_window_seconds: int = 900
    min_password_length: int = 8

    # Single sign-on (OpenID Connect, authorization code flow with PKCE); on when issuer and client id are set
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_scopes: str = "openid email profile"
    oidc_provider_name: str = "SSO"
    oidc_redirect_uri: str | None = None
    oidc_groups_claim: str = "groups"
    oidc_group_map: dict[str, str] = Field(default_factory=dict)
    oidc_timeout_seconds: float = 10.0

    # Uploads and extraction
    max_upload_mb: int = 100
    max_files_per_upload: int = 50
    max_request_body_kb: int = 1024  # any request but an upload (JSON bodies are read into memory)
    user_quota_mb: int = 5120
    max_pages: int = 5000  # fullrefman.pdf, a real 2,415-page manual, must fit
    extraction_timeout_seconds: float = 300.0
    extraction_memory_mb: int = 2048
    ocr_enabled: bool = True
    # Text recognition of scanned PDFs and images: "rapidocr" (models inside its PyPI wheel, works on
    # every install) or "tesseract" (the tesseract command, where installed; more languages).
    ocr_engine: Literal["rapidocr", "tesseract"] = "rapidocr"
    ocr_languages: str = Field(default="eng", pattern=r"^[A-Za-z_]+(\+[A-Za-z_]+)*$")  # tesseract -l
    ocr_dpi: int = Field(default=150, ge=72, le=400)
    ocr_threads: int = Field(default=1, ge=1, le=64)
    ocr_max_pages: int = Field(default=300, ge=1)
    ocr_page_timeout_seconds: float = Field(default=60.0, gt=0)
    # Indexing cost bounds (docs/configuration.md#bounded-work): checked while extracting and
    # before embedding. The largest real document measured, fullrefman.pdf (2,415 pages), gives
    # about 7 million characters and 7,034 chunks.
    max_document_chars: int = 20_000_000
    max_document_chunks: int = 25_000
    max_chars_per_file_byte: float = 50.0  # text extracted per stored byte, above the allowance
    chars_allowance: int = 500_000  # any file may give this much text, whatever its size
    user_quota_chunks: int = 200_000  # chunks across all of one user's documents

    # Chunking and embeddings
    chunk_tokens: int = 256
    chunk_overlap_tokens: int = 40
    embedding_provider: Literal["local", "openai"] = "local"
    embedding_model: str = "minilm-l6-v2-int8"
    embedding_base_url: str | None = None
    embedding_api_key: SecretStr | None = None
    embedding_dimension: int | None = None
    embedding_batch_size: int = 8  # texts per model run at full length: see LocalOnnxEmbedder
    # Cores the local model may use: that many single-thread model runs at once (default: all).
    embedding_threads: int | None = None

    # Answer generation (OpenAI-compatible); extractive answers when llm_base_url is unset
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_api_key: SecretStr | None = None
    llm_temperature: float = 0.1
    llm_max_tokens: int = 700
    llm_context_tokens: int = 4096
    llm_timeout_seconds: float = 120.0

    # Retrieval
    retrieval_top_k: int = 6
    retrieval_candidates: int = 50
    # A reader's keyword search over several owner partitions runs as up to this many statements
    # side by side, each on its own connection (each partition is ranked with its own statistics,
    # so the merged result is exactly the one statement's). None: the index's own choice
    # (PostgreSQL 2, SQLite 1).
    keyword_statements: int | None = Field(default=None, ge=1, le=8)
    # Keep a copy of every owner's vectors in one Chroma collection, so that a reader of many
    # owners' shared collections is searched once instead of once per owner (`chroma_union`).
    vector_union_index: bool = True
    hybrid_weight: float = 0.5
    relevance_floor: float = 0.25

    # Jobs
    # Three, not two: the embedding model runs one single-thread batch per core, and a third document
    # has its claim, extraction, chunk rows and vector writes done while the other two use the
    # model, which otherwise waits for them between small documents (docs/benchmarks.md §1).
    job_concurrency: int = 3
    job_max_attempts: int = 3
    # A dead worker's document is taken over once its lease expires (renewed every third of it
    # while the attempt runs) and the reconciler's next pass sees it: about two minutes.
    job_lease_seconds: int = Field(default=90, ge=3)
    job_timeout_seconds: int = 3600
    job_backend: Literal["auto", "inprocess", "arq"] = "auto"
    reconcile_interval_seconds: int = Field(default=30, ge=1)
    # Transient failures (Chroma, the embedding endpoint, the database) retry with exponential
    # backoff, from job_retry_base_seconds up to job_retry_max_delay_seconds between tries, until
    # the document has been failing for job_retry_window_seconds; then it is `failed`.
    job_retry_window_seconds: int = Field(default=900, ge=0)
    job_retry_base_seconds: float = Field(default=5.0, gt=0)
    job_retry_max_delay_seconds: float = Field(default=120.0, gt=0)
    # SIGTERM: a worker stops taking jobs and lets running ones finish for this long; then it
    # cancels them and hands their documents back (`queued` at once) for another worker.
    worker_shutdown_grace_seconds: int = Field(default=20, ge=0)
    api_rate_limit_per_minute: int = 600
    # GET /metrics: a loopback client that came through no proxy, or this bearer token.
    metrics_token: SecretStr | None = None
    registration_rate_limit_per_hour: int = 10

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry.strip(), strict=False)
            except ValueError as exc:
                raise ConfigError(f"CITEWISE_TRUSTED_PROXIES: {entry!r} is not an address or CIDR") from exc
        return [e.strip() for e in value]

    @field_validator("registration_allowed_domains")
    @classmethod
    def _check_domains(cls, value: list[str]) -> list[str]:
        return [normalize_domain(d) for d in value if d.strip()]

    @field_validator("oidc_issuer", "oidc_redirect_uri")
    @classmethod
    def _check_oidc_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        if not value.startswith(("https://", "http://")):
            raise ConfigError(f"OIDC URL {value!r} must start with https:// (or http:// on loopback)")
        return value

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.mode != "production":
            return self
        problems: list[str] = []
        if not self.database_url or not self.database_url.startswith("postgresql"):
            problems.append("DATABASE_URL must point at PostgreSQL (postgresql+asyncpg://...)")
        if not self.redis_url:
            problems.append("REDIS_URL is required (jobs run on ARQ workers)")
        if not self.chroma_url:
            problems.append("CHROMA_URL is required (several processes share one Chroma server)")
        if problems:
            raise ConfigError("Production settings are incomplete: " + "; ".join(problems))
        return self

    # ---- derived values -------------------------------------------------------------------
    @property
    def is_production(self) -> bool:
        return self.mode == "production"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'citewise.db').resolve()}"

    @property
    def effective_cookie_secure(self) -> bool:
        return self.is_production if self.cookie_secure is None else self.cookie_secure

    @property
    def effective_job_backend(self) -> str:
        if self.job_backend != "auto":
            return self.job_backend
        return "arq" if self.is_production else "inprocess"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return tuple(ipaddress.ip_network(e, strict=False) for e in self.trusted_proxies)

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)

    @property
    def effective_registration_mode(self) -> str:
        if self.registration_mode is not None:
            return self.registration_mode
        return "open" if self.registration_open else "closed"

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_base_url)

    @cached_property
    def secret(self) -> str:
        """The signing secret. Production must provide a strong one; embedded keeps a random one."""
        value = self.secret_key.get_secret_value() if self.secret_key else None
        if value is not None:
            if len(value.encode()) < MIN_SECRET_BYTES or value.lower() in KNOWN_DEFAULT_SECRETS \
                    or len(set(value)) < MIN_SECRET_DISTINCT_CHARS:
                raise ConfigError(
                    "CITEWISE_SECRET_KEY is too weak (too short, a known default, or too few distinct "
                    "characters): use at least 32 random bytes, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                )
            return value
        if self.is_production:
            raise ConfigError(
                "CITEWISE_SECRET_KEY is not set. Production refuses to start without a secret of "
                "at least 32 random bytes."
            )
        return _embedded_secret(self.data_dir)


def _embedded_secret(data_dir: Path) -> str:
    """Generate once, keep in the data dir with owner-only permissions."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(value)
    return value


def normalize_domain(domain: str) -> str:
    """`@Example.COM ` → `example.com`; refuses what cannot be an email domain."""
    value = domain.strip().lower().removeprefix("@")
    labels = value.split(".")
    if len(value) > 253 or len(labels) < 2 or not all(
            label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels):
        raise ValueError(f"{domain!r} is not an email domain (like example.com)")
    return value


def get_settings() -> Settings:
    return Settings()
