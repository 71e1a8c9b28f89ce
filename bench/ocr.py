"""Text recognition on the evaluation corpus's scans: pages/s and character accuracy.

References: `pdf_scanned/pdf-with-ocr-text.pdf` carries an invisible text layer over its scan (the
page image is recognised, the layer is the reference); `image/layout-parser-paper-fast.tiff` is page 1
of `pdf/layout-parser-paper-fast.pdf`, whose text layer is the reference. In the same run, the
package's own CTC decoder is measured against ours (SpacedCtcDecoder) as the reference point.
Character accuracy = 1 - Levenshtein(ocr, reference) / len(reference), whitespace collapsed;
word recall = share of the reference's words (lower case, letters and digits) found in the OCR text.

    cd backend && .venv/bin/python ../bench/ocr.py [--dpi 150,200] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image

from app.ingestion.ocr.rapid import RapidOcrEngine

EVAL = Path(os.environ.get("CITEWISE_EVAL_DOCS", Path(__file__).resolve().parents[2] / "shared/eval/docs"))


def norm(text: str) -> str:
    return " ".join(text.split())


def levenshtein(a: str, b: str) -> int:
    prev = np.arange(len(b) + 1)
    bb = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    for i, ch in enumerate(a, start=1):
        cost = (bb != ord(ch)).astype(np.int64)
        cur = np.empty_like(prev)
        cur[0] = i
        sub = prev[:-1] + cost
        dele = prev[1:] + 1
        best = np.minimum(sub, dele)
        # insertions need a running minimum along the row
        cur[1:] = best
        np.minimum.accumulate(cur - np.arange(len(cur)), out=cur)
        cur += np.arange(len(cur))
        prev = cur
    return int(prev[-1])


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z0-9]+", text.lower()))


def scores(ocr: str, ref: str) -> dict[str, float]:
    o, r = norm(ocr), norm(ref)
    ref_words, ocr_words = words(r), words(o)
    found = sum(min(n, ocr_words[w]) for w, n in ref_words.items())
    return {"char_accuracy": round(1 - levenshtein(o, r) / max(1, len(r)), 4),
            "word_recall": round(found / max(1, sum(ref_words.values())), 4)}


def samples(dpi: int) -> list[tuple[str, Image.Image, str]]:
    out = []
    pdf = pdfium.PdfDocument(str(EVAL / "pdf_scanned/pdf-with-ocr-text.pdf"))
    page = pdf[0]
    ref = page.get_textpage().get_text_bounded()
    out.append(("pdf-with-ocr-text.pdf p1", page.render(scale=dpi / 72, grayscale=True).to_pil(), ref))
    paper = pdfium.PdfDocument(str(EVAL / "pdf/layout-parser-paper-fast.pdf"))
    ref = paper[0].get_textpage().get_text_bounded()
    with Image.open(EVAL / "image/layout-parser-paper-fast.tiff") as tiff:
        out.append(("layout-parser-paper-fast.tiff", tiff.convert("L"), ref))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dpi", default="150")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    t = time.monotonic()
    engine = RapidOcrEngine(threads=args.threads)
    load_s = time.monotonic() - t
    spaced = engine._ocr.text_rec.postprocess_op
    from rapidocr_onnxruntime.ch_ppocr_rec.utils import CTCLabelDecode

    plain = CTCLabelDecode(character=list(spaced.characters[1:-1]))
    results = []
    for dpi in [int(d) for d in args.dpi.split(",")]:
        for name, image, ref in samples(dpi):
            for decoder_name, decoder in (("package decoder", plain), ("spaced decoder", spaced)):
                engine._ocr.text_rec.postprocess_op = decoder
                t = time.monotonic()
                text = engine.read(image)
                seconds = time.monotonic() - t
                row = {"file": name, "dpi": dpi if name.endswith(".pdf p1") else "native",
                       "decoder": decoder_name, "seconds": round(seconds, 2),
                       "pages_per_s": round(1 / seconds, 3), **scores(text, ref)}
                results.append(row)
                print(f"{name:32} {row['dpi']!s:7} {decoder_name:16} {seconds:6.1f} s  "
                      f"chars {row['char_accuracy']:.3f}  words {row['word_recall']:.3f}", flush=True)
    print(json.dumps({"bench": "ocr", "model_load_s": round(load_s, 2), "threads": args.threads,
                      "results": results,
                      "machine": {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                                  "cpus": os.cpu_count(), "loadavg": os.getloadavg()}}))


if __name__ == "__main__":
    main()
