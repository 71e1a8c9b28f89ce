"""Citation precision as issue 14 defines it — the cited passage supports the sentence — judged by
a reader, not by the grounding rule that placed the citations.

    cd backend && .venv/bin/python ../bench/citation_support.py pairs /tmp/llm.json --out pairs.jsonl
    cd backend && .venv/bin/python ../bench/citation_support.py pairs /tmp/llm.json --replay --out …
    # a reviewer reads pairs.blind.jsonl and writes judged.jsonl:
    #   {"pair": N, "verdict": "supports" | "partly" | "no"} per line
    cd backend && .venv/bin/python ../bench/citation_support.py score pairs.jsonl judged.jsonl

`pairs` cuts every stored answer of a `qa_eval.py --llm … --answers` file (answerable questions)
into sentences as grounding does (`app.rag.grounding._units`) and writes one line per (sentence,
cited source): the question, the sentence without its markers, the source's text, and whether the
source is *acceptable* for the question (qa_eval's automatic, stricter proxy: the question's own
document and page). With `--replay`, the answers are grounded again from what the model streamed,
by the current code (`grounding_thresholds.replay`, exactly as the chat does it), so a change of
the grounding rule is judged on the same generations. Lines are written in a shuffled, fixed
order, and `*.blind.jsonl` beside the output holds only what the reviewer reads (the question,
the sentence, the passage), so each pair is judged on its own. `score` reports the
share judged "supports" (and with "partly" counted as support), next to the acceptable-page share
of the same citations.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
from pathlib import Path
from typing import Any

import _common as c

_MARKER = re.compile(r"\[(\d{1,3})\]")
_CODE = re.compile(r"(`[^`\n]+`)")
_SPACE_BEFORE_STOP = re.compile(r"\s+([.!?,;:])(?=\s|$)")


def pairs(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from app.rag.citations import repair_citations
    from app.rag.grounding import UNSUPPORTED_MARK, _units

    out = []
    for row in rows:
        if not row.get("answerable", True) or not row.get("source_list"):
            continue
        sources = {s["index"]: s for s in row["source_list"]}
        for piece, is_sentence in _units(row["answer"].replace(UNSUPPORTED_MARK, "")):
            if not is_sentence:
                continue
            # Without its markers, as a reader sees it (code keeps its own: "inp[[1]]").
            bare = "".join(part if n % 2 else _MARKER.sub("", part)
                           for n, part in enumerate(_CODE.split(piece)))
            sentence = _SPACE_BEFORE_STOP.sub(r"\1", " ".join(bare.split()))
            # The markers the app reads as citations (never those inside code: R's "[1]").
            for index in repair_citations(piece, set(sources)).cited:
                if index in sources:
                    out.append({"id": row["id"], "split": row["split"],
                                "question": row["question"], "sentence": sentence,
                                "source": index, "passage": sources[index]["text"],
                                "acceptable": sources[index]["acceptable"]})
    random.Random(14).shuffle(out)  # noqa: S311 - an order for reading, not a secret
    return [{"pair": n} | p for n, p in enumerate(out)]


async def regrounded(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from grounding_thresholds import CachedEmbedder, replay

    embed = CachedEmbedder()
    return [row | {"answer": (await replay(row, embed))["text"]} if row.get("source_list") else row
            for row in rows]


def score(judged: list[dict[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    rows = []
    for split in sorted({p["split"] for p in judged}):
        mine = [p for p in judged if p["split"] == split]
        verdicts = [p.get("verdict") for p in mine]
        if None in verdicts:
            raise SystemExit(f"{verdicts.count(None)} pairs of {split} have no verdict")
        n = len(mine)
        supports = verdicts.count("supports")
        partly = verdicts.count("partly")
        acceptable = sum(1 for p in mine if p["acceptable"])
        result[split] = {"pairs": n, "supports": supports / n, "supports_or_partly":
                         (supports + partly) / n, "acceptable_page": acceptable / n}
        rows.append([split, n, f"{supports}/{n} ({100 * supports / n:.0f} %)",
                     f"{supports + partly}/{n} ({100 * (supports + partly) / n:.0f} %)",
                     f"{acceptable}/{n} ({100 * acceptable / n:.0f} %)"])
    c.print_table(["split", "cited (sentence, source) pairs", "judged: supports",
                   "supports or partly", "on an acceptable page (proxy)"], rows)
    return result


def _lines(path: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("pairs", help="write the pairs to judge")
    make.add_argument("answers", nargs="+", help="--answers files of qa_eval.py --llm")
    make.add_argument("--out", required=True)
    make.add_argument("--replay", action="store_true",
                      help="ground the streamed answers again with the current rule")
    judge = sub.add_parser("score", help="score the pairs with the reviewer's verdicts")
    judge.add_argument("pairs")
    judge.add_argument("judged")
    args = parser.parse_args()
    if args.command == "pairs":
        rows = [r for f in args.answers for r in json.loads(Path(f).read_text())]
        if args.replay:
            rows = asyncio.run(regrounded(rows))
        found = pairs(rows)
        out = Path(args.out)
        out.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in found))
        out.with_suffix(".blind.jsonl").write_text("".join(
            json.dumps({k: p[k] for k in ("pair", "question", "sentence", "passage")},
                       ensure_ascii=False) + "\n" for p in found))
        print(f"{len(found)} pairs -> {args.out}, {out.with_suffix('.blind.jsonl')}")
    else:
        verdicts = {v["pair"]: v["verdict"] for v in _lines(args.judged)}
        c.emit_json("citation_support", score(
            [p | {"verdict": verdicts.get(p["pair"])} for p in _lines(args.pairs)]))


if __name__ == "__main__":
    main()
