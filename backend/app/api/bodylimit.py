"""Request body limits, enforced while the body arrives, before anything is parsed or spooled to disk.

- Uploads (`POST /api/v1/documents`): each file at most the runtime `max_upload_mb` (an admin can
  change it), the whole request at most `max_files_per_upload` such files. The multipart stream is
  watched as it passes (a second, counting-only parser), so one oversized file stops the request
  at the limit instead of being spooled whole and refused afterwards.
- Every other request: `CITEWISE_MAX_REQUEST_BODY_KB` (JSON bodies are read into memory).

A declared `Content-Length` over the limit is refused before a byte of the body is read. Either
way the answer is 413 with the usual error body.
"""

from __future__ import annotations

import json

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import error_body
from app.core.text import clean_display_text
from app.platform.container import Container

MB = 1024 * 1024
UPLOAD_ROUTES = frozenset({("POST", "/api/v1/documents")})
PART_OVERHEAD = 64 * 1024  # multipart boundaries and part headers, per file


class BodyTooLarge(HTTPException):
    """Raised from `receive` mid-body; FastAPI passes HTTPExceptions through to the error handler."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)
        self.code = code


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        app = scope.get("app")
        container: Container | None = getattr(app.state, "container", None) if app is not None else None
        if scope["type"] != "http" or container is None:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        per_file: int | None = None
        if (scope["method"], scope["path"]) in UPLOAD_ROUTES:
            runtime = await container.runtime.current()
            per_file = runtime.uploads.max_upload_mb * MB
            files = container.settings.max_files_per_upload
            limit = files * (per_file + PART_OVERHEAD) + PART_OVERHEAD
            too_large = ("request_too_large",
                         f"The upload is larger than {files} files of {per_file // MB} MB.")
        else:
            limit = container.settings.max_request_body_kb * 1024
            too_large = ("request_too_large",
                         f"The request body is larger than the {limit // 1024} KB limit.")
        try:
            declared = int(headers.get(b"content-length", b"") or -1)
        except ValueError:
            declared = -1
        if declared > limit:
            await _refuse(send, *too_large)
            return
        watch = _FileSizeWatch(headers.get(b"content-type", b""), per_file) if per_file else None
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > limit:
                    raise BodyTooLarge(*too_large)
                if watch is not None:
                    watch.feed(chunk)
            return message

        await self.app(scope, limited_receive, send)


class _FileSizeWatch:
    """Counts the bytes of each file part of a multipart body; raises once one is over the limit.

    It only observes: a body it cannot parse is left to the real parser to refuse."""

    def __init__(self, content_type: bytes, per_file: int) -> None:
        self.per_file = per_file
        self.size = 0
        self.filename = ""
        self.is_file = False
        self._field = b""
        self._value = b""
        self._disposition = b""
        self.parser: MultipartParser | None = None
        kind, params = parse_options_header(content_type)
        boundary = params.get(b"boundary")
        if kind == b"multipart/form-data" and boundary:
            self.parser = MultipartParser(boundary, callbacks={
                "on_part_begin": self._begin, "on_part_data": self._data,
                "on_header_field": self._header_field, "on_header_value": self._header_value,
                "on_header_end": self._header_end, "on_headers_finished": self._headers_done,
            })

    def feed(self, chunk: bytes) -> None:
        if self.parser is None or not chunk:
            return
        try:
            self.parser.write(chunk)
        except BodyTooLarge:
            raise
        except Exception:  # malformed multipart: stop watching, the form parser will say why
            self.parser = None

    def _begin(self) -> None:
        self.size, self.filename, self.is_file, self._disposition = 0, "", False, b""
        self._field = self._value = b""

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        if self._field.lower() == b"content-disposition":
            self._disposition = self._value
        self._field = self._value = b""

    def _headers_done(self) -> None:
        _, params = parse_options_header(self._disposition)
        name = params.get(b"filename")
        self.is_file = name is not None
        self.filename = clean_display_text(name.decode("utf-8", "replace")) if name else ""

    def _data(self, data: bytes, start: int, end: int) -> None:
        if not self.is_file:
            return  # form fields are bounded by the form parser (1 MB each)
        self.size += end - start
        if self.size > self.per_file:
            shown = self.filename[:100] or "A file"
            raise BodyTooLarge("file_too_large",
                               f"{shown} is larger than the {self.per_file // MB} MB limit per file.")


async def _refuse(send: Send, code: str, detail: str) -> None:
    body = json.dumps(error_body(code, detail)).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})

