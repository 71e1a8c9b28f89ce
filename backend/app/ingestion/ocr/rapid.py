"""RapidOCR (PP-OCRv4 ONNX models from the ``rapidocr-onnxruntime`` wheel), with word spacing repaired.

The recognition model was trained mostly on Chinese text and often drops the space between two
English words ("Loremipsum dolor sitamet,consectetur"), which keyword search cannot match. Its
per-frame output still gives the space class a clear share of the probability between the words, so
the decoder here (greedy CTC like the package's own) also inserts a space where the gap between two
characters has ``SPACE_PROBABILITY`` or more of it.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PIL import Image
from rapidocr_onnxruntime.utils.infer_engine import ONNXRuntimeError

from app.ingestion.ocr.errors import OcrUnavailable
from app.ingestion.ocr.lines import Box, join_lines
from app.ingestion.types import ExtractionError

# Measured on the evaluation corpus's scans (docs/benchmarks.md): lower starts splitting words.
SPACE_PROBABILITY = 0.15


class SpacedCtcDecoder:
    """Greedy CTC decoding of the recognizer's output, with spaces where the model hesitated."""

    def __init__(self, characters: list[str]) -> None:
        self.characters = characters
        self.space = characters.index(" ")

    def __call__(self, preds: np.ndarray, return_word_box: bool = False,
                 **_: Any) -> list[tuple[str, float]]:
        best = preds.argmax(axis=2)
        best_p = preds.max(axis=2)
        return [self.decode_line(best[i], best_p[i], preds[i, :, self.space])
                for i in range(preds.shape[0])]

    def decode_line(self, best: np.ndarray, best_p: np.ndarray, space_p: np.ndarray) -> tuple[str, float]:
        out: list[str] = []
        scores: list[float] = []
        previous = 0  # the blank class
        gap_space = 0.0  # the highest space probability since the last character
        for t, index in enumerate(best.tolist()):
            if index == 0 or index == self.space:
                gap_space = max(gap_space, float(space_p[t]) if index == 0 else 1.0)
                previous = index
                continue
            if index == previous:  # a repeated frame of the same character
                continue
            if out and gap_space >= SPACE_PROBABILITY and out[-1] != " ":
                out.append(" ")
            out.append(self.characters[index])
            scores.append(float(best_p[t]))
            previous = index
            gap_space = 0.0
        return "".join(out), float(np.mean(scores)) if scores else 0.0


class RapidOcrEngine:
    name = "rapidocr"

    def __init__(self, threads: int = 1) -> None:
        from rapidocr_onnxruntime import RapidOCR

        logging.getLogger("RapidOCR").setLevel(logging.WARNING)
        self._ocr = RapidOCR(intra_op_num_threads=threads, inter_op_num_threads=1)
        self._ocr.text_rec.postprocess_op = SpacedCtcDecoder(
            self._ocr.text_rec.postprocess_op.character)

    def read(self, image: Image.Image) -> str:
        pixels = np.asarray(image.convert("RGB"))[:, :, ::-1]  # the package works in BGR, like cv2
        try:
            result, _ = self._ocr(np.ascontiguousarray(pixels))
        except ONNXRuntimeError as exc:
            cause = str(exc).strip().splitlines()[-1][:300]
            if "bad_alloc" in cause:  # RLIMIT_AS: pages are bounded in size, so the limit is too low
                raise OcrUnavailable(f"rapidocr ran out of memory under CITEWISE_EXTRACTION_MEMORY_MB "
                                     f"(it needs about 600 MB): {cause}") from exc
            raise ExtractionError("Text recognition could not read a page of this file.",
                                  detail=f"rapidocr: {cause}") from exc
        if not result:
            return ""
        return join_lines([Box.of(points, text) for points, text, _score in result])
