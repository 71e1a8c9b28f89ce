"""Chunking: token budget, offsets, page spans, sections, overlap, tables, determinism."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest

from app.ingestion.chunking import ChunkDraft, chunk_blocks, document_text
from app.ingestion.parsers import extract
from app.ingestion.types import Block, ExtractionLimits
from tests import docgen


def words(text: str) -> int:
    return len(text.split())


def sentences(n: int, tag: str) -> str:
    return " ".join(f"{tag} sentence number {i} says something." for i in range(n))


BLOCKS = [
    Block("Intro", 1, ("Intro",), "heading"),
    Block(sentences(40, "Alpha"), 1, ("Intro",), "paragraph"),
    Block(sentences(3, "Beta"), 2, ("Intro",), "paragraph"),
    Block("Prices", 2, ("Prices",), "heading"),
    *[Block(f"Item: thing {i}; Price: {i}.50", 2 + i // 10, ("Prices",), "table_row") for i in range(30)],
    Block("x" * 20, 5, ("Prices",), "paragraph"),
]


def check_invariants(blocks: list[Block], chunks: list[ChunkDraft], budget: int,
                     count: Callable[[str], int] = words) -> None:
    doc = document_text(blocks)
    assert chunks and [c.n for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text.strip() and chunk.text == doc[chunk.char_start : chunk.char_end]
        assert chunk.text == chunk.text.strip()
        assert words(chunk.text) <= budget
        assert chunk.tokens == count(chunk.text), "the chunk's count is its parts' counts"
        assert chunk.page_start <= chunk.page_end
    covered = [False] * len(doc)
    for chunk in chunks:
        covered[chunk.char_start : chunk.char_end] = [True] * (chunk.char_end - chunk.char_start)
    assert all(covered[i] for i, ch in enumerate(doc) if not ch.isspace()), "text was lost"


def test_invariants_and_page_spans() -> None:
    chunks = chunk_blocks(BLOCKS, words, max_tokens=60, overlap_tokens=12)
    check_invariants(BLOCKS, chunks, 60)
    doc = document_text(BLOCKS)
    offsets, pages = [], {}
    pos = 0
    for block in BLOCKS:
        offsets.append((pos, pos + len(block.text), block.page))
        pos += len(block.text) + 2
    for chunk in chunks:
        touched = [p for s, e, p in offsets if s < chunk.char_end and e > chunk.char_start]
        assert (chunk.page_start, chunk.page_end) == (min(touched), max(touched))
        pages[chunk.n] = touched
    assert doc.startswith(chunks[0].text)


def test_top_level_sections_never_share_a_chunk() -> None:
    chunks = chunk_blocks(BLOCKS, words, max_tokens=1000, overlap_tokens=40)
    paths = [c.heading_path for c in chunks]
    assert paths.index(("Prices",)) == len([p for p in paths if p == ("Intro",)])
    assert next(c for c in chunks if c.heading_path == ("Prices",)).text.startswith("Prices")


def test_chunks_never_span_pages() -> None:
    for budget in (25, 60, 1000):
        for chunk in chunk_blocks(BLOCKS, words, max_tokens=budget, overlap_tokens=5):
            assert chunk.page_start == chunk.page_end


def test_overlap_is_whole_sentences_from_same_section() -> None:
    chunks = chunk_blocks(BLOCKS, words, max_tokens=60, overlap_tokens=12)
    intro = [c for c in chunks if c.heading_path == ("Intro",)]
    assert len(intro) >= 3
    for prev, nxt in itertools.pairwise(intro):
        if nxt.page_start != prev.page_end:
            assert nxt.char_start >= prev.char_end, "no overlap across pages"
            continue
        assert nxt.char_start < prev.char_end, "consecutive chunks of a section overlap"
        shared = prev.text[nxt.char_start - prev.char_start :]
        assert nxt.text.startswith(shared)
        assert shared.startswith("Alpha sentence") or shared.startswith("Beta sentence")
        assert shared.endswith(".") and 0 < words(shared) <= 12
    prices = [c for c in chunks if c.heading_path == ("Prices",)]
    assert prices[0].char_start > intro[-1].char_end, "no overlap across sections"


def test_table_rows_are_kept_whole() -> None:
    chunks = chunk_blocks(BLOCKS, words, max_tokens=25, overlap_tokens=5)
    rows = {b.text for b in BLOCKS if b.kind == "table_row"}
    for chunk in chunks:
        for part in chunk.text.split("\n\n"):
            if part.startswith("Item:"):
                assert part in rows
    assert any(c.text.count("Item:") > 1 for c in chunks), "rows are packed together"


def test_oversized_paragraph_split_at_sentences_then_words() -> None:
    blocks = [Block(sentences(50, "Gamma"), 3, ("A", "B"), "paragraph")]
    chunks = chunk_blocks(blocks, words, max_tokens=30, overlap_tokens=0)
    check_invariants(blocks, chunks, 30)
    assert all(c.text.endswith(".") for c in chunks)
    assert all(c.page_start == c.page_end == 3 and c.heading_path == ("A", "B") for c in chunks)
    long_sentence = [Block(" ".join(f"w{i}" for i in range(500)), 1, (), "paragraph")]
    chunks = chunk_blocks(long_sentence, words, max_tokens=50, overlap_tokens=10)
    check_invariants(long_sentence, chunks, 50)
    assert len(chunks) >= 10


def test_no_whitespace_text_is_cut_anywhere() -> None:
    blocks = [Block("z" * 10_000, 1, (), "paragraph")]
    def quarter(s: str) -> int:
        return (len(s) + 3) // 4

    chunks = chunk_blocks(blocks, quarter, max_tokens=100, overlap_tokens=0)
    check_invariants(blocks, chunks, 10_000, quarter)
    assert all(len(c.text) <= 400 for c in chunks) and sum(len(c.text) for c in chunks) == 10_000


def test_heading_is_not_left_dangling_at_chunk_end() -> None:
    blocks = [
        Block("Top", 1, ("Top",), "heading"),
        Block(sentences(5, "Delta"), 1, ("Top",), "paragraph"),
        Block("Sub", 1, ("Top", "Sub"), "heading"),
        Block(sentences(5, "Eps"), 1, ("Top", "Sub"), "paragraph"),
    ]
    chunks = chunk_blocks(blocks, words, max_tokens=40, overlap_tokens=0)
    assert not any(c.text.endswith("\n\nSub") for c in chunks)
    assert any(c.text.startswith("Sub\n\n") and c.heading_path == ("Top", "Sub") for c in chunks)


def test_deterministic_and_validates() -> None:
    first = chunk_blocks(BLOCKS, words, max_tokens=50, overlap_tokens=10)
    assert first == chunk_blocks(list(BLOCKS), words, max_tokens=50, overlap_tokens=10)
    assert chunk_blocks([], words) == []
    assert chunk_blocks([Block("   ", 1, (), "paragraph")], words) == []
    with pytest.raises(ValueError):
        chunk_blocks(BLOCKS, words, max_tokens=0)


def test_multi_page_pdf_chunks(tmp_path: Path) -> None:
    pages = ["\n\n".join(docgen.paragraphs(page, 1 + page % 4, sentences=2 + page % 5))
             for page in range(40)]
    path = docgen.pdf(tmp_path / "long.pdf", pages, outline=[(1, "Start"), (20, "Middle")])
    doc = extract(path, "pdf", ExtractionLimits())
    chunks = chunk_blocks(doc.blocks, words, max_tokens=200, overlap_tokens=30)
    check_invariants(doc.blocks, chunks, 200)
    assert chunks[-1].page_end == 40 and chunks[0].page_start == 1
    assert all(c.page_start == c.page_end for c in chunks)
    assert {c.page_start for c in chunks} == set(range(1, 41))
    assert {c.heading_path for c in chunks} >= {("Start",), ("Middle",)}


def test_token_counts_match_the_real_tokenizer(tmp_path: Path) -> None:
    """The pipeline stores ``ChunkDraft.tokens`` instead of counting each chunk again: with the
    product's WordPiece tokenizer the sum of the parts must be the chunk's own count."""
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

    count = LocalOnnxEmbedder().count_tokens
    pages = ["\n\n".join(docgen.paragraphs(page, 2 + page % 3, sentences=3 + page % 6))
             for page in range(12)]
    doc = extract(docgen.pdf(tmp_path / "t.pdf", pages), "pdf", ExtractionLimits())
    # (A run with no whitespace cut anywhere is the one exception: its pieces' counts can add up
    # to a little more than the run's, an over-estimate that only moves progress and ordering.)
    blocks = [*doc.blocks, Block("word " * 900, 13, ("Tail",), "paragraph")]
    chunks = chunk_blocks(blocks, count, max_tokens=128, overlap_tokens=24)
    assert len(chunks) > 20
    assert [c.tokens for c in chunks] == [count(c.text) for c in chunks]


@pytest.mark.eval_docs
def test_real_document_chunks(eval_docs: Path) -> None:
    doc = extract(eval_docs / "pdf/R-intro.pdf", "pdf", ExtractionLimits())
    chunks = chunk_blocks(doc.blocks, words, max_tokens=200, overlap_tokens=30)
    check_invariants(doc.blocks, chunks, 200)
    assert chunks[-1].page_end == 113 and chunks[0].page_start == 1
