"""Answer quality on the project's own QA set (`bench/qa/questions.jsonl`), through the real app.

    cd backend && .venv/bin/python ../bench/qa_eval.py                       # extractive (no LLM)
    cd backend && .venv/bin/python ../bench/qa_eval.py --split test          # the held-out part only
    cd backend && .venv/bin/python ../bench/qa_eval.py --llm smollm2         # local SmolLM2 server

One embedded-profile app in a temp data dir, one user, every document the set names uploaded once
(the user's library: each question is asked against all of it, scope "everything I can read").
For each answerable question:

- **hit@1 / hit@5** (`POST /search`): a result is *acceptable* when it comes from the question's
  document and either lies on one of its acceptable pages (paginated formats) or its text contains
  the question's evidence sentence (every format);
- **fact in answer** (a new conversation, `POST .../messages`, the final `citations` event): every
  expected fact appears in the answer (case-insensitive, whitespace-normalised; a fact written as a
  list is met by any one of its wordings);
- **acceptable citation**: at least one citation of the answer is acceptable (as above);
- **cited**: the answer carries at least one citation (with an LLM, answers without any are the
  failure issue 14 names).

For each unanswerable question: **not found** = the answer says so (no citation, or the product's
"could not find" wording). Questions are split `tune` (rules may be chosen on them) / `test`
(held out: report these). The set was written from `shared/eval/docs` (several formats), and every
evidence string was checked to occur on the stated page of the extracted text.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import tempfile
from pathlib import Path
from typing import Any

import _common as c

QA_FILE = Path(__file__).with_name("qa") / "questions.jsonl"
NOT_FOUND = re.compile(r"could(?: not|n['’]t) find|not found in your documents", re.IGNORECASE)


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().lower()


def load(split: str, sample: int = 0, batch: int = 0) -> list[dict[str, Any]]:
    """The split's questions (of one `batch` only, when given: 1 = the lines with no "batch"
    field); with `sample`, about that many spread evenly over the file (every n-th, so each
    document keeps its share): a shorter run for a slow model."""
    items = [json.loads(line) for line in QA_FILE.read_text().splitlines() if line.strip()]
    chosen = [i for i in items if (split == "all" or i["split"] == split)
              and (not batch or i.get("batch", 1) == batch)]
    return chosen[:: -(-len(chosen) // sample)] if 0 < sample < len(chosen) else chosen


def has_facts(facts: list[str | list[str]], answer: str) -> bool:
    """Every fact is in the answer; a fact given as a list is met by any one of its wordings."""
    text = norm(answer)
    return all(any(norm(w) in text for w in ([f] if isinstance(f, str) else f)) for f in facts)


def acceptable(item: dict[str, Any], filename: str, page: int | None, text: str) -> bool:
    if filename != Path(item["document"]).name:
        return False
    if page is not None and page in item.get("pages", ()):
        return True
    return norm(item["evidence"]) in norm(text)


def verdicts(item: dict[str, Any], content: str,
             cited: list[tuple[str, int | None, str]]) -> dict[str, Any]:
    """An answer's verdicts: for an answerable question, the fact and the acceptability of each
    cited (filename, page, chunk text); for an unanswerable one, whether it said "not found"."""
    if not item.get("answerable", True):
        return {"not_found": not cited or bool(NOT_FOUND.search(content))}
    ok = [acceptable(item, filename, page, text) for filename, page, text in cited]
    # citation precision: of all citations, the share on an acceptable document+page
    return {"fact": has_facts(item["facts"], content), "citation_ok": any(ok),
            "citations_n": len(ok), "citations_ok_n": sum(ok)}


async def chunk_texts(app: Any, chunk_ids: list[str]) -> dict[str, str]:
    from sqlalchemy import select

    from app.documents.models import Chunk

    if not chunk_ids:
        return {}
    async with app.state.container.sessions() as session:
        rows = (await session.execute(select(Chunk.id, Chunk.text).where(Chunk.id.in_(chunk_ids)))).all()
    return {cid: text for cid, text in rows}


async def ask(client: Any, question: str) -> dict[str, Any]:
    """One question in a new conversation; the final answer and its citations."""
    final: dict[str, Any] = {}
    sources: list[Any] = []
    streamed: list[str] = []
    async for event, data in c.chat_events(client, question):
        if event == "citations":
            final = data
        elif event == "sources":
            sources = data.get("sources", [])
        elif event == "token":
            streamed.append(data.get("text", ""))
        elif event == "error":
            raise SystemExit(f"chat error: {data}")
    # `streamed` is the answer as generated (before grounding), kept so that grounding rules can
    # be replayed on it offline (bench/grounding_thresholds.py).
    return {"content": final.get("content", ""), "citations": final.get("citations", []),
            "unsupported": final.get("unsupported", []), "sources": sources,
            "streamed": "".join(streamed)}


async def evaluate(app: Any, client: Any, items: list[dict[str, Any]], *,
                   record: bool = False, progress: Path | None = None) -> list[dict[str, Any]]:
    rows = []
    for item in items:
        answer = await ask(client, item["question"])
        texts = await chunk_texts(app, [x["chunk_id"] for x in answer["sources"]])
        row: dict[str, Any] = {"id": item["id"], "split": item["split"],
                               "batch": item.get("batch", 1),
                               "answerable": item.get("answerable", True),
                               "cited": bool(answer["citations"]),
                               "sources": len(answer["sources"]), "answer": answer["content"],
                               "unsupported": answer["unsupported"]}
        if record:  # what a replay of the grounding needs: the raw answer and every source
            row["question"] = item["question"]
            row["streamed"] = answer["streamed"]
            row["live_cited"] = [x["index"] for x in answer["citations"]]
            row["source_list"] = [
                {k: x[k] for k in ("index", "document_id", "filename", "page", "chunk_id", "score")}
                | {"text": texts.get(x["chunk_id"], ""),
                   "acceptable": item.get("answerable", True)
                   and acceptable(item, x["filename"], x["page"], texts.get(x["chunk_id"], ""))}
                for x in answer["sources"]]
        if row["answerable"]:
            r = await client.post("/api/v1/search", json={"query": item["question"], "k": 5})
            hits = r.json()["results"]
            ok = [acceptable(item, h["filename"], h["page"], h["text"]) for h in hits]
            row.update({"hit1": bool(ok[:1] and ok[0]), "hit5": any(ok[:5])})
        row.update(verdicts(item, answer["content"], [
            (x["filename"], x["page"], texts.get(x["chunk_id"], "")) for x in answer["citations"]]))
        rows.append(row)
        if progress is not None:  # a long (LLM) run keeps what it has if interrupted
            await asyncio.to_thread(progress.write_text, json.dumps(rows, indent=1, ensure_ascii=False))
    return rows


def share(rows: list[dict[str, Any]], key: str) -> str:
    if not rows:
        return "-"
    n = sum(1 for r in rows if r[key])
    return f"{n}/{len(rows)} ({100 * n / len(rows):.0f} %)"


def precision(rows: list[dict[str, Any]]) -> str:
    """Citation precision: of all the citations of these answers, the share that is acceptable."""
    n = sum(r.get("citations_n", 0) for r in rows)
    ok = sum(r.get("citations_ok_n", 0) for r in rows)
    return f"{ok}/{n} ({100 * ok / n:.0f} %)" if n else "-"


def report(rows: list[dict[str, Any]], label: str) -> dict[str, Any]:
    result: dict[str, Any] = {}
    print(f"\n== {label}")
    table = []
    # Each split, then each of its batches when it has several (a batch written later, blind to
    # the rules chosen meanwhile, is the fairest held-out figure).
    groups: list[tuple[str, list[dict[str, Any]]]] = []
    for split in ("tune", "test"):
        of_split = [r for r in rows if r["split"] == split]
        groups.append((split, of_split))
        batches = sorted({r.get("batch", 1) for r in of_split})
        if len(batches) > 1:
            groups += [(f"{split}, batch {b}", [r for r in of_split if r.get("batch", 1) == b])
                       for b in batches]
    for split, group in groups:
        ans = [r for r in group if r["answerable"]]
        neg = [r for r in group if not r["answerable"]]
        with_sources = [r for r in ans if r["sources"]]
        any_sources = [r for r in group if r["sources"]]
        flagged = sum(len(r.get("unsupported", ())) for r in group)
        table.append([split, len(ans), share(ans, "hit1"), share(ans, "hit5"), share(ans, "fact"),
                      share(ans, "citation_ok"), precision(ans), share(with_sources, "cited"),
                      share(any_sources, "cited"), share(neg, "not_found"), flagged])
        result[split] = {k: share(ans, k) for k in ("hit1", "hit5", "fact", "citation_ok")}
        result[split]["citation_precision"] = precision(ans)
        result[split]["cited_when_sources"] = share(with_sources, "cited")
        result[split]["cited_when_sources_all"] = share(any_sources, "cited")
        result[split]["not_found"] = share(neg, "not_found")
        result[split]["flagged_sentences"] = flagged
    c.print_table(["split", "questions", "hit@1", "hit@5", "fact in answer", "acceptable citation",
                   "citation precision", "cited (sources retrieved)", "cited (incl. unanswerable)",
                   "not found (unanswerable)", "flagged sentences"], table)
    # The held-out questions stay unnamed: rules are chosen on tune.
    misses = [r["id"] for r in rows if r["answerable"] and not r["fact"] and r["split"] == "tune"]
    print(f"fact missing (tune): {', '.join(misses) or 'none'}")
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    items = load(args.split, args.sample, args.batch)
    docs_dir = Path(args.docs)
    # Every document of the set, whatever the split: the library a question is asked against.
    paths = sorted({docs_dir / i["document"] for i in load("all") if i.get("answerable", True)})
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"not found: {missing}")
    results: dict[str, Any] = {"questions": len(items)}
    with tempfile.TemporaryDirectory(prefix="citewise-bench-qa-") as tmp:
        data_dir = Path(args.data_dir) if args.data_dir else Path(tmp) / "data"
        ready = data_dir / ".qa-library-ready"  # --data-dir: the library ingested by an earlier run
        proc = None
        overrides: dict[str, Any] = {}
        if args.llm == "smollm2":
            from chat_latency import start_model_server

            proc, base = await start_model_server(Path(tmp), "llama", args.llm_threads)
            overrides = {"llm_base_url": base, "llm_model": "smollm2",
                         "llm_max_tokens": args.llm_max_tokens}
        try:
            settings = c.bench_settings(data_dir, access_token_minutes=24 * 60, **overrides)
            async with c.app_client(settings) as (app, client):
                if ready.is_file():
                    await c.sign_in(client, "qa@example.com")
                else:
                    await c.register(client, "qa@example.com")
                    per = settings.max_files_per_upload
                    docs = []
                    for start in range(0, len(paths), per):
                        docs += await c.upload_and_wait(client, paths[start:start + per],
                                                        limit_s=args.timeout)
                    failed = [d["filename"] for d in docs if d["status"] != "ready"]
                    if failed:
                        raise SystemExit(f"documents failed: {failed}")
                    ready.touch()
                rows = await evaluate(app, client, items, record=args.llm != "none",
                                      progress=Path(args.answers) if args.answers else None)
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
    label = "extractive (no LLM)" if args.llm == "none" else f"generation ({args.llm})"
    results[label] = report(rows, label)
    results["rows"] = rows
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", choices=("tune", "test", "all"), default="all")
    parser.add_argument("--docs", default=str(c.EVAL / "docs"), help="the evaluation corpus")
    parser.add_argument("--llm", choices=("none", "smollm2"), default="none")
    parser.add_argument("--llm-threads", type=int, default=2)
    parser.add_argument("--llm-max-tokens", type=int, default=700,
                        help="the answer length limit (the product default is 700)")
    parser.add_argument("--batch", type=int, default=0,
                        help="only the questions of this batch (1: the first one; 0: all)")
    parser.add_argument("--sample", type=int, default=0,
                        help="about this many of the split's questions, every n-th (0: all)")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--data-dir", help="keep the app's data here and reuse its library on the "
                        "next run (ingest once, then iterate on answering; all splits' documents)")
    parser.add_argument("--answers", help="write every answer and its verdicts to this JSON file")
    args = parser.parse_args()
    results = asyncio.run(run(args))
    rows = results.pop("rows")
    if args.answers:
        Path(args.answers).write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    c.emit_json("qa_eval", results)


if __name__ == "__main__":
    main()
