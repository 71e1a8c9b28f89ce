"""The failures of text recognition, as their users and administrators read them."""

from __future__ import annotations

from app.ingestion.types import ExtractionError

# Shown to the person whose document failed: what happened and what they can do, no server advice.
OCR_OFF_SCAN = (
    "This looks like a scanned document (its pages are pictures, with no text in them), and text "
    "recognition is turned off on this server, so it cannot be searched. Upload a PDF that contains "
    "text, or ask your administrator to turn text recognition on."
)
OCR_OFF_IMAGE = (
    "This is a picture, and text recognition is turned off on this server, so its text cannot be read. "
    "Upload the document as a PDF or text file, or ask your administrator to turn text recognition on."
)
OCR_UNAVAILABLE = (
    "Text recognition is not available on this server right now, so this scanned document could not "
    "be read. Your administrator has been told; try again later."
)


class OcrUnavailable(ExtractionError):
    """The configured engine cannot run here: an administrator's problem, so a retry can succeed."""

    def __init__(self, detail: str) -> None:
        super().__init__(OCR_UNAVAILABLE, permanent=True, retryable=True, detail=detail)
