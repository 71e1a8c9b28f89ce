"""Whole-document requests on the QA library: "What is “<file>” about?" for each of its documents,
and "Summarise the main points of my documents" over all of them, through the real chat API.

    cd backend && .venv/bin/python ../bench/qa_eval.py --split tune --data-dir /tmp/qa-data  # ingests
    cd backend && .venv/bin/python ../bench/qa_overview.py --data-dir /tmp/qa-data [--show]

Reports, per request: whether only the named document is cited, whether every quoted line cites a
source with the markers numbered 1..n in order of first use, how many lines and sections the
summary holds, and the server's `overview_ms` (reading the documents and choosing the sentences).
What a summary says is for a reader to judge: `--show` prints each one.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
from pathlib import Path
from typing import Any

import _common as c


async def ask(client: Any, question: str) -> dict[str, Any]:
    final: dict[str, Any] = {}
    done: dict[str, Any] = {}
    async for event, data in c.chat_events(client, question):
        if event == "citations":
            final = data
        elif event == "done":
            done = data
        elif event == "error":
            raise SystemExit(f"chat error: {data}")
    return final | {"timings": done.get("timings", {})}


def checks(answer: dict[str, Any], named: str | None) -> dict[str, Any]:
    content = answer["content"]
    used = [int(n) for n in re.findall(r"\[(\d+)\]", content)]
    first_use = list(dict.fromkeys(used))
    bullets = [line for line in content.splitlines() if line.startswith("- ")]
    files = {x["filename"] for x in answer["citations"]}
    return {
        "named_only": named is None or files == {named},
        "numbered": first_use == list(range(1, len(first_use) + 1))
        and [x["index"] for x in answer["citations"]] == first_use,
        "every_line_cited": bool(bullets) and all(re.search(r"\[\d+\]$", b) for b in bullets),
        "lines": len(bullets),
        "sections": any(line.startswith("Sections: ") for line in content.splitlines()),
        "documents": len(files),
        "overview_ms": answer["timings"].get("overview_ms"),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir = Path(args.data_dir)
    if not (data_dir / ".qa-library-ready").is_file():
        raise SystemExit(f"{data_dir} holds no QA library: run qa_eval.py --data-dir {data_dir}")
    settings = c.bench_settings(data_dir, access_token_minutes=24 * 60)
    rows: list[dict[str, Any]] = []
    async with c.app_client(settings) as (_, client):
        await c.sign_in(client, "qa@example.com")
        names = sorted(d["filename"] for d in (await client.get(
            "/api/v1/documents", params={"page_size": 200})).json()["items"])
        requests = [(f"What is “{n}” about?", n) for n in names]
        requests.append(("Summarise the main points of my documents", None))
        for question, named in requests:
            answer = await ask(client, question)
            rows.append({"question": question} | checks(answer, named))
            if args.show:
                print(f"\n## {question}\n{answer['content']}")
    c.print_table(["request", "named only", "1..n", "every line cited", "lines", "sections",
                   "documents", "overview ms"],
                  [[r["question"][:60], r["named_only"], r["numbered"], r["every_line_cited"],
                    r["lines"], r["sections"], r["documents"], r["overview_ms"]] for r in rows])
    per_document = rows[:-1]
    return {
        "documents": len(per_document),
        "named_only": sum(r["named_only"] for r in per_document),
        "numbered": sum(r["numbered"] for r in rows),
        "every_line_cited": sum(r["every_line_cited"] for r in rows),
        "overview_ms_p50_per_document": statistics.median(
            r["overview_ms"] for r in per_document if r["overview_ms"] is not None),
        "all_documents": rows[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="the library qa_eval.py ingested")
    parser.add_argument("--show", action="store_true", help="print every summary")
    c.emit_json("qa_overview", asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
