"""reStructuredText: code stays code, line by line (as a Markdown fence's does), prose stays prose."""

from __future__ import annotations

from app.ingestion.parsers.rst import parse_text

DOC = """\
Caching
=======

Example of an LRU cache for static web content::

    @lru_cache(maxsize=32)
    def get_pep(num):
        'Retrieve text of a Python Enhancement Proposal'

        resource = 'https://peps.python.org/pep-%04d/' % num
        return resource

    >>> for n in 8, 290:
    ...     pep = get_pep(n)

The cache's size limit assures that the cache does not grow without bound.

.. code-block:: python
   :caption: A second example

   print(get_pep.cache_info())

.. testsetup::

   import functools
   hidden = "never shown"

>>> fib(10)
55

A literal block introduced on its own:

::

   $ make html

And a paragraph that says "::" only in the middle:: of a line, then goes on.
"""


def _blocks() -> list[tuple[str, str]]:
    out, _ = parse_text(DOC, rst=True)
    return [(b.kind, b.text) for b in out.blocks]


def test_a_literal_block_keeps_its_lines_and_its_introduction_reads_as_prose() -> None:
    blocks = _blocks()
    texts = [t for _, t in blocks]
    assert "Example of an LRU cache for static web content:" in texts
    code = next(t for t in texts if t.startswith("@lru_cache"))
    # Lines and their indentation (Python's nesting), less the block's own.
    assert code.split("\n")[:3] == [
        "@lru_cache(maxsize=32)", "def get_pep(num):",
        "    'Retrieve text of a Python Enhancement Proposal'"]
    # The blank line inside the block does not end it; a doctest's "..." is code, not a comment.
    assert "    return resource" in code and "... pep = get_pep(n)" in code
    assert "The cache's size limit assures that the cache does not grow without bound." in texts


def test_code_directives_keep_lines_without_their_options_and_skipped_bodies_go() -> None:
    texts = [t for _, t in _blocks()]
    assert "print(get_pep.cache_info())" in texts
    assert not any("caption" in t or t == "python" for t in texts)
    assert not any("hidden" in t or "import functools" in t for t in texts)


def test_doctest_blocks_and_bare_literal_markers() -> None:
    texts = [t for _, t in _blocks()]
    assert ">>> fib(10)\n55" in texts
    assert "A literal block introduced on its own:" in texts
    assert "$ make html" in texts
    assert "::" not in texts
    assert ('And a paragraph that says "::" only in the middle:: of a line, then goes on.'
            in texts)


def test_plain_text_is_not_read_as_restructuredtext() -> None:
    out, _ = parse_text("Intro::\n\n    indented line\n    another\n", rst=False)
    assert [b.text for b in out.blocks] == ["Intro::", "indented line another"]


VERSIONS = """\
.. function:: register(cls, func=None)

   Register an implementation.

   .. versionadded:: 3.4

   .. versionchanged:: 3.7
      The register attribute now supports using type annotations.

   .. versionchanged:: 3.11

      It supports unions as type annotations.

   .. deprecated:: 3.12 Use the other function.

A paragraph after the notes.
"""


def test_version_notes_read_as_sphinx_renders_them() -> None:
    out, _ = parse_text(VERSIONS, rst=True)
    texts = [b.text for b in out.blocks]
    # Not a bare "3.7" above the sentence it dates: the version is in that sentence.
    assert "Added in version 3.4." in texts
    assert ("Changed in version 3.7: The register attribute now supports using type annotations."
            in texts)
    assert "Changed in version 3.11: It supports unions as type annotations." in texts
    assert "Deprecated since version 3.12: Use the other function." in texts
    assert texts[-1] == "A paragraph after the notes."
    assert not any(t.strip() in {"3.4", "3.7", "3.11"} for t in texts)


def test_a_version_note_without_a_body_does_not_swallow_the_next_paragraph() -> None:
    out, _ = parse_text(".. versionadded:: 3.9\n\nNext paragraph.\n", rst=True)
    assert [b.text for b in out.blocks] == ["Added in version 3.9.", "Next paragraph."]


ENTRIES = """\
Module title
============

.. function:: cmp_to_key(func)

   Transform an old-style comparison function.

   .. versionadded:: 3.2

.. py:class:: Dispatcher(default)

   A class.

   .. method:: register(cls, func=None)

      Register an implementation.

.. attribute:: Dispatcher.registry

   The implementations.

A paragraph of the section after its entries.

Another section
---------------

Prose of the section.
"""


def test_an_api_entry_heads_its_description_as_a_heading_does() -> None:
    out, _ = parse_text(ENTRIES, rst=True)
    paths = {b.text: b.heading_path for b in out.blocks if b.kind != "heading"}
    # Every passage of an entry knows what it describes: a version note several passages below
    # its signature too.
    assert paths["Added in version 3.2."] == ("Module title", "cmp_to_key(func)")
    # A method nested in its class's entry is under both; the next entry at the class's level
    # closes both, and a section title closes every entry.
    assert paths["Register an implementation."] == (
        "Module title", "Dispatcher(default)", "register(cls, func=None)")
    assert paths["The implementations."] == ("Module title", "Dispatcher.registry")
    assert paths["A paragraph of the section after its entries."] == ("Module title",)
    assert paths["Prose of the section."] == ("Module title", "Another section")
    # The signature stays in the text, where it was.
    assert [b.text for b in out.blocks][1:3] == [
        "cmp_to_key(func)", "Transform an old-style comparison function."]
