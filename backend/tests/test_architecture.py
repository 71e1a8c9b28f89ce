"""The layering rules of docs/architecture.md, checked on the source: every import counts, including
function-local ones and those under `TYPE_CHECKING` (a cycle there is still a cycle for a reader)."""

from __future__ import annotations

import ast
import dataclasses
import typing
from collections import defaultdict
from pathlib import Path

import pytest

from app.platform.container import Container

APP = Path(__file__).resolve().parents[1] / "app"

# Which top-level folders each layer may import (besides itself). Domains sit above `platform`;
# `admin` holds admin use cases only, so nothing below it imports it.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "providers": {"core"},
    "platform": {"core", "providers"},
    "ingestion": {"core", "providers", "platform", "documents"},
    # `access` is the one rule of who may read which documents: over documents and collections.
    "access": {"core", "providers", "platform", "documents", "collections"},
    "collections": {"core", "providers", "platform", "auth", "documents", "access", "api"},
    "documents": {"core", "providers", "platform", "ingestion", "auth", "api", "access",
                  "collections"},
    "auth": {"core", "providers", "platform", "api"},
    "rag": {"core", "providers", "platform", "documents", "access", "collections"},
    "chats": {"core", "providers", "platform", "auth", "documents", "rag", "api", "access",
              "collections"},
    "api": {"core", "providers", "platform", "auth", "documents", "chats", "collections"},
    "workers": {"core", "providers", "platform", "documents", "ingestion"},
}
# Entry points that assemble the layers (they may import anything).
ENTRY_POINTS = {"app.bootstrap", "app.main", "app.cli", "app.openapi", "app.models", "app.workers.tasks"}
# Modules allowed to import one specific thing their layer otherwise may not.
EXCEPTIONS = {("app.api.router", "app.admin.router")}  # the API mounts every domain's router
CONCRETE = ("chroma_store", "local_onnx", "openai_compat", "inprocess", "arq_queue", "files.local",
            "oidc_client")


def _modules() -> dict[str, Path]:
    out = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found.update(n for n in names if n in MODULES)
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (APP / parts[-1]).is_dir() else ""


def test_no_import_cycles() -> None:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    assert cycles == []


def test_layers_import_downward_only() -> None:
    wrong: dict[str, list[str]] = defaultdict(list)
    for module, targets in GRAPH.items():
        layer = _layer(module)
        if module in ENTRY_POINTS or layer not in ALLOWED:
            continue
        for target in targets:
            other = _layer(target)
            if other and other != layer and other not in ALLOWED[layer] \
                    and (module, target) not in EXCEPTIONS:
                wrong[module].append(target)
    assert dict(wrong) == {}


def test_nothing_below_admin_imports_admin() -> None:
    below = {"core", "providers", "platform", "ingestion", "rag", "documents", "auth", "api", "chats",
             "workers", "access", "collections"}
    offenders = sorted((m, t) for m, ts in GRAPH.items() for t in ts
                       if _layer(m) in below and _layer(t) == "admin" and (m, t) not in EXCEPTIONS)
    assert offenders == []


def test_only_the_composition_root_names_concrete_providers() -> None:
    offenders = sorted(
        (m, t) for m, ts in GRAPH.items() for t in ts
        if t.startswith("app.providers.") and t.endswith(CONCRETE)
        and not m.startswith("app.providers.") and m not in {"app.bootstrap", "app.workers.tasks"}
    )
    assert offenders == []


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Container)])
def test_container_fields_are_typed(field: str) -> None:
    hints = typing.get_type_hints(Container)

    def mentions_any(tp: object) -> bool:
        return tp is typing.Any or any(mentions_any(a) for a in typing.get_args(tp))

    assert not mentions_any(hints[field]), f"Container.{field} is typed {hints[field]}"


def test_container_is_frozen() -> None:
    assert Container.__dataclass_params__.frozen  # type: ignore[attr-defined]
