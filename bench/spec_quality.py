"""Benchmark: is the spec the default model writes worth reviewing, and how long does it take?

Drafts the demo brief and the briefs under bench/briefs/ (or the ``--brief`` files) with one model on
the embedded engine (no response cache), one brief after the other on one server, writes each spec
under ``--out`` and prints, per brief: wall time, calls, prompt/completion tokens, the engine's
generation speed, sections marked [NEEDS ATTENTION], brief coverage, off-topic findings, items copied
from the prompt's worked examples, then a per-section table (status, attempts, completion tokens,
seconds, why it was marked). The goals of docs/performance.md are printed beside the figures.

``--policy`` drafts with named size tiers' re-ask policies (agent.drafting.policy.TIERS) instead of
the one chosen for the model, to compare settings side by side in one run (``--policy small,medium``).
Not a timed test: the figures depend on the machine's load, so compare runs made one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.drafting.brief import Brief, load_brief  # noqa: E402
from agent.drafting.copying import copies_example  # noqa: E402
from agent.drafting.drafter import DraftOptions, EventKind, ResultStatus, SectionEvent  # noqa: E402
from agent.drafting.examples import all_example_values  # noqa: E402
from agent.drafting.policy import TIERS, ReaskPolicy, tier_named  # noqa: E402
from agent.drafting.service import adraft_with_endpoint  # noqa: E402
from agent.llm.client import ChatClient  # noqa: E402
from agent.llm.providers import Endpoint, ModelSettings, open_endpoint  # noqa: E402
from agent.signoff.eval import score  # noqa: E402
from agent.specdoc.document import parse_spec  # noqa: E402
from agent.specdoc.grounding import extract  # noqa: E402
from agent.specdoc.template_resolver import load_template, read_template_outline  # noqa: E402

DEMO_BRIEF = ROOT / "examples" / "briefs" / "team-invitations.md"
#: the goals of issue "a spec worth reviewing from the offline default" (docs/performance.md)
GOAL_SECONDS, GOAL_MARKED, GOAL_COVERAGE = 600, 2, 0.8


@dataclass
class BriefFigures:
    brief: str
    policy: str = ""
    wall: float = 0.0
    calls: int = 0
    prompt: int = 0
    cached: int = 0
    completion: int = 0
    speed: float | None = None
    marked: int = 0
    coverage: float | None = None
    off_topic: int = 0
    copied: int = 0
    rows: list[tuple[str, str, int, int, float, str]] = field(default_factory=list)
    #: section title -> every problem and the last answer of a marked section (--show-rejected)
    rejected: dict[str, tuple[list[str], str]] = field(default_factory=dict)


def copied_example_items(markdown: str, brief: Brief) -> int:
    """Lines of the spec that repeat one of the prompt's worked examples (beyond the brief's own words),
    judged by the drafting check itself (agent.drafting.copying)."""
    examples = all_example_values()
    terms = extract(brief.body, brief.title).terms
    lines = [line.lstrip("-*[] x").strip() for line in markdown.split("\n---\n", 1)[-1].splitlines()]
    return sum(1 for line in lines if len(line.split()) >= 4 and copies_example(line, examples, terms))


async def draft_one(
    endpoint: Endpoint, settings: ModelSettings, options: DraftOptions, brief_path: Path, out: Path
) -> BriefFigures:
    brief = load_brief(str(brief_path))
    template = load_template("tech-spec")
    client = ChatClient(endpoint, settings, None)
    figures = BriefFigures(brief_path.stem, options.policy.name if options.policy else "by model")
    started = time.perf_counter()
    outcome = await adraft_with_endpoint(
        endpoint, brief, template, settings, options, _quiet, client=client, spec_path=out
    )
    figures.wall = time.perf_counter() - started
    out.write_text(outcome.markdown, encoding="utf-8")
    usage = outcome.result.usage
    figures.calls, figures.prompt, figures.completion = (
        usage.calls,
        usage.prompt_tokens,
        usage.completion_tokens,
    )
    figures.cached = usage.cached_tokens
    figures.speed = client.speed.tokens_per_second
    card = score(
        parse_spec(outcome.markdown, source=str(out)),
        read_template_outline(template.path),
        extract(brief.body, brief.title),
    )
    figures.marked = len(outcome.result.needs_attention)
    figures.coverage = card["brief_coverage"]
    figures.off_topic = card["off_topic"]
    figures.copied = copied_example_items(outcome.markdown, brief)
    for result in outcome.result.sections.values():
        why = result.problems[0] if result.problems else ""
        if result.dropped:
            why = f"kept, {len(result.dropped)} part(s) dropped or asked: {result.dropped[0]}"
        if result.status is not ResultStatus.OK:
            figures.rejected[result.title] = (result.problems, result.rejected_answer)
        figures.rows.append(
            (
                result.title,
                result.status,
                result.attempts,
                result.usage.completion_tokens,
                result.seconds,
                why,
            )
        )
    return figures


def _quiet(event: SectionEvent) -> None:
    if event.kind in (EventKind.DONE, EventKind.ATTENTION):
        print(f"  {event.kind:<9} {event.title}", flush=True)


def print_figures(figures: BriefFigures, *, show_rejected: bool = False) -> None:
    speed = f"{figures.speed:.1f}" if figures.speed else "?"
    coverage = f"{figures.coverage:.2f}" if figures.coverage is not None else "-"
    print(
        f"{figures.brief} [{figures.policy}]: wall {figures.wall:.0f} s, {figures.calls} calls, "
        f"{figures.prompt} prompt ({figures.cached} cached) + {figures.completion} completion tokens, "
        f"{speed} tok/s; marked {figures.marked}/18, coverage {coverage}, off-topic {figures.off_topic}, "
        f"copied-example items {figures.copied}",
        flush=True,
    )
    print(f"  {'section':<30}{'status':<10}{'att':>4}{'tokens':>8}{'s':>6}  why marked")
    for title, status, attempts, tokens, seconds, why in figures.rows:
        print(f"  {title[:29]:<30}{status:<10}{attempts:>4}{tokens:>8}{seconds:>6.0f}  {why[:110]}")
    if show_rejected:
        for title, (problems, answer) in figures.rejected.items():
            print(f"  -- {title}: " + " | ".join(problems))
            print(f"     {answer[:1500]}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--brief", type=Path, action="append", help="Brief(s) to draft (default: demo + bench/briefs)."
    )
    parser.add_argument("--model", help="A pulled catalogue model (default: the one `draft` would use).")
    parser.add_argument("--model-path", type=Path, help="Any GGUF file.")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--max-retries", type=int, default=None)
    parser.add_argument(
        "--policy", default="", help="Comma-separated size tiers to compare (default: by model)."
    )
    parser.add_argument(
        "--show-rejected",
        action="store_true",
        help="Print every problem and the last answer of marked sections.",
    )
    parser.add_argument("--out", type=Path, default=Path("out/bench"))
    args = parser.parse_args()

    briefs = args.brief or [DEMO_BRIEF, *sorted((ROOT / "bench" / "briefs").glob("*.md"))]
    args.out.mkdir(parents=True, exist_ok=True)
    settings = ModelSettings(
        model=args.model,
        model_path=args.model_path,
        slots=args.parallel,
        use_cache=False,
        timeout=args.timeout,
    )
    policies = [p.strip() for p in args.policy.split(",") if p.strip()] or [""]
    done: list[BriefFigures] = []
    with open_endpoint(settings) as endpoint:
        print(f"model {endpoint.model} loaded in {endpoint.load_seconds:.1f} s", flush=True)
        for policy_name in policies:
            options = DraftOptions(
                parallel=args.parallel, probe=True, max_retries=args.max_retries, policy=_policy(policy_name)
            )
            for brief_path in briefs:
                suffix = f"-{policy_name}" if policy_name else ""
                out = args.out / f"{brief_path.stem}{suffix}.md"
                print(f"drafting {brief_path.name} {policy_name}...", flush=True)
                figures = asyncio.run(draft_one(endpoint, settings, options, brief_path, out))
                print_figures(figures, show_rejected=args.show_rejected)
                done.append(figures)
    print(
        f"{'brief':<24}{'policy':<12}{'wall s':>8}{'compl':>8}{'tok/s':>7}"
        f"{'marked':>7}{'cover':>7}{'off':>5}{'copy':>5}"
    )
    for f in done:
        cover = f"{f.coverage:.2f}" if f.coverage is not None else "-"
        speed = f"{f.speed:.1f}" if f.speed else "?"
        print(
            f"{f.brief[:23]:<24}{f.policy[:11]:<12}{f.wall:>8.0f}{f.completion:>8}{speed:>7}"
            f"{f.marked:>7}{cover:>7}{f.off_topic:>5}{f.copied:>5}"
        )
    print(
        f"goals: wall <= {GOAL_SECONDS} s, marked <= {GOAL_MARKED}, "
        f"coverage >= {GOAL_COVERAGE}, off-topic 0, copied 0"
    )


def _policy(name: str) -> ReaskPolicy | None:
    """A size tier's policy by name ("tiny", "small", "medium", "large"), or None: chosen by the model."""
    if not name:
        return None
    try:
        return tier_named(name).policy
    except KeyError:
        raise SystemExit(f"unknown tier {name!r}: one of {', '.join(t.name for t in TIERS)}") from None


if __name__ == "__main__":
    main()
