"""Check `bench/qa/questions.jsonl` against the documents' extracted text (no app, no model).

    cd backend && .venv/bin/python ../bench/qa_check.py                  # whole file
    cd backend && .venv/bin/python ../bench/qa_check.py --db /tmp/qa-data/citewise.db
    cd backend && .venv/bin/python ../bench/qa_check.py --ids 'h*'       # some lines only

The extracted text is the app's own: the chunks of an ingested library (the SQLite database of a
data dir in which every document the set names was uploaded, e.g. the one
`bench/qa_eval.py --data-dir /tmp/qa-data` fills), opened read-only. Documents are matched by file
name; a document's chunks are those of its newest version.

Every line must be valid JSON with the fields of its kind:

- *answerable* (no `"answerable": false`): `id`, `split`, `question`, `document`, `facts` (a list
  of strings or of lists of alternative wordings), `evidence` (a string), optional `pages` (a list
  of integers: the acceptable pages of paginated formats);
- *unanswerable*: `id`, `split`, `question`, `"answerable": false`, and no document of its own.

`split` is `tune` or `test`; ids are unique; an optional `batch` is an integer. For an answerable
line, the rule is the one `qa_eval.acceptable()` applies to a search hit or a citation (a chunk of
the question's document is acceptable when it lies on one of `pages` or its text contains
`evidence`, whitespace-normalised and case-insensitive), so that some chunk of the document is
acceptable *because it holds the evidence*:

- with `pages`: the evidence occurs in the text of the document's chunks that lie on (or span) one
  of those pages;
- without `pages`: the evidence occurs inside a single chunk (a sentence cut by a chunk boundary
  could never make a hit acceptable);
- every fact occurs in the document's text (for a list of wordings, at least one of them).

Prints one line per problem and a count per document and split; exits 1 when a line fails.
"""

from __future__ import annotations

import argparse
import fnmatch
import functools
import json
import sqlite3
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qa_eval import QA_FILE, has_facts, norm

DEFAULT_DB = Path("/tmp/qa-data/citewise.db")  # noqa: S108 - the data dir qa_eval's docs use
SPLITS = {"tune", "test"}
ANSWERABLE_KEYS = {"id", "split", "question", "document", "facts", "evidence", "pages", "batch"}
UNANSWERABLE_KEYS = {"id", "split", "question", "answerable", "batch"}


@dataclass
class Chunk:
    page_start: int
    page_end: int
    text: str


@dataclass
class Document:
    filename: str
    chunks: list[Chunk] = field(default_factory=list)

    @functools.cached_property
    def full_text(self) -> str:
        return norm("\n".join(c.text for c in self.chunks))

    def text_on(self, pages: list[int]) -> str:
        wanted = set(pages)
        return norm("\n".join(c.text for c in self.chunks
                              if wanted & set(range(c.page_start, c.page_end + 1))))

    def in_one_chunk(self, needle: str) -> bool:
        return any(needle in norm(c.text) for c in self.chunks)


def load_documents(db: Path, filenames: set[str]) -> dict[str, Document]:
    """The newest version's chunks of each named document (by file name), read-only."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        docs: dict[str, Document] = {}
        for name in sorted(filenames):
            row = conn.execute(
                "SELECT d.id FROM documents d WHERE d.filename = ? "
                "AND EXISTS (SELECT 1 FROM chunks c WHERE c.document_id = d.id) "
                "ORDER BY d.status = 'ready' DESC, d.created_at DESC LIMIT 1", (name,)).fetchone()
            if row is None:
                continue
            rows = conn.execute(
                "SELECT page_start, page_end, text FROM chunks WHERE document_id = ? AND version = "
                "(SELECT max(version) FROM chunks WHERE document_id = ?) ORDER BY n",
                (row[0], row[0])).fetchall()
            docs[name] = Document(name, [Chunk(int(a), int(b), str(t)) for a, b, t in rows])
        return docs
    finally:
        conn.close()


def shape_problems(item: dict[str, Any]) -> list[str]:
    """What is wrong with a line's fields, whatever the documents say."""
    problems: list[str] = []
    for key in ("id", "split", "question"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            problems.append(f"'{key}' missing or not a non-empty string")
    if item.get("split") not in SPLITS:
        problems.append(f"split {item.get('split')!r} is not one of {sorted(SPLITS)}")
    if "batch" in item and (not isinstance(item["batch"], int) or isinstance(item["batch"], bool)):
        problems.append("'batch' is not an integer")
    if item.get("answerable", True) is False:
        extra = set(item) - UNANSWERABLE_KEYS
        if extra:
            problems.append(f"unanswerable line has fields {sorted(extra)}")
        return problems
    if "answerable" in item and item["answerable"] is not True:
        problems.append("'answerable' must be false (or absent)")
    extra = set(item) - ANSWERABLE_KEYS - {"answerable"}
    if extra:
        problems.append(f"unknown fields {sorted(extra)}")
    if not isinstance(item.get("document"), str) or not item["document"]:
        problems.append("'document' missing")
    if not isinstance(item.get("evidence"), str) or not item["evidence"].strip():
        problems.append("'evidence' missing or empty")
    facts = item.get("facts")
    if not isinstance(facts, list) or not facts:
        problems.append("'facts' missing or empty")
    else:
        for fact in facts:
            wordings = fact if isinstance(fact, list) else [fact]
            if not wordings or not all(isinstance(w, str) and w.strip() for w in wordings):
                problems.append(f"fact {fact!r} is not a string or a non-empty list of strings")
    if "pages" in item:
        pages = item["pages"]
        if (not isinstance(pages, list) or not pages
                or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in pages)):
            problems.append("'pages' is not a non-empty list of positive integers")
    return problems


def text_problems(item: dict[str, Any], doc: Document) -> list[str]:
    """Whether the evidence and the facts are where the line says (see the module docstring)."""
    problems: list[str] = []
    evidence = norm(item["evidence"])
    pages = item.get("pages")
    if evidence not in doc.full_text:
        problems.append(f"evidence not in the document's text: {item['evidence']!r}")
    elif pages:
        if evidence not in doc.text_on(pages):
            where = sorted({p for c in doc.chunks if evidence in norm(c.text)
                            for p in range(c.page_start, c.page_end + 1)})
            problems.append(f"evidence not on pages {pages} (found on {where or 'a chunk boundary'})")
    elif not doc.in_one_chunk(evidence):
        problems.append("evidence spans a chunk boundary: no single chunk contains it")
    problems += [f"fact {fact!r} not in the document's text" for fact in item["facts"]
                 if not has_facts([fact], doc.full_text)]
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", type=Path, default=QA_FILE, help="the QA set (JSON lines)")
    parser.add_argument("--db", type=Path, default=DEFAULT_DB,
                        help="SQLite database of a data dir with every document ingested")
    parser.add_argument("--ids", default="*", help="check only ids matching this glob (e.g. 'h*')")
    args = parser.parse_args()

    failures: list[str] = []
    items: list[dict[str, Any]] = []
    for lineno, line in enumerate(args.file.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            failures.append(f"line {lineno}: not JSON ({exc})")
            continue
        if not isinstance(item, dict):
            failures.append(f"line {lineno}: not a JSON object")
            continue
        item["_line"] = lineno
        items.append(item)

    seen = Counter(str(i.get("id")) for i in items)
    failures += [f"id {i} is used {n} times" for i, n in seen.items() if n > 1]
    chosen = [i for i in items if fnmatch.fnmatchcase(str(i.get("id")), args.ids)]

    answerable = [i for i in chosen if i.get("answerable", True) is not False]
    names = {Path(str(i.get("document"))).name for i in answerable}
    docs = load_documents(args.db, names) if args.db.exists() else {}
    if not args.db.exists():
        failures.append(f"{args.db} does not exist: ingest the documents first (see the docstring)")

    per_doc: Counter[tuple[str, str]] = Counter()
    for item in chosen:
        label = f"line {item['_line']} ({item.get('id')})"
        problems = shape_problems({k: v for k, v in item.items() if k != "_line"})
        is_answerable = item.get("answerable", True) is not False
        per_doc[(str(item.get("document", "(unanswerable)")) if is_answerable else "(unanswerable)",
                 str(item.get("split")))] += 1
        if is_answerable and not problems:
            doc = docs.get(Path(item["document"]).name)
            if doc is None:
                problems.append(f"{item['document']} is not in {args.db} (not ingested yet?)")
            else:
                problems += text_problems(item, doc)
        failures += [f"{label}: {p}" for p in problems]

    print(f"{'document':<40} {'tune':>5} {'test':>5}")
    for name in sorted({d for d, _ in per_doc}):
        print(f"{name:<40} {per_doc[(name, 'tune')]:>5} {per_doc[(name, 'test')]:>5}")
    print(f"{'total':<40} {sum(n for (_, s), n in per_doc.items() if s == 'tune'):>5} "
          f"{sum(n for (_, s), n in per_doc.items() if s == 'test'):>5}")
    for failure in failures:
        print("FAIL", failure)
    print(f"{len(chosen)} lines checked ({args.ids}), {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
