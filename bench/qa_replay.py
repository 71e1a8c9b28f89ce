"""Replay the extractive answerer on the QA set's captured retrievals: seconds instead of a minute.

    cd backend && .venv/bin/python ../bench/qa_replay.py capture --data-dir /tmp/qa-data --out /tmp/qa.json
    cd backend && .venv/bin/python ../bench/qa_replay.py replay /tmp/qa.json [--split tune] \\
        [--answers F] [--compare G]

`capture` runs `qa_eval.py` (same library, same questions, same verdicts) and records, for every
question, what the chat handed the extractive answerer: the sources as retrieved (with the
neighbouring text of cut sentences), the follow-up context and the best passage's similarity.
`replay` answers them again with the code as it is now (`ExtractiveChatModel.answer`, the
"not found" check with the local embedder included, as in the chat) and scores them as qa_eval
does: a change of the answerer's rules is measured in seconds. Retrieval is not re-run, so a
change of chunking, ranking or the number of passages needs a new capture; hit@1 and hit@5 are
the captured ones. Questions are single-turn, so the query searched is the question itself.

`--compare` lists the questions whose verdicts changed against another `--answers` file; the
held-out (test) split's questions only with `--show-test`: rules are chosen on tune.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import _common as c
import qa_eval


async def capture(args: argparse.Namespace) -> None:
    from app.rag.extractive import ExtractiveChatModel

    inputs: dict[str, dict[str, Any]] = {}
    answer = ExtractiveChatModel.answer

    async def recording(self: Any, question: str, sources: Any, **kwargs: Any) -> str:
        inputs[question] = {"sources": [dataclasses.asdict(s) for s in sources],
                            "context": kwargs.get("context"), "relevance": kwargs.get("relevance")}
        return await answer(self, question, sources, **kwargs)

    ExtractiveChatModel.answer = recording  # type: ignore[method-assign]
    try:
        results = await qa_eval.run(args)
    finally:
        ExtractiveChatModel.answer = answer  # type: ignore[method-assign]
    questions = {i["id"]: i["question"] for i in qa_eval.load("all")}
    rows = [r | {"question": questions[r["id"]], "inputs": inputs.get(questions[r["id"]])}
            for r in results["rows"]]
    await asyncio.to_thread(Path(args.out).write_text, json.dumps(rows, ensure_ascii=False))
    print(f"{len(rows)} questions captured -> {args.out}")


async def replay(args: argparse.Namespace) -> list[dict[str, Any]]:
    from app.providers.embeddings.local_onnx import LocalOnnxEmbedder
    from app.rag.extractive import NO_ANSWER, ExtractiveChatModel, sentence_similarity
    from app.rag.grounding import not_found_pointing
    from app.rag.pipeline import _cited_sources
    from app.rag.prompts import Source

    items = {i["id"]: i for i in qa_eval.load("all")}
    embedder = LocalOnnxEmbedder()
    embedder.load()
    model = ExtractiveChatModel()
    rows = []
    for captured in json.loads(await asyncio.to_thread(Path(args.capture).read_text)):
        item = items.get(captured["id"])
        if item is None or (args.split != "all" and item["split"] != args.split):
            continue
        row = {k: captured[k] for k in ("id", "split", "batch", "answerable", "sources")}
        row |= {"split": item["split"], "batch": item.get("batch", 1), "unsupported": []}
        inputs = captured.get("inputs")
        text = ""
        sources = [Source(**s) for s in inputs["sources"]] if inputs else []
        if inputs:
            question = item["question"]

            async def similarity(_: str, sentences: list[str], q: str = question) -> float:
                return await sentence_similarity(embedder, q, sentences)

            text = await model.answer(question, sources, context=inputs["context"],
                                      relevance=inputs["relevance"], similarity=similarity
                                      ) or not_found_pointing(question, sources)
        # Read as the chat reads them: outside code ("`Lst[[1]]`" cites nothing).
        cited = _cited_sources(text, sources)
        row |= {"answer": text or NO_ANSWER, "cited": bool(cited)}
        if row["answerable"]:
            row |= {"hit1": captured["hit1"], "hit5": captured["hit5"]}
        row |= qa_eval.verdicts(item, row["answer"], [(s.filename, s.page, s.text) for s in cited])
        rows.append(row)
    return rows


def compare(rows: list[dict[str, Any]], other: Path, *, show_test: bool) -> None:
    before = {r["id"]: r for r in json.loads(other.read_text())}
    print("\nchanged against", other)
    for row in rows:
        old = before.get(row["id"])
        if old is None or (row["split"] == "test" and not show_test):
            continue
        keys = ("fact", "citation_ok") if row["answerable"] else ("not_found",)
        changes = [f"{k} {old.get(k)} -> {row.get(k)}" for k in keys if old.get(k) != row.get(k)]
        if changes:
            print(f"  {row['id']}: {', '.join(changes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    take = commands.add_parser("capture", help="run qa_eval.py and record the answerer's inputs")
    take.add_argument("--out", required=True)
    take.add_argument("--split", choices=("tune", "test", "all"), default="all")
    take.add_argument("--docs", default=str(c.EVAL / "docs"))
    take.add_argument("--data-dir", help="as qa_eval.py --data-dir (reuse the ingested library)")
    take.add_argument("--timeout", type=float, default=1800)
    again = commands.add_parser("replay", help="answer the captured questions again")
    again.add_argument("capture")
    again.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    again.add_argument("--answers", help="write every answer with its verdicts here")
    again.add_argument("--compare", help="an earlier --answers file (of qa_eval.py or a replay)")
    again.add_argument("--show-test", action="store_true",
                       help="list the held-out questions' changes too")
    args = parser.parse_args()
    if args.command == "capture":
        # qa_eval.run's options that a capture does not vary.
        args.llm, args.sample, args.batch, args.answers, args.llm_threads = "none", 0, 0, None, 2
        asyncio.run(capture(args))
        return
    rows = asyncio.run(replay(args))
    label = "extractive (no LLM), replayed"
    result = qa_eval.report(rows, label)
    if args.answers:
        Path(args.answers).write_text(json.dumps(rows, indent=1, ensure_ascii=False))
    if args.compare:
        compare(rows, Path(args.compare), show_test=args.show_test)
    c.emit_json("qa_replay", {"questions": len(rows), label: result})


if __name__ == "__main__":
    sys.exit(main())
