"""Choose the grounding thresholds (app/rag/grounding.py) by measurement on the QA set's tune split.

    cd backend && .venv/bin/python ../bench/qa_eval.py --llm smollm2 --answers /tmp/llm.json
    cd backend && .venv/bin/python ../bench/grounding_thresholds.py /tmp/llm.json

`qa_eval.py --llm` records, for every question, the answer as the model streamed it (before
grounding) and every source it was given, with the chunk's text and whether it is *acceptable*
(the question's document, on an acceptable page or holding the evidence sentence). Grounding is a
deterministic step after generation, so it can be replayed here on the same answers with other
thresholds, exactly as `answer_events` runs it (Grounder over the streamed text, the real
embedder, `cite_something` when nothing ends up cited, `repair_citations`). For each combination:

- **citation precision**: of all citations of the answerable questions, the share acceptable;
- **fact sentences kept**: of the checked sentences that state one of the question's expected
  facts (true claims), the share *not* flagged unsupported;
- **flagged**: the share of checked sentences flagged unsupported.

The rule: highest tune precision; within 0.01 of it, the most fact sentences kept; then the
fewest flagged. The chosen thresholds are then reported on the test split (never chosen there).
First, the replay with the thresholds the run used must reproduce the run's own citations.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
from pathlib import Path
from typing import Any

import _common as c
from qa_eval import QA_FILE, has_facts

LEXICAL = (0.4, 0.5, 0.6, 0.7, 0.8, 1.01)  # 1.01: lexical overlap alone never supports
LEXICAL_WITH_EMBEDDING = (0.0, 0.2, 0.3, 0.4, 0.5)
EMBEDDING = (0.4, 0.5, 0.55, 0.6, 0.7, 0.8, 1.01)  # 1.01: embedding never helps


class CachedEmbedder:
    """The real local embedder, each distinct text embedded once across the whole sweep."""

    def __init__(self) -> None:
        from app.providers.embeddings.local_onnx import LocalOnnxEmbedder

        self._embedder = LocalOnnxEmbedder()
        self._cache: dict[str, list[float]] = {}

    async def embed(self, texts: list[str]) -> list[list[float]]:
        todo = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if todo:
            for text, vector in zip(todo, await self._embedder.embed_documents(todo), strict=True):
                self._cache[text] = list(vector)
        return [self._cache[t] for t in texts]


async def replay(row: dict[str, Any], embed: CachedEmbedder) -> dict[str, Any]:
    """Grounding of one recorded answer, as `answer_events` does it."""
    from app.rag.citations import close_fences, repair_citations
    from app.rag.grounding import Grounder, _units, cite_something
    from app.rag.prompts import Source

    sources = [Source(index=s["index"], document_id=s["document_id"], filename=s["filename"],
                      page=s["page"], chunk_id=s["chunk_id"], text=s["text"], score=s["score"])
               for s in row["source_list"]]
    grounder = Grounder(sources, embed=embed.embed)
    grounder.feed(row["streamed"])
    grounded = await grounder.finish()
    text = grounded.text.strip()
    if not grounded.cited:
        text = ((close_fences(text) + "\n\n") if text else "") + cite_something(
            row["question"], sources)
    cited = repair_citations(text, {s.index for s in sources}).cited
    sentences = [p.strip() for p, is_sentence in _units(row["streamed"]) if is_sentence]
    return {"cited": cited, "unsupported": grounded.unsupported, "checked": grounded.checked,
            "sentences": sentences, "text": text}


def score(rows: list[dict[str, Any]], results: dict[str, dict[str, Any]],
          facts: dict[str, list[Any]]) -> dict[str, float]:
    n = ok = checked = flagged = fact_sentences = fact_kept = 0
    for row in rows:
        res = results[row["id"]]
        checked += res["checked"]
        flagged += len(res["unsupported"])
        if not row["answerable"]:
            continue
        acceptable = {s["index"] for s in row["source_list"] if s["acceptable"]}
        n += len(res["cited"])
        ok += sum(1 for i in res["cited"] if i in acceptable)
        for sentence in res["sentences"]:
            if any(has_facts([f], sentence) for f in facts[row["id"]]):
                fact_sentences += 1
                bare = " ".join(sentence.split())
                fact_kept += not any(" ".join(u.split()) in bare for u in res["unsupported"])
    return {"precision": ok / n if n else 0.0, "citations": n,
            "fact_kept": fact_kept / fact_sentences if fact_sentences else 1.0,
            "fact_sentences": fact_sentences, "flagged": flagged / checked if checked else 0.0,
            "checked": checked}


async def sweep(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from app.rag import grounding

    facts = {json.loads(line)["id"]: json.loads(line).get("facts", [])
             for line in QA_FILE.read_text().splitlines() if line.strip()}
    rows = [r for r in rows if r.get("source_list")]
    embed = CachedEmbedder()
    used = (grounding.LEXICAL_SUPPORT, grounding.LEXICAL_WITH_EMBEDDING, grounding.EMBEDDING_SUPPORT)

    async def run(lex: float, lex_emb: float, emb: float) -> dict[str, dict[str, Any]]:
        grounding.LEXICAL_SUPPORT, grounding.LEXICAL_WITH_EMBEDDING = lex, lex_emb
        grounding.EMBEDDING_SUPPORT = emb
        return {r["id"]: await replay(r, embed) for r in rows}

    base = await run(*used)
    live = {r["id"]: sorted(r.get("live_cited", [])) for r in rows}
    mismatches = [i for i in base if "live_cited" in next(r for r in rows if r["id"] == i)
                  and sorted(base[i]["cited"]) != live[i]]
    tune = [r for r in rows if r["split"] == "tune"]
    test = [r for r in rows if r["split"] == "test"]
    grid = []
    for combo in itertools.product(LEXICAL, LEXICAL_WITH_EMBEDDING, EMBEDDING):
        if combo[1] > combo[0]:
            continue
        results = await run(*combo)
        grid.append((combo, score(tune, results, facts), results))
    best = max(g[1]["precision"] for g in grid)
    near = [g for g in grid if g[1]["precision"] >= best - 0.01]
    chosen = max(near, key=lambda g: (round(g[1]["fact_kept"], 4), -g[1]["flagged"],
                                      -abs(g[0][0] - used[0]) - abs(g[0][2] - used[2])))
    grounding.LEXICAL_SUPPORT, grounding.LEXICAL_WITH_EMBEDDING, grounding.EMBEDDING_SUPPORT = used
    return {"rows": len(rows), "replay_mismatches": mismatches, "used": used,
            "used_tune": score(tune, base, facts), "used_test": score(test, base, facts),
            "chosen": chosen[0], "chosen_tune": chosen[1],
            "chosen_test": score(test, chosen[2], facts),
            "grid": [{"lexical": g[0][0], "lexical_with_embedding": g[0][1], "embedding": g[0][2],
                      **{k: round(v, 4) for k, v in g[1].items()}} for g in grid]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("answers", help="the --answers file of `qa_eval.py --llm ...`")
    parser.add_argument("--grid-out", help="write every combination's tune figures here (JSON)")
    args = parser.parse_args()
    rows = json.loads(Path(args.answers).read_text())
    out = asyncio.run(sweep(rows))
    grid = out.pop("grid")
    if args.grid_out:
        Path(args.grid_out).write_text(json.dumps(grid, indent=1))
    top = sorted(grid, key=lambda g: (-g["precision"], -g["fact_kept"], g["flagged"]))[:12]
    c.print_table(["lexical", "lex+emb", "embedding", "tune precision", "citations", "fact kept",
                   "flagged"], [[g["lexical"], g["lexical_with_embedding"], g["embedding"],
                                 round(g["precision"], 3), g["citations"], round(g["fact_kept"], 3),
                                 round(g["flagged"], 3)] for g in top])
    for label in ("used_tune", "used_test", "chosen_tune", "chosen_test"):
        print(label, {k: round(v, 3) if isinstance(v, float) else v for k, v in out[label].items()})
    print("used", out["used"], "chosen", out["chosen"], "replay mismatches", out["replay_mismatches"])
    c.emit_json("grounding_thresholds", out)


if __name__ == "__main__":
    main()
