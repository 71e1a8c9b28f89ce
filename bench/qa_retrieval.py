"""Retrieval alone on the QA set: hit@1, hit@5 and MRR@6 of `retrieve()` for several fusions.

    cd backend && .venv/bin/python ../bench/qa_retrieval.py --data-dir /tmp/qa-data [--split tune]
    cd backend && .venv/bin/python ../bench/qa_retrieval.py --data-dir /tmp/qa-data --weights 0.4 0.5 --rrf

Reuses the library that `qa_eval.py --data-dir` (or `qa_replay.py capture`) ingested there; asks
every answerable question of the split once per setting, as the QA user, with the chat's six
passages, and scores the ranked passages with qa_eval's own acceptance rule (document and page,
or the labelled evidence sentence in the passage). Settings are chosen on tune, like the answerer's
rules; the hybrid weight's default is 0.5 (DESIGN §5, chosen on SciFact train).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

import _common as c
import qa_eval

PASSAGES = 6  # what the chat hands the answerer


async def run(args: argparse.Namespace) -> list[dict[str, Any]]:
    from app.rag.retrieval import Fusion, retrieve

    items = [i for i in qa_eval.load(args.split) if i.get("answerable", True)]
    data_dir = Path(args.data_dir)
    if not (data_dir / ".qa-library-ready").is_file():
        raise SystemExit(f"no QA library in {data_dir}: run qa_eval.py --data-dir {data_dir} first")
    settings = c.bench_settings(data_dir, access_token_minutes=24 * 60)
    configs: list[tuple[Fusion, float]] = [("score", w) for w in args.weights]
    if args.rrf:
        configs.append(("rrf", 0.5))
    results = []
    async with c.app_client(settings) as (app, client):
        await c.sign_in(client, "qa@example.com")
        user = (await client.get("/api/v1/auth/me")).json()["id"]
        container = app.state.container
        for fusion, weight in configs:
            hit1 = hit5 = 0
            rr = 0.0
            for item in items:
                async with container.sessions() as session:
                    found = await retrieve(session, container, owner_id=user, query=item["question"],
                                           k=PASSAGES, fusion=fusion, weight=weight, floor=0.0)
                ok = [qa_eval.acceptable(item, ch.filename, ch.page, ch.text) for ch in found.chunks]
                hit1 += bool(ok[:1] and ok[0])
                hit5 += any(ok[:5])
                rr += next((1 / (i + 1) for i, good in enumerate(ok) if good), 0.0)
            n = len(items)
            results.append({"fusion": fusion, "weight": weight if fusion == "score" else None,
                            "questions": n, "hit1": hit1, "hit5": hit5, "mrr6": round(rr / n, 3)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="the library qa_eval.py ingested")
    parser.add_argument("--split", choices=("tune", "test", "all"), default="tune")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
                        help="dense weights of score fusion to try")
    parser.add_argument("--rrf", action="store_true", help="reciprocal rank fusion as well")
    args = parser.parse_args()
    rows = asyncio.run(run(args))
    c.print_table(["fusion", "weight", "questions", "hit@1", "hit@5", "MRR@6"], [
        [r["fusion"], r["weight"] if r["weight"] is not None else "-", r["questions"],
         f"{r['hit1']} ({100 * r['hit1'] / r['questions']:.0f} %)",
         f"{r['hit5']} ({100 * r['hit5'] / r['questions']:.0f} %)", r["mrr6"]] for r in rows])
    c.emit_json("qa_retrieval", {"split": args.split, "settings": rows})


if __name__ == "__main__":
    main()
