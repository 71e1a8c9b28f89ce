"""A Markdown file may embed an HTML table (Node.js's docs list their constants so): it is read as
the HTML parser reads a table, a row per block with each cell under its column's header, never
as tags in the text."""

from __future__ import annotations

from pathlib import Path

from app.ingestion.parsers import extract
from app.ingestion.types import ExtractionLimits

DOC = """### Engine constants

<table>
  <tr>
    <th>Constant</th>
    <th>Description</th>
  </tr>
  <tr>
    <td><code>ENGINE_METHOD_RSA</code></td>
    <td>Limit engine usage to RSA</td>
  </tr>
  <tr>
    <td><code>ENGINE_METHOD_RAND</code></td>
    <td>Limit engine usage to
    RAND</td>
  </tr>
</table>

After the table.

<table><tr><td>one line</td><td>table</td></tr></table>
"""


def test_an_embedded_html_table_is_read_as_a_table(tmp_path: Path) -> None:
    path = tmp_path / "constants.md"
    path.write_text(DOC)
    blocks = extract(path, "markdown", ExtractionLimits()).blocks
    assert [(b.kind, b.text) for b in blocks] == [
        ("heading", "Engine constants"),
        ("table_row", "Constant: ENGINE_METHOD_RSA | Description: Limit engine usage to RSA"),
        ("table_row", "Constant: ENGINE_METHOD_RAND | Description: Limit engine usage to RAND"),
        ("paragraph", "After the table."),
        ("table_row", "one line | table"),
    ]
    assert all(b.heading_path == ("Engine constants",) for b in blocks[1:])
