"""The chat stream's events are published in the OpenAPI schema, and every frame is checked
against it before it is sent (the web app's event types are generated from the same schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.chats.schemas import sse_frame
from app.core.config import Settings
from app.main import create_app
from tests.conftest import TEST_SECRET


def test_openapi_declares_the_stream_events(tmp_path: Path) -> None:
    schema = create_app(Settings(data_dir=tmp_path, secret_key=TEST_SECRET, serve_frontend=False)).openapi()
    ask = schema["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    content = ask["responses"]["200"]["content"]
    assert content["text/event-stream"]["schema"] == {"$ref": "#/components/schemas/ChatStreamEvent"}
    assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/MessageOut"}
    components = schema["components"]["schemas"]
    union = components["ChatStreamEvent"]
    assert set(union["discriminator"]["mapping"]) == {"sources", "token", "citations", "done", "error"}
    for ref in union["oneOf"]:  # every event and the data it carries resolve inside the document
        event = components[ref["$ref"].rsplit("/", 1)[1]]
        data = event["properties"]["data"]["$ref"].rsplit("/", 1)[1]
        assert data in components


def test_frames_are_validated_against_the_schema() -> None:
    frame = sse_frame("token", {"text": "Hello [1]"})
    assert frame == 'event: token\ndata: {"text":"Hello [1]"}\n\n'
    done = sse_frame("done", {"message_id": "m", "user_message_id": "u", "conversation_id": "c",
                              "timings": {"retrieval_ms": 3.5, "total_ms": 9.0}})
    assert json.loads(done.split("data: ", 1)[1])["timings"]["first_token_ms"] is None
    with pytest.raises(ValidationError):  # a renamed field fails here, not in the browser
        sse_frame("done", {"message_id": "m", "conversation": "c", "timings": {}})
    with pytest.raises(ValidationError):
        sse_frame("tokens", {"text": "unknown event"})
