"""Error responses in the OpenAPI schema: every error has one shape, `ErrorBody`, and every operation
declares the statuses it can return.

Most follow from what an operation is, so `document_errors` adds them to the generated schema:
401/403 where a principal is required, 403 on every state-changing method (the Origin and CSRF
checks), 404 where the path names an object, 413 and 422 where there is input, 429 on the
rate-limited API. Statuses particular to one operation are declared on its route with
`responses=errors(...)`. tests/security/test_openapi_conformance.py holds the server to this."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

ERROR_REF = "#/components/schemas/ErrorBody"
RATE_LIMIT_EXEMPT = ("/api/v1/health", "/api/v1/ready")
UNSAFE = ("post", "put", "patch", "delete")


class ErrorBody(BaseModel):
    """Every error response: a stable code for programs and a sentence for people."""

    error: str = Field(description="A stable machine-readable code, e.g. `not_found`, "
                                   "`insufficient_scope`, `validation_error`.")
    detail: str = Field(description="What went wrong, in plain English.")


DESCRIPTIONS = {
    400: "The request is not acceptable as sent (see `error`)",
    401: "Not signed in, or the credential is invalid, expired or revoked",
    403: "Not allowed: the Origin or CSRF check failed, the role or API-key scope is insufficient, "
         "API keys cannot use this route, or a password change is pending",
    404: "Not found (another user's object is not found either)",
    409: "Conflicts with the current state",
    413: "The request body or a file in it is over the size limit",
    422: "The input does not match the schema",
    429: "Too many requests; retry after `Retry-After` seconds",
    502: "The language model failed to answer",
    503: "Temporarily unavailable",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}


def error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": ERROR_REF}}},
    }
    if status == 429:
        response["headers"] = RETRY_AFTER
    return response


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the statuses only this operation returns."""
    return {status: {"model": ErrorBody, **error_response(status)} for status in statuses}


def document_errors(schema: dict[str, Any]) -> None:
    """Add the statuses that follow from each operation's kind, and replace FastAPI's default 422
    body (which the server never sends) with `ErrorBody`. Idempotent."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            statuses = set()
            params = operation.get("parameters", [])
            has_input = bool(params) or "requestBody" in operation
            if operation.get("x-required-scope", "public") != "public":
                statuses |= {401, 403}
            if method in UNSAFE:
                statuses.add(403)
            if any(p.get("in") == "path" for p in params):
                statuses.add(404)
            if "requestBody" in operation:
                statuses.add(413)
            if has_input:
                statuses.add(422)
            if path.startswith("/api/") and path not in RATE_LIMIT_EXEMPT:
                statuses.add(429)
            responses = operation.setdefault("responses", {})
            for status in sorted(statuses):
                if status == 422 or str(status) not in responses:
                    responses[str(status)] = error_response(status)
    for name in ("HTTPValidationError", "ValidationError"):
        if not _referenced(schema, f"#/components/schemas/{name}"):
            components.pop(name, None)


def _referenced(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_referenced(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_referenced(v, ref) for v in node)
    return False
