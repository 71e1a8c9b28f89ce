"""docs/configuration.md must describe every Settings field exactly as the code defines it.

The doc's tables have one row per variable: `| `CITEWISE_X` (or `ALIAS`) | type | default | admin | meaning |`.
These tests fail when a field is added, renamed or re-defaulted without the doc following, or when
the "Admin" column disagrees with what admins can really override (app/admin/runtime.py).
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest
from pydantic import AliasChoices, BaseModel, SecretStr

from app.core.config import Settings
from app.platform.runtime import RuntimePatch, RuntimeSettingsService

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "configuration.md"
PREFIX = "CITEWISE_"
_ROW = re.compile(r"^\|\s*`(CITEWISE_[A-Z0-9_]+)`(?P<aliases>[^|]*)\|(?P<rest>.*)\|\s*$")
_CODE = re.compile(r"`([^`]*)`")


def _rows() -> dict[str, dict[str, str]]:
    """Variable name → its table cells, from every settings table in the doc."""
    rows: dict[str, dict[str, str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line)
        if not m:
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", m.group("rest"))]
        assert len(cells) == 4, f"row for {m.group(1)} needs type|default|admin|meaning: {line}"
        assert m.group(1) not in rows, f"{m.group(1)} is documented twice"
        rows[m.group(1)] = {"aliases": m.group("aliases"), "type": cells[0], "default": cells[1],
                            "admin": cells[2], "meaning": cells[3]}
    return rows


def _render_default(value: Any) -> str:
    """How the doc writes a default: the env-var spelling, or *unset* for None."""
    if value is None:
        return "*unset*"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, list):
        return f"`{value!r}`"
    return f"`{value}`"


def _default(name: str) -> Any:
    field = Settings.model_fields[name]
    return field.default_factory() if field.default_factory is not None else field.default  # type: ignore[call-arg]


def _aliases(name: str) -> list[str]:
    alias = Settings.model_fields[name].validation_alias
    if isinstance(alias, AliasChoices):
        return [str(a) for a in alias.choices if str(a) != PREFIX + name.upper()]
    return []


def test_every_setting_is_documented_with_its_default_and_aliases() -> None:
    rows = _rows()
    missing = [PREFIX + n.upper() for n in Settings.model_fields if PREFIX + n.upper() not in rows]
    assert not missing, f"docs/configuration.md lacks: {', '.join(missing)}"
    for name in Settings.model_fields:
        row = rows[PREFIX + name.upper()]
        assert row["default"] == _render_default(_default(name)), (
            f"{PREFIX}{name.upper()}: doc says {row['default']}, code says {_render_default(_default(name))}")
        for alias in _aliases(name):
            assert f"`{alias}`" in row["aliases"], f"{PREFIX}{name.upper()}: alias {alias} not documented"
        assert row["meaning"], f"{PREFIX}{name.upper()} has no explanation"


def test_no_documented_variable_is_unknown() -> None:
    unknown = [v for v in _rows() if v[len(PREFIX):].lower() not in Settings.model_fields]
    assert not unknown, f"documented but not in Settings: {unknown}"


def _editable_fields() -> set[str]:
    """Every runtime-editable field, from the admin PATCH model (group.field, or a top-level name)."""
    fields: set[str] = set()
    for group, info in RuntimePatch.model_fields.items():
        if group == "reindex":  # read-only status echoed back by clients
            continue
        model = next((a for a in typing.get_args(info.annotation)
                      if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            fields.add(group)
        else:
            fields.update(f"{group}.{f}" for f in model.model_fields)
    return fields


def test_admin_column_lists_exactly_the_runtime_editable_fields() -> None:
    documented = {_CODE.search(r["admin"]).group(1) for r in _rows().values() if r["admin"]}  # type: ignore[union-attr]
    assert documented == _editable_fields()


def _distinct(name: str) -> Any:
    """A valid value for the setting that differs from its default."""
    hints = typing.get_type_hints(Settings)
    kind = hints[name]
    default = _default(name)
    if typing.get_origin(kind) is list:
        return ["example.org"]
    options = [a for a in typing.get_args(kind) if a is not type(None)]
    if typing.get_origin(kind) is typing.Literal:
        return next(o for o in options if o != default)
    base = options[0] if options else kind
    if typing.get_origin(base) is typing.Literal:
        return next(o for o in typing.get_args(base) if o != default)
    if base is bool:
        return not default
    if base is int:
        return 384 if name == "embedding_dimension" else (default or 0) + 7
    if base is float:
        return round((default or 0.0) + 0.05, 4)
    if base is SecretStr:
        return SecretStr(f"key-for-{name}")
    if base is str:
        return "http://provider.test/v1" if name.endswith("base_url") else f"value-{name}"
    raise AssertionError(f"no test value for {name}: {kind}")


async def test_admin_column_names_the_runtime_value_that_the_env_var_feeds(tmp_path: Path) -> None:
    """With nothing stored by an admin, each runtime value must come from the documented variable."""
    editable = {n[len(PREFIX):].lower(): _CODE.search(r["admin"]).group(1)  # type: ignore[union-attr]
                for n, r in _rows().items() if r["admin"]}
    values = {name: _distinct(name) for name in editable}
    settings = Settings(_env_file=None, data_dir=tmp_path, secret_key=SecretStr("docs-test-" + "0123456789abcdef" * 3),
                        **values)  # type: ignore[call-arg]
    service = RuntimeSettingsService(settings, sessions=None)  # type: ignore[arg-type]

    async def no_rows(_session: Any) -> dict[str, Any]:
        return {}

    service._rows = no_rows  # type: ignore[method-assign]
    runtime = await service.read(None)  # type: ignore[arg-type]
    for name, path in editable.items():
        actual: Any = runtime
        for part in path.split("."):
            actual = getattr(actual, part)
        expected = values[name]
        if isinstance(expected, SecretStr):
            expected = expected.get_secret_value()
        if isinstance(actual, tuple):  # runtime values hold lists as tuples (frozen)
            actual = list(actual)
        assert actual == expected, f"{PREFIX}{name.upper()} should feed {path}"


@pytest.mark.parametrize("variable", ["CITEWISE_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "CHROMA_URL"])
def test_example_env_mentions_the_essentials(variable: str) -> None:
    example = (REPO / "deploy" / "env.production.example").read_text(encoding="utf-8")
    assert re.search(rf"^{variable}=", example, re.M)
    doc = DOC.read_text(encoding="utf-8")
    assert re.search(rf"^{variable}=", doc, re.M)


def _example_env() -> dict[str, str]:
    """deploy/env.production.example as systemd, Compose or `set -a; .` read it (commented lines too)."""
    import shlex

    values = {}
    for line in (REPO / "deploy" / "env.production.example").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^#?\s*([A-Z][A-Z0-9_]+)=(.*)$", line)
        if m:
            values[m.group(1)] = "".join(shlex.split(m.group(2)))
    return values


def test_every_variable_of_the_example_env_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    missing = [name for name in _example_env() if f"`{name}`" not in doc and f"`{name}` (or" not in doc]
    assert not missing, f"document these in docs/configuration.md: {missing}"


def test_the_example_env_loads_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Its values, unquoted the way an env-file reader does, are valid settings (JSON lists intact)."""
    for name, value in _example_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CITEWISE_SECRET_KEY", TEST_SECRET_FOR_EXAMPLE)
    settings = Settings()
    assert settings.trusted_proxies == ["127.0.0.1"]
    assert settings.is_production


TEST_SECRET_FOR_EXAMPLE = "example-env-secret-" + "q1w2e3r4" * 5


# ---- deploy/nginx/citewise.conf must follow the app it fronts -------------------------------------

NGINX = REPO / "deploy" / "nginx" / "citewise.conf"


def test_nginx_csp_allows_exactly_the_inline_scripts_of_the_spa() -> None:
    """The CSP names inline scripts by hash: a changed theme script would otherwise be blocked."""
    import base64
    import hashlib

    index = (REPO / "frontend" / "index.html").read_text(encoding="utf-8")
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", index, re.S)
    wanted = {"sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() for s in inline}
    csp = re.search(r'add_header Content-Security-Policy "([^"]+)"', NGINX.read_text(encoding="utf-8"))
    assert csp, "no CSP in the nginx config"
    script_src = next(d for d in csp.group(1).split(";") if d.strip().startswith("script-src"))
    assert set(re.findall(r"'(sha256-[^']+)'", script_src)) == wanted
    assert "'unsafe-inline'" not in script_src and "frame-ancestors 'none'" in csp.group(1)


def test_nginx_upload_limit_covers_the_default_upload_size() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    block = re.search(r"location = /api/v1/documents \{(.*?)\}", conf, re.S)
    assert block, "no upload location in the nginx config"
    limit = re.search(r"client_max_body_size (\d+)m;", block.group(1))
    assert limit and int(limit.group(1)) > _default("max_upload_mb")


def test_nginx_answers_its_own_api_errors_as_json() -> None:
    """413, 502, 503 and 504 that Nginx itself answers carry the API's {"error", "detail"} body."""
    import json

    conf = NGINX.read_text(encoding="utf-8")
    for status in (413, 502, 503, 504):
        page = re.search(rf"^\s*error_page (?:\d+ )*{status}(?: \d+)* (@\w+);", conf, re.M)
        assert page, f"no error_page for {status}"
        body = re.search(rf"location {page.group(1)} \{{(.*?return \d+ '[^']*';)", conf, re.S)
        assert body, f"no location {page.group(1)}"
        assert "default_type application/json;" in body.group(1)
        ret = re.search(r"return (\d+) '(.*)';", body.group(1))
        assert ret and int(ret.group(1)) == status
        assert set(json.loads(ret.group(2))) == {"error", "detail"}


def test_nginx_streams_chat_answers_unbuffered() -> None:
    conf = NGINX.read_text(encoding="utf-8")
    block = re.search(r"location ~ \^/api/v1/conversations/\[\^/\]\+/messages\$ \{(.*?)\}", conf, re.S)
    assert block, "no SSE location for chat messages"
    for directive in ("proxy_buffering off;", "gzip off;", "proxy_cache off;"):
        assert directive in block.group(1)
