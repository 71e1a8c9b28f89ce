"""Every format and every tricky file through the REAL pipeline (upload → job → extract → chunk →
embed → index): each ends `ready` with chunks on valid pages, or `failed` with a message a person
understands — and the runner keeps going.

The generated set (tests/docgen.py) always runs; the same checks over the real evaluation
corpus run when CITEWISE_EVAL_DOCS is set."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from tests import docgen
from tests.api.helpers import upload, wait_done
from tests.conftest import register

TECHNICAL = re.compile(r"Traceback|Exception|Error\(|errno|\.py\b|0x[0-9a-f]{6,}", re.IGNORECASE)

# Generated documents (names from docgen.build_corpus).
ONE_PER_FORMAT = [
    "outline.pdf", "notes.docx", "minutes.doc", "deck.pptx", "slides.ppt", "cups.xlsx", "quiz.xls",
    "wine.ods", "semicolon.csv", "page.html", "code.md", "guide.rst", "manual.txt", "book.epub",
    "guide.odt", "letter.rtf", "mail.eml", "outlook.msg", "scanned.pdf",
]
TRICKY = [
    "password.pdf", "password-rc4.pdf", "copy-protected.pdf", "damaged.pdf", "empty.xlsx",
    "latin1.txt", "euc_jp.txt", "euc_kr.txt", "gb2312.txt", "utf16.html", "html_named_as.txt",
    "umlauts.md",
]
EXPECTED_FAILURES = {
    "password.pdf": "password", "password-rc4.pdf": "password",
    "empty.xlsx": "no extractable text", "damaged.pdf": "damaged",
}

# The real corpus: the same, over its files.
REAL_ONE_PER_FORMAT = [
    "pdf/pdflatex-outline.pdf", "docx/docx-shapes.docx", "doc/simple.doc", "pptx/fake-power-point-many-pages.pptx",
    "ppt/fake-power-point.ppt", "xlsx/stanley-cups.xlsx", "xls/tests-example.xls", "ods/wine_data.ods",
    "csv/semicolon-delimited.csv", "html/example-with-scripts.html", "markdown/codeblock.md",
    "rst/tutorial_classes.rst.txt", "txt/live-manual.en.txt", "epub/winter-sports.epub", "odt/fake.odt",
    "rtf/fake-doc.rtf", "email/fake-email-attachment.eml", "email/fake-email.msg",
    "pdf_scanned/imagemagick-images.pdf",
]
# huge_single_line_searchindex.js (3.6 MB of one line) is covered by the parser tests; embedding its
# ~3,500 chunks here would dominate the suite.
REAL_EXPECTED_FAILURES = {
    "password.pdf": "password", "libreoffice-writer-password.pdf": "password",
    "empty.xlsx": "no extractable text", "unreadablemetadata.pdf": "damaged",
}


async def _run_all(client: AsyncClient, paths: list[Path], expected_failures: dict[str, str],
                   must_be_ready: list[str]) -> dict[str, dict[str, Any]]:
    await register(client)
    body = await upload(client, *paths)
    assert body["errors"] == [], body["errors"]
    by_name = {d["filename"]: d for d in body["documents"]}
    assert sorted(by_name) == sorted(p.name for p in paths)
    outcomes = {}
    for name, doc in by_name.items():
        done = await wait_done(client, doc["id"], timeout=600)
        outcomes[name] = done
        assert done["status"] in ("ready", "failed"), done
        if done["status"] == "ready":
            assert done["chunk_count"] > 0 and done["page_count"] >= 1, name
            chunks = (await client.get(f"/api/v1/documents/{doc['id']}/chunks",
                                       params={"limit": 500})).json()["items"]
            assert chunks and all(c["text"].strip() for c in chunks), name
            assert all(1 <= c["page_start"] <= c["page_end"] <= done["page_count"] for c in chunks), name
        else:
            message = done["error"] or ""
            assert 10 < len(message) < 300 and not TECHNICAL.search(message), (name, message)
    for name, phrase in expected_failures.items():
        assert outcomes[name]["status"] == "failed" and phrase in outcomes[name]["error"].lower(), name
        assert outcomes[name]["retryable"] is False, name  # the same file fails the same way again
    for name in must_be_ready:
        assert outcomes[name]["status"] == "ready", outcomes[name]
    return outcomes


async def _chunks(client: AsyncClient, doc: dict[str, Any], **params: Any) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/documents/{doc['id']}/chunks", params={"limit": 500, **params})
    return list(r.json()["items"])


@pytest.mark.timeout(900)
async def test_every_format_and_tricky_file_ends_ready_or_clearly_failed(
        client: AsyncClient, corpus: dict[str, Path]) -> None:
    assert set(corpus) == set(ONE_PER_FORMAT) | set(TRICKY)  # nothing built goes untested
    outcomes = await _run_all(client, [corpus[n] for n in ONE_PER_FORMAT + TRICKY], EXPECTED_FAILURES,
                              [n for n in ONE_PER_FORMAT + TRICKY
                               if n not in EXPECTED_FAILURES])
    # PDF pages are exact, and text from the 4th page is cited as page 4.
    outline = outcomes["outline.pdf"]
    assert outline["page_count"] == 4
    page4 = await _chunks(client, outline, page=4)
    assert page4 and all(c["page_start"] == 4 for c in page4)
    # Each slide / chapter / sheet is a page too.
    assert outcomes["deck.pptx"]["page_count"] == 3 and outcomes["book.epub"]["page_count"] == 2
    # Text in other encodings came through readable.
    expected_text = {"latin1.txt": ["À PROPOS", "privilèges"], "euc_jp.txt": ["開発"],
                     "euc_kr.txt": ["파이썬"], "gb2312.txt": ["语言"], "utf16.html": ["SteelJIS"],
                     "umlauts.md": ["können", "äöüß"], "minutes.doc": ["favorite things"],
                     "slides.ppt": ["Adding a Bullet Slide"], "quiz.xls": ["What is 2+2?"],
                     "outlook.msg": ["Subject: Test Email"], "copy-protected.pdf": ["LayoutParser"],
                     "scanned.pdf": ["Lorem ipsum dolor sit amet", "Second scanned page"]}
    for name, words in expected_text.items():
        text = " ".join(c["text"] for c in await _chunks(client, outcomes[name]))
        assert "\ufffd" not in text, name
        for word in words:
            assert word in text, (name, word)


@pytest.mark.eval_docs
@pytest.mark.timeout(1500)
async def test_real_corpus_formats_and_tricky_files(client: AsyncClient, eval_docs: Path) -> None:
    tricky = sorted(p.name for p in (eval_docs / "tricky").iterdir()
                    if p.name != "huge_single_line_searchindex.js" and p.stat().st_size > 0)
    paths = [eval_docs / p for p in REAL_ONE_PER_FORMAT] + [eval_docs / "tricky" / n for n in tricky]
    outcomes = await _run_all(client, paths, REAL_EXPECTED_FAILURES,
                              [n.split("/")[1] for n in REAL_ONE_PER_FORMAT if not n.startswith("pdf_scanned")])
    # PDF pages are exact, and text from the 4th page is cited as page 4.
    outline = outcomes["pdflatex-outline.pdf"]
    assert outline["page_count"] == 4
    page4 = await _chunks(client, outline, page=4)
    assert page4 and all(c["page_start"] == 4 for c in page4)
    # Non-UTF-8 text came through readable.
    text = (await _chunks(client, outcomes["live-manual.fr.latin1.txt"]))[0]["text"]
    assert "\ufffd" not in text and re.search(r"[éèàç]", text)


async def test_zero_byte_files_are_refused_at_upload(client: AsyncClient, tmp_path: Path) -> None:
    await register(client)
    body = await upload(client, *docgen.empty_files(tmp_path))
    assert body["documents"] == []
    assert [e["error"] for e in body["errors"]] == ["empty_file", "empty_file"]
