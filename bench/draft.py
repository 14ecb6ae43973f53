"""Benchmark: a naive drafting layout against specdraft's default, on the embedded model.

(a) naive: sequential, section instructions first (no shared prefix), llama.cpp prompt cache off,
    no response cache;
(b) specdraft default: shared cacheable prefix, independent sections concurrently, an empty
    response cache (a first draft of a new brief);
(c) lower bound: (b)'s completion tokens at the model's measured generation rate;
(d) (b) run again on the same brief: every request repeats one of (b)'s, so every answer comes from
    the response cache.

Prints one table. Not a timed test: run it with `make bench` and compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.drafting.brief import load_brief  # noqa: E402
from agent.drafting.drafter import Drafter, DraftOptions, DraftResult  # noqa: E402
from agent.llm.client import ChatClient  # noqa: E402
from agent.llm.providers import Endpoint, ModelSettings, open_endpoint  # noqa: E402
from agent.llm.response_cache import ResponseCache  # noqa: E402
from agent.specdoc.template_resolver import load_template  # noqa: E402


def busy_seconds(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of the intervals: time with at least one model call in flight."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def in_flight_seconds(intervals: list[tuple[float, float]], start: float, end: float) -> dict[int, float]:
    """Seconds of the run spent with k model calls in flight, per k (0 = no call: agent overhead)."""
    edges = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    result: dict[int, float] = {}
    level, at = 0, start
    for when, step in edges:
        result[level] = result.get(level, 0.0) + max(0.0, when - at)
        level, at = level + step, when
    result[level] = result.get(level, 0.0) + max(0.0, end - at)
    return result


def run(
    endpoint: Endpoint,
    settings: ModelSettings,
    options: DraftOptions,
    brief_path: Path,
    cache: ResponseCache | None,
) -> tuple[DraftResult, float, float]:
    brief = load_brief(brief_path)
    template = load_template("tech-spec")
    client = ChatClient(endpoint, settings, cache)
    started = time.perf_counter()
    result = asyncio.run(Drafter(client, brief, template, options).draft())
    ended = time.perf_counter()
    wall = ended - started
    if client.call_intervals:
        levels = in_flight_seconds(client.call_intervals, started, ended)
        shown = ", ".join(f"{k}: {v:.0f} s" for k, v in sorted(levels.items()))
        print(f"  calls in flight -> seconds: {shown}", file=sys.stderr)
    return result, wall, busy_seconds(client.call_intervals)


def generation_rate(endpoint: Endpoint, settings: ModelSettings, parallel: int) -> float:
    """Generated tokens per second with ``parallel`` plain requests of 200 tokens in flight."""
    import openai

    async def measure() -> float:
        client = openai.AsyncOpenAI(base_url=endpoint.base_url, api_key=endpoint.api_key.get_secret_value())
        started = time.perf_counter()
        answers = await asyncio.gather(
            *[
                client.chat.completions.create(
                    model=endpoint.model,
                    messages=[{"role": "user", "content": f"Write a long story number {i}."}],
                    max_tokens=200,
                    extra_body={"ignore_eos": True},
                )
                for i in range(parallel)
            ]
        )
        elapsed = time.perf_counter() - started
        await client.close()
        return sum(a.usage.completion_tokens for a in answers if a.usage) / elapsed

    return asyncio.run(measure())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--brief", type=Path, default=ROOT / "examples" / "briefs" / "team-invitations.md")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument(
        "--skip-naive",
        action="store_true",
        help="run only (b), (c) and (d): the default draft against its lower bound (no long naive run)",
    )
    args = parser.parse_args()

    # The response cache is given explicitly per run: none for (a), a fresh directory for (b) and (d).
    settings = ModelSettings(slots=args.parallel, use_cache=False)
    cache = ResponseCache(Path(tempfile.mkdtemp(prefix="specdraft-bench-cache-")), 200 * 1024 * 1024)
    rows = []
    with open_endpoint(settings) as endpoint:
        print(
            f"model {endpoint.model} loaded in {endpoint.load_seconds:.1f} s; measuring ...", file=sys.stderr
        )
        rate_1 = generation_rate(endpoint, settings, 1)
        rate_n = generation_rate(endpoint, settings, args.parallel)
        default = DraftOptions(parallel=args.parallel, keep_going=True)
        runs = [
            ("(a) naive", DraftOptions(parallel=1, naive_layout=True, keep_going=True), None),
            ("(b) specdraft", default, cache),
            ("(d) again", default, cache),
        ]
        for name, options, run_cache in runs[1:] if args.skip_naive else runs:
            print(f"drafting {name} ...", file=sys.stderr)
            result, wall, busy = run(endpoint, settings, options, args.brief, run_cache)
            rows.append((name, result, wall, busy))
    shutil.rmtree(cache.directory, ignore_errors=True)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    header = (
        f"{'run':<15}{'wall s':>9}{'prompt':>9}{'cached':>9}{'compl.':>9}"
        f"{'calls':>7}{'retries':>9}{'overhead':>10}{'cache hits':>12}"
    )
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"Generation rate: {rate_1:.1f} tok/s (1 request), {rate_n:.1f} tok/s ({args.parallel} in parallel)"
    )
    print(header)
    for name, result, wall, busy in rows:
        usage = result.usage
        overhead = max(0.0, wall - busy)
        print(
            f"{name:<15}{wall:>9.1f}{usage.prompt_tokens:>9}{usage.cached_tokens:>9}{usage.completion_tokens:>9}"
            f"{usage.calls:>7}{result.retries:>9}{overhead / wall:>9.1%}{usage.cache_hits:>12}"
        )
    naive, default, again = rows if len(rows) == 3 else (None, *rows)
    bound = default[1].usage.completion_tokens / rate_n
    print(f"{'(c) lower bound':<15}{bound:>9.1f}   (completion tokens of (b) / {rate_n:.1f} tok/s)")
    cached_share = default[1].usage.cached_tokens / max(1, default[1].usage.prompt_tokens)
    print()
    if naive is not None:
        print(f"(b)/(a) wall: {default[2] / naive[2]:.2f}   target <= 0.60")
    print(f"(b) cached prompt share: {cached_share:.0%}   target >= 60%")
    print(f"(b) agent overhead: {max(0.0, default[2] - default[3]) / default[2]:.1%}   target <= 3%")
    print(f"peak RSS (process incl. embedded model): {peak_rss_mb:.0f} MB   target < 1536 MB")
    print(f"(b)/(c): {default[2] / bound:.2f}x the lower bound")
    print(f"(d)/(b) wall: {again[2] / default[2]:.2f} (a repeated draft, answered from the response cache)")
    print("Note: the two runs may take different numbers of re-asks; compare per-call figures too.")


if __name__ == "__main__":
    main()
