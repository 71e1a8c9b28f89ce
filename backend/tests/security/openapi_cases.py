"""The API's operations as the OpenAPI schema describes them, and the smallest valid input for each.

The authorization matrix is generated from this, so a route added tomorrow is tested tomorrow."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
KEY_SCOPES = ("read", "write", "admin")


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    operation_id: str
    scope: str  # x-required-scope: public identity read write admin session (or unclassified)
    path_params: tuple[str, ...]
    query: dict[str, Any]  # required query parameters, with a valid value
    body_kind: str | None  # "json", "multipart" or None
    body: Any  # a minimal valid body (JSON) or form fields (multipart)
    responses: dict[str, Any]  # the declared responses, by status

    def declares(self, status: int) -> bool:
        return str(status) in self.responses

    def url(self, ids: dict[str, str]) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], self.path)

    def request(self, ids: dict[str, str], *, valid: bool = True) -> dict[str, Any]:
        """httpx `request` arguments; `valid=False` sends a well-formed but schema-invalid body,
        which FastAPI refuses (422) only after the authorization dependencies ran."""
        args: dict[str, Any] = {"method": self.method.upper(), "url": self.url(ids),
                                "params": self.query}
        if self.body_kind == "json":
            args["json"] = self.body if valid else []
        elif self.body_kind == "multipart":
            if valid:
                args["files"] = [("files", ("probe.txt", b"authorization probe text", "text/plain"))]
                args["data"] = {k: v for k, v in self.body.items() if k != "files"}
            else:
                args["data"] = {"unexpected": "x"}  # no `files`: a validation error
        return args

    @property
    def has_input(self) -> bool:
        return self.body_kind is not None or bool(self.query)


# Bodies whose validity a JSON schema cannot express (a model validator), by operation.
BODIES = {"setCollectionMember": {"user_id": "probe-user", "role": "viewer"}}


def operations(schema: dict[str, Any]) -> list[Operation]:
    out = []
    for path, item in sorted(schema["paths"].items()):
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = op.get("parameters", [])
            body_kind, body = None, None
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                body_kind = "json"
                body = BODIES.get(op["operationId"]) or example(content["application/json"]["schema"],
                                                                 schema)
            elif "multipart/form-data" in content:
                body_kind = "multipart"
                body = example(content["multipart/form-data"]["schema"], schema)
            out.append(Operation(
                method=method, path=path, operation_id=op["operationId"],
                scope=op.get("x-required-scope", "unclassified"),
                path_params=tuple(p["name"] for p in params if p["in"] == "path"),
                query={p["name"]: example(p["schema"], schema) for p in params
                       if p["in"] == "query" and p.get("required")},
                body_kind=body_kind, body=body, responses=op.get("responses", {})))
    return out


def example(node: dict[str, Any], root: dict[str, Any]) -> Any:
    """The smallest instance valid against a JSON schema (required properties only)."""
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return example(root["components"]["schemas"][name], root)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    if "default" in node and node["default"] is not None:
        return node["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in node:
            options = [o for o in node[key] if o.get("type") != "null"]
            return example(options[0], root)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        props = node.get("properties", {})
        return {name: example(props[name], root) for name in node.get("required", [])}
    if kind == "array":
        return [example(node.get("items", {}), root) for _ in range(node.get("minItems", 0))]
    if kind == "integer":
        return max(int(node.get("minimum", 1)), 1)
    if kind == "number":
        return float(node.get("minimum", 1))
    if kind == "boolean":
        return False
    if kind == "string":
        if node.get("format") == "email":
            return "probe@example.com"
        if node.get("format") == "date-time":
            return "2099-01-01T00:00:00Z"
        if node.get("format") == "binary":
            return b"probe"
        text = "probe text".ljust(int(node.get("minLength", 0)), "x")
        return text[: int(node.get("maxLength", len(text)))]
    return "probe"
