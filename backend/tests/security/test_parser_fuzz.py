"""Parser fuzzing with a fixed budget: mutated and random bytes through every extractor entry point
(the type sniffer, then each kind's parser in the sandbox the worker uses). Each input gives chunks
or an ExtractionError with a sentence a person can read; the extraction host never dies, and every
child is held to a memory cap and a deadline.

Seeds are the generated corpus (tests/docgen.py), one or more per kind; hypothesis mutates them
(bit flips, truncation, spliced and repeated ranges, zeroed spans) with a fixed seed, so a run is
reproducible and its cost is bounded by the example budget.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from app.ingestion.chunking import chunk_blocks
from app.ingestion.parsers import KINDS
from app.ingestion.sniff import sniff_file
from app.ingestion.types import ExtractedDocument, ExtractionError, ExtractionLimits
from app.ingestion.warm_pool import HostPool
from tests import docgen

EXAMPLES_PER_KIND = 12  # the fixed budget: 18 kinds x 12 sandboxed extractions
SNIFF_EXAMPLES = 150
LIMITS = ExtractionLimits(max_pages=50, max_uncompressed_bytes=32 * 1024 * 1024, timeout_seconds=20,
                          memory_limit_bytes=768 * 1024 * 1024, ocr_enabled=False,
                          max_chars=2_000_000)
# The only failure that is not the file's fault: the extraction host itself failed.
HOST_FAILED = "The document reader failed; try again later."


def _human(message: str) -> bool:
    return 0 < len(message) < 400 and message[0].isupper() and not any(
        marker in message for marker in ("Traceback", "Error:", "Exception", "  File ", "0x"))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[bytes]]:
    """Seed files by kind, as the sniffer sees them."""
    folder = tmp_path_factory.mktemp("fuzz-seeds")
    corpus = docgen.build_corpus(folder)
    by_kind: dict[str, list[bytes]] = {}
    for path in [*corpus.values(), docgen.tiff(folder / "scan.tif", "Fuzzed scan"),
                 docgen.docx(folder / "table.docx", "Heading", ["Para one.", "Para two."],
                             table=[["a", "b"], ["c", "d"]])]:
        by_kind.setdefault(sniff_file(path, path.name).kind, []).append(path.read_bytes())
    missing = KINDS - set(by_kind)
    assert not missing, f"no seed for {sorted(missing)}"
    return by_kind


@st.composite
def mutated(draw: st.DrawFn, originals: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(originals)))
    for _ in range(draw(st.integers(1, 6))):
        size = len(data)
        at = draw(st.integers(0, max(size - 1, 0)))
        op = draw(st.sampled_from(["flip", "truncate", "insert", "repeat", "zero", "random"]))
        if op == "flip" and size:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del data[at:]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "repeat" and size:
            span = data[at:at + draw(st.integers(1, 256))]
            data[at:at] = span * draw(st.integers(1, 50))
        elif op == "zero":
            end = at + draw(st.integers(1, 512))
            data[at:end] = bytes(len(data[at:end]))
        elif op == "random":
            return draw(st.binary(min_size=1, max_size=4096))
    return bytes(data) or b"\x00"


@pytest.fixture(scope="module")
def pool() -> HostPool:
    hosts = HostPool(max_idle=1)
    yield hosts  # type: ignore[misc]
    hosts.close()


def _outcome(pool: HostPool, path: Path, kind: str) -> ExtractedDocument | ExtractionError:
    try:
        return asyncio.run(pool.extract(path, kind, LIMITS))
    except ExtractionError as exc:
        return exc


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_every_parser_survives_mutated_input(kind: str, seeds: dict[str, list[bytes]], pool: HostPool,
                                             tmp_path: Path) -> None:
    path = tmp_path / f"fuzz.{kind}"
    started = pool.started

    @seed(13)
    @settings(max_examples=EXAMPLES_PER_KIND, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(data=mutated(seeds[kind]))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        result = _outcome(pool, path, kind)
        if isinstance(result, ExtractionError):
            assert result.message != HOST_FAILED, result.detail
            assert _human(result.message), result.message
            return
        assert any(b.text.strip() for b in result.blocks)
        chunks = chunk_blocks(result.blocks, lambda s: len(s.split()), max_tokens=256)
        assert chunks and all(c.text.strip() for c in chunks)

    run()
    # One host did every document: none of the inputs took the host down with its child.
    assert pool.started - started <= 1


@seed(29)
@settings(max_examples=SNIFF_EXAMPLES, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_the_sniffer_answers_a_type_or_a_sentence(seeds: dict[str, list[bytes]],
                                                  tmp_path_factory: pytest.TempPathFactory,
                                                  data: st.DataObject) -> None:
    blob = data.draw(mutated(seeds[data.draw(st.sampled_from(sorted(KINDS)))]))
    name = data.draw(st.sampled_from(["f.pdf", "f.docx", "f.txt", "f.md", "f.csv", "f", "f.eml"]))
    path = tmp_path_factory.getbasetemp() / "sniff-fuzz"
    path.write_bytes(blob)
    try:
        found = sniff_file(path, name)
    except ExtractionError as exc:
        assert _human(exc.message), exc.message
        return
    assert found.kind in KINDS
