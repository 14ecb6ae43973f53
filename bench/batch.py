"""Benchmark ``specdraft batch`` throughput and client CPU per request (prints figures; not a test).

    .venv/bin/python bench/batch.py                 # 32 briefs, 0.1 s answers, --parallel 1, --jobs 1 and 16
    .venv/bin/python bench/batch.py --briefs 40 --delay 0.25 --parallel 4 --jobs 1 4 16   # the older run
    .venv/bin/python bench/batch.py --profile prof.out   # also cProfile the last --jobs run into prof.out
    .venv/bin/python bench/batch.py --embedded      # also 4 briefs on the embedded model at --jobs 1 and 4

Part 1 uses a fake OpenAI-compatible server on 127.0.0.1 (real HTTP, in its own process) that answers
valid section JSON after a fixed delay (0.1 s by default), so the wall time measures what the agent adds
around the model. The default is the throughput goal's configuration: 32 briefs, one section at a time
per brief (--parallel 1), so the ratio of --jobs 16 to --jobs 1 measures concurrency across briefs;
--jobs 16 runs in two waves of 16 briefs, so the ideal speed-up is 32 / 2 = 16x and the goal is 10x.
"CPU/req" is the process CPU time (user + system, all threads) of this bench
process during run_batch divided by the HTTP requests the server answered: the whole client side
(planning, prompt rendering, response cache, the OpenAI SDK, HTTP, validation, quality and grounding
checks, rendering each spec, writing specs and reports). Nothing is subtracted; the fake server's CPU
is not in it (another process). The "before" columns were measured on the same machine with the same
command: the default run at GOAL_BEFORE_COMMIT, the older 40-brief run at BEFORE_COMMIT.
Part 2 drafts 4 briefs on the embedded llama.cpp model (one server with --jobs slots) and prints the
generated tokens per second; continuous batching should make --jobs 4 faster than --jobs 1.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from agent.drafting.batch import BatchJob, BatchReport, run_batch  # noqa: E402
from agent.drafting.batch_inputs import load_inputs  # noqa: E402
from agent.drafting.drafter import DraftOptions  # noqa: E402
from agent.llm.providers import ModelSettings, Provider  # noqa: E402
from agent.specdoc.template_resolver import load_template  # noqa: E402


@contextmanager
def fake_server(delay: float) -> Iterator[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "tests" / "helpers" / "fault_server.py"),
            "slow",
            "--slow-seconds",
            str(delay),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])},
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


#: figures of ``bench/batch.py`` (40 briefs, 0.25 s answers) before the client-overhead work, measured
#: in one run at commit 7c93715: jobs -> (wall s, client CPU ms per request)
BEFORE_COMMIT = "7c93715"
BEFORE = {1: (82.21, 13.5), 4: (24.91, 13.4), 16: (27.29, 15.0)}

#: the throughput goal: (briefs, seconds per answer, --parallel) and the --jobs 16 / --jobs 1 ratio
GOAL_RUN = (32, 0.1, 1)
GOAL_RATIO = 10.0
#: the goal's run before the client called the OpenAI SDK directly (one run, 2026-12-06, load average
#: about 3 from a model benchmark, the stand-in server already with TCP_NODELAY): jobs -> (wall s, CPU/req ms)
GOAL_BEFORE_COMMIT = "f02090c"
GOAL_BEFORE = {1: (68.09, 10.4), 16: (9.45, 8.3)}

TOPICS = [
    "CSV export of invoices",
    "dark mode",
    "team invitations",
    "webhook retries",
    "audit log search",
    "single sign-on with SAML",
    "usage-based billing",
    "file uploads to S3",
    "two-factor authentication",
    "public status page",
    "API rate limits per key",
    "scheduled reports by e-mail",
    "bulk user import",
    "saved searches",
    "in-app notifications",
    "data retention policies",
    "Slack integration",
    "custom domains",
    "role-based access control",
    "account deletion (GDPR)",
]


def write_briefs(directory: Path, count: int) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        # beyond the list, the same topics again as distinct briefs (a part number in the title)
        topic = TOPICS[n % len(TOPICS)] + (f" (part {n // len(TOPICS) + 1})" if n >= len(TOPICS) else "")
        (directory / f"brief-{n:02d}.md").write_text(
            f"# {topic.capitalize()}\n\nCustomers ask for {topic}. It must work for workspaces of any size, "
            "respect each member's permissions, keep an audit trail and be observable in production. "
            "Support staff need to see what happened when something goes wrong.\n",
            encoding="utf-8",
        )
    return directory


def run_once(
    briefs: Path, out: Path, settings: ModelSettings, template: str, jobs: int, parallel: int = 4
) -> tuple[float, float, BatchReport]:
    """(wall seconds, process CPU seconds, report) of one batch."""
    loaded = load_inputs(str(briefs))
    options = DraftOptions(max_retries=2, keep_going=True, parallel=parallel)
    job = BatchJob(
        items=loaded.items,
        output_dir=out,
        template=load_template(template),
        settings=settings,
        options=options,
        jobs=jobs,
        force=True,
    )
    started, cpu = time.perf_counter(), time.process_time()
    report = run_batch(job)
    return time.perf_counter() - started, time.process_time() - cpu, report


def fake_part(
    count: int, delay: float, template: str, jobs_list: list[int], parallel: int, profile: str | None
) -> None:
    print(
        f"## Fake server: {count} briefs, template {template}, {delay:.2f} s per model answer,"
        f" --parallel {parallel}"
    )
    print(
        f"{'jobs':>5} {'wall s':>8} {'specs/min':>10} {'vs jobs 1':>10} {'ideal':>6} {'peak req':>9}"
        f" {'requests':>9} {'CPU/req ms':>11} | {'before: wall s':>14} {'vs 1':>6} {'CPU/req ms':>11}"
    )
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        # a response cache of its own: every run asks the server (and pays for writing the cache)
        os.environ["SPECDRAFT_CACHE_DIR"] = str(Path(tmp) / "cache")
        briefs = write_briefs(Path(tmp) / "briefs", count)
        for jobs in jobs_list:
            # The server runs in its own process, as a real one would: it must not share our GIL.
            with fake_server(delay) as base_url:
                settings = ModelSettings(provider=Provider.compatible, base_url=(base_url,), slots=jobs)
                out = Path(tmp) / f"out-{jobs}"
                out.mkdir()
                profiled = profile is not None and jobs == jobs_list[-1]
                with profiling(profile if profiled else None):
                    wall, cpu, report = run_once(briefs, out, settings, template, jobs, parallel)
                # every brief drafted; the fake's made-up answers may leave a section marked (each run alike)
                assert report.count("ok") + report.count("attention") == count, report.as_dict()["totals"]
                with urllib.request.urlopen(f"{base_url}/stats") as response:
                    stats = json.load(response)
                peak, calls = stats["max_in_flight"], stats["requests"]
            rate = count / wall * 60
            base = base or rate
            ideal = count / math.ceil(count / jobs)
            line = (
                f"{jobs:>5} {wall:>8.2f} {rate:>10.1f} {rate / base:>9.2f}x {ideal:>5.1f}x {peak:>9}"
                f" {calls:>9} {cpu / calls * 1000:>11.1f} |"
            )
            before = {(40, 0.25, 4): BEFORE, GOAL_RUN: GOAL_BEFORE}.get((count, delay, parallel), {})
            if jobs in before and 1 in before:
                old_wall, old_cpu = before[jobs]
                line += f" {old_wall:>14.2f} {before[1][0] / old_wall:>5.2f}x {old_cpu:>11.1f}"
            print(line + (" (profiled)" if profiled else ""), flush=True)
    if (count, delay, parallel) == (40, 0.25, 4):
        print(f"before: measured at commit {BEFORE_COMMIT} with the same command (40 briefs, 0.25 s answers)")
    if (count, delay, parallel) == GOAL_RUN:
        print(f"before: measured at commit {GOAL_BEFORE_COMMIT} with the same command")
        print(
            f"goal: --jobs 16 >= {GOAL_RATIO:.0f}x --jobs 1 ({count} briefs, {delay} s answers, --parallel 1)"
        )


@contextmanager
def profiling(path: str | None) -> Iterator[None]:
    """cProfile the block into ``path`` (nothing when None); its CPU counts in the figures printed.
    The profiler's clock is CPU time, so the event loop's idle waits for the server do not count."""
    if path is None:
        yield
        return
    import cProfile

    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def embedded_part(count: int, template: str, jobs_list: list[int]) -> None:
    print(f"\n## Embedded model: {count} briefs, template {template}")
    print(f"{'jobs':>5} {'wall s':>8} {'gen tokens':>11} {'tok/s':>7} {'vs 1':>6} {'ok/attn/failed':>15}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        briefs = write_briefs(Path(tmp) / "briefs", count)
        for jobs in jobs_list:
            out = Path(tmp) / f"out-{jobs}"
            out.mkdir()
            settings = ModelSettings(provider=Provider.local, slots=jobs)
            wall, _cpu, report = run_once(briefs, out, settings, template, jobs)
            tokens = sum(r.completion_tokens for r in report.records)
            load = 0.0  # model load is inside the wall time; subtract nothing, it is the same for both
            rate = tokens / (wall - load)
            base = base or rate
            states = f"{report.count('ok')}/{report.count('attention')}/{report.count('failed')}"
            print(f"{jobs:>5} {wall:>8.1f} {tokens:>11} {rate:>9.1f} {rate / base:>9.2f}x {states:>15}")


def warm_up() -> None:
    """Import the client libraries before timing, so --jobs 1 does not pay for them alone."""
    import langchain_openai  # noqa: F401
    import openai  # noqa: F401


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--briefs", type=int, default=GOAL_RUN[0])
    parser.add_argument(
        "--delay", type=float, default=GOAL_RUN[1], help="seconds the fake server takes per answer"
    )
    parser.add_argument("--template", default="tech-spec")
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 16])
    parser.add_argument(
        "--parallel", type=int, default=GOAL_RUN[2], help="sections in flight per brief (default 1)"
    )
    parser.add_argument("--profile", metavar="FILE", help="cProfile the last --jobs run into FILE")
    parser.add_argument(
        "--embedded", action="store_true", help="also run 4 briefs on the embedded model (minutes)"
    )
    parser.add_argument("--embedded-template", default="adr")
    args = parser.parse_args()
    warm_up()
    fake_part(args.briefs, args.delay, args.template, args.jobs, args.parallel, args.profile)
    if args.embedded:
        embedded_part(4, args.embedded_template, [1, 4])


if __name__ == "__main__":
    main()
