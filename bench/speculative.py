"""Benchmark: speculative decoding on the embedded engine (a draft model, n-gram lookup) against none.

The workload is the section requests of the drafting cassettes (recorded from the model named in
cassettes/model.json: real prompts, JSON schemas, budgets and sampling settings), sent one after the
other to one llama.cpp server per setting with one slot. Prints, per setting: load seconds, wall
seconds, completion tokens, tokens per wall second, proposed and accepted draft tokens, and the speed
relative to no speculation in the same run.

Run: ``python bench/speculative.py [--model NAME | --model-path GGUF] [--draft-model GGUF]
[--kinds none,ngram-simple,...] [--requests N]``. ``--draft-model`` defaults to the pulled
qwen2.5-coder-0.5b-instruct (same tokenizer as the 1.5B); the ``draft`` kind is skipped without one.
Not a timed test: compare the ratios of one run on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.llm.embedded import (  # noqa: E402
    SPECULATION_KINDS,
    EmbeddedServer,
    EmbeddedSettings,
    Speculation,
)
from agent.models.catalog import find_model  # noqa: E402
from agent.models.store import installed_path  # noqa: E402

CASSETTES = ROOT / "cassettes"


@dataclass
class Run:
    kind: str
    load_s: float
    wall_s: float
    tokens: int
    proposed: int
    accepted: int


def workload(limit: int) -> list[dict[str, Any]]:
    """The chat-completion request bodies of the drafting cassettes, in recording order."""
    bodies: list[dict[str, Any]] = []
    for path in sorted((CASSETTES / "test_drafting").glob("*.yaml")):
        for interaction in yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]:
            request = interaction["request"]
            if request["uri"].endswith("/chat/completions"):
                bodies.append(json.loads(request["body"]))
    return bodies[:limit]


def pulled(name: str) -> Path | None:
    return installed_path(find_model(name))


def run_kind(model: Path, kind: str, draft: Path | None, bodies: list[dict[str, Any]]) -> Run:
    speculation = None if kind == "none" else Speculation(kind, draft_model=draft)
    settings = EmbeddedSettings(model_path=model, model_name="bench", slots=1, speculation=speculation)
    started = time.perf_counter()
    with EmbeddedServer(settings) as server:
        load = time.perf_counter() - started
        tokens = proposed = accepted = 0
        started = time.perf_counter()
        with httpx.Client(base_url=server.base_url, timeout=900) as http:
            for body in bodies:
                reply = http.post("/chat/completions", json={**body, "model": "bench"}).json()
                tokens += int(reply["usage"]["completion_tokens"])
                timings = reply.get("timings", {})
                proposed += int(timings.get("draft_n", 0))
                accepted += int(timings.get("draft_n_accepted", 0))
                print(".", end="", flush=True)
        wall = time.perf_counter() - started
    print()
    return Run(kind, load, wall, tokens, proposed, accepted)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="qwen2.5-coder-1.5b-instruct", help="A pulled catalogue model.")
    parser.add_argument("--model-path", type=Path, help="Any GGUF file (instead of --model).")
    parser.add_argument("--draft-model", type=Path, help="Draft GGUF (default: the pulled Coder 0.5B).")
    parser.add_argument("--kinds", default="none," + ",".join(SPECULATION_KINDS))
    parser.add_argument("--requests", type=int, default=6, help="How many cassette requests to send.")
    args = parser.parse_args()
    model = args.model_path or pulled(args.model)
    if model is None:
        print(f"{args.model} is not pulled: run `specdraft models pull {args.model}`.", file=sys.stderr)
        return 2
    draft = args.draft_model or pulled("qwen2.5-coder-0.5b-instruct")
    bodies = workload(args.requests)
    recorded = json.loads((CASSETTES / "model.json").read_text(encoding="utf-8"))["name"]
    print(f"model {model.name}; draft model {draft.name if draft else '(none)'}")
    print(f"workload: {len(bodies)} section requests recorded from {recorded}, one slot, sent in turn")
    runs: list[Run] = []
    for kind in args.kinds.split(","):
        if kind == "draft" and draft is None:
            print("draft: skipped (no draft model; pull qwen2.5-coder-0.5b-instruct or give --draft-model)")
            continue
        print(f"{kind}: ", end="", flush=True)
        runs.append(run_kind(model, kind, draft, bodies))
    base = next((r for r in runs if r.kind == "none"), None)
    header = ("setting", "load s", "wall s", "tokens", "tok/s", "accepted", "vs none")
    print("\n{:<13} {:>6} {:>7} {:>6} {:>6} {:>13} {:>7}".format(*header))
    for run in runs:
        speed = run.tokens / run.wall_s
        ratio = f"{speed / (base.tokens / base.wall_s):.2f}x" if base else "-"
        accepted = f"{run.accepted}/{run.proposed}" if run.proposed else "-"
        print(
            f"{run.kind:<13} {run.load_s:>6.1f} {run.wall_s:>7.1f} {run.tokens:>6} {speed:>6.1f} "
            f"{accepted:>13} {ratio:>7}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
