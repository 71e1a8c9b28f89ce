from __future__ import annotations

import random

import pytest

from app.rag.citations import StreamingCitationFilter, close_fences, repair_citations

VALID = {1, 2, 3}


@pytest.mark.parametrize(
    ("raw", "expected", "cited"),
    [
        ("The limit is 10 MB [1, 2].", "The limit is 10 MB [1][2].", [1, 2]),
        ("Both agree [1][2] here.", "Both agree [1][2] here.", [1, 2]),
        ("Spaced [1] [3], done.", "Spaced [1][3], done.", [1, 3]),
        ("Named [Source 2] and [sources 1; 3].", "Named [2] and [1][3].", [2, 1, 3]),
        ("Wide 【3】 brackets.", "Wide [3] brackets.", [3]),
        ("Range [1-3].", "Range [1][2][3].", [1, 2, 3]),
        ("Footnote style[^2].", "Footnote style[2].", [2]),
        ("Repeated [2][2, 2].", "Repeated [2].", [2]),
        ("Made up [7].", "Made up.", []),
        ("Mixed [2, 7] here.", "Mixed [2] here.", [2]),
        ("Gone [9] and kept [1].", "Gone and kept [1].", [1]),
        ("[8] At the start.\n[9] Next line.", "At the start.\nNext line.", []),
        ("Order [3] then [1] then [3].", "Order [3] then [1] then [3].", [3, 1]),
        ("A year [2020] is not a citation.", "A year [2020] is not a citation.", []),
        ("A link [1](https://example.com) stays.", "A link [1](https://example.com) stays.", []),
        ("Zero [0] is never a source.", "Zero is never a source.", []),
    ],
)
def test_repair(raw: str, expected: str, cited: list[int]) -> None:
    result = repair_citations(raw, VALID)
    assert result.text == expected
    assert result.cited == cited


def test_code_is_never_touched() -> None:
    raw = (
        "Use `a[0]` or `b[7]` [1].\n"
        "```python\nitems[9] = [1, 2]\nx = y[Source 5]\n```\n"
        "After the block [9] [2].\n"
        "~~~\nz[8]\n~~~\n"
        "Unclosed `c[4] stays code"
    )
    result = repair_citations(raw, VALID)
    assert result.text == (
        "Use `a[0]` or `b[7]` [1].\n"
        "```python\nitems[9] = [1, 2]\nx = y[Source 5]\n```\n"
        "After the block [2].\n"
        "~~~\nz[8]\n~~~\n"
        "Unclosed `c[4] stays code"
    )
    assert result.cited == [1, 2]


def run_filter(parts: list[str], valid: set[int]) -> str:
    stream = StreamingCitationFilter(valid)
    return "".join(stream.feed(p) for p in parts) + stream.flush()


def test_filter_holds_back_split_markers() -> None:
    stream = StreamingCitationFilter(VALID)
    assert stream.feed("The answer is 42 ") == "The answer is 42"
    assert stream.feed("[") == ""
    assert stream.feed("So") == ""
    assert stream.feed("urce 1") == ""
    assert stream.feed("]") == ""  # another marker may still join this one
    # "[1] and" settles; " [9" may still be a marker (and its space goes with it if invalid).
    assert stream.feed(" and [9") == " [1] and"
    assert stream.feed("] more.") == " more."
    assert stream.flush() == ""
    assert stream.cited == [1]


def test_filter_removes_invalid_marker_and_its_space() -> None:
    assert run_filter(["Claim ", "[", "4", "].", " Next [", "2", "]"], VALID) == (
        "Claim. Next [2]"
    )


def test_filter_emits_plain_text_promptly() -> None:
    stream = StreamingCitationFilter(VALID)
    assert stream.feed("Hello") == "Hello"
    assert stream.feed(", world.") == ", world."
    assert stream.feed(" [not a marker") == ""
    assert stream.feed("] ok") == " [not a marker] ok"


def test_filter_leaves_code_alone() -> None:
    parts = ["Write `", "a[", "9]` then ", "```\nb[", "7]\n``", "`\nend [", "8] [1]."]
    assert run_filter(parts, VALID) == "Write `a[9]` then ```\nb[7]\n```\nend [1]."


SAMPLES = [
    "Claim [1, 2]. Other [Source 3] and 【2】 x [9]. More[1][1] [2].",
    "[9] Starts a line\nok [7] end [1-3]",
    "code `a[0]` and ```\nx[5]\n``` after [5] [2020] [1](http://x) [2]",
    "A claim [Sources 1, 2; 3].\n\n- item [4]\n- item [3]",
    "foo [4], [2] bar [^1] baz [ 1 ,2 ]",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_filter_matches_batch_repair_for_any_split(text: str) -> None:
    expected = repair_citations(text, VALID).text
    for seed in range(200):
        rng = random.Random(seed)
        parts, i = [], 0
        while i < len(text):
            n = rng.randint(1, 5)
            parts.append(text[i : i + n])
            i += n
        assert run_filter(parts, VALID) == expected, parts


PIECES = ["word", "Word", " ", "  ", "\n", "\n\n", ".", ",", "[1]", "[2]", "[9]", "[1, 2]",
          "[Source 3]", "[source 9]", "【2】", "【7】", "[", "]", "`", "```", "~~~", "[^1]", "[1-3]",
          "(", "[0]", "x[1]", "[2020]", "[note", "\t", "a", "1", "[1](u)"]


def test_filter_matches_batch_repair_on_generated_text() -> None:
    for seed in range(600):
        rng = random.Random(seed)
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 40)))
        stream, out, i = StreamingCitationFilter(VALID), [], 0
        while i < len(text):
            n = rng.randint(1, 6)
            out.append(stream.feed(text[i : i + n]))
            i += n
        out.append(stream.flush())
        expected = repair_citations(text, VALID)
        assert "".join(out) == expected.text, (seed, text)
        assert stream.cited == expected.cited, (seed, text)


def test_close_fences_closes_only_a_block_left_open_at_the_end() -> None:
    assert close_fences("Try:\n```python\nx = 1") == "Try:\n```python\nx = 1\n```"
    assert close_fences("~~~~\ncode\n~~~") == "~~~~\ncode\n~~~\n~~~~"  # a shorter fence: open
    for whole in ("plain [1].", "Try:\n```\nx = 1\n```\nDone [1].", "`inline` code"):
        assert close_fences(whole) == whole
    closed = close_fences("Try:\n```\nx = 1 [1]") + "\n\nSee the manual [1]."
    assert repair_citations(closed, {1}).cited == [1]  # the appended marker is read

