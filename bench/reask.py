"""Benchmark: does a re-ask turn a rejected answer into a valid one, and today's policy against the new one.

Drafts the demo brief with the embedded model (no response cache) under two settings, one after the
other, on the same server:

* new:   the re-ask policy chosen for the model's size (agent.drafting.policy.policy_for; ``--tier``
         names another size tier's instead), completion budgets and parallel calls fitted to the
         measured engine speed, a speed probe first;
* today: the classic policy (two re-asks for every model), fixed budgets and --parallel slots.

Prints, per run, the wall time and usage as soon as it ends (flushed, so a long run can be followed
in a log), then one table per section: first-attempt pass rate, re-ask success rate (rejected answers
that a later attempt turned into a valid one), attempts, seconds. ``--today-first`` runs "today" first.
``--model`` (a pulled catalogue model) or ``--model-path`` (any GGUF) bench another model than the one
a draft would use, e.g. to tune the tiers of agent/drafting/policy.py for it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.drafting.brief import load_brief  # noqa: E402
from agent.drafting.drafter import Drafter, DraftOptions, EventKind, ResultStatus, SectionEvent  # noqa: E402
from agent.drafting.policy import CLASSIC, TIERS, tier_for, tier_named  # noqa: E402
from agent.llm.client import ChatClient  # noqa: E402
from agent.llm.providers import ModelSettings, open_endpoint  # noqa: E402
from agent.specdoc.template_resolver import load_template  # noqa: E402


@dataclass
class SectionStats:
    runs: int = 0
    first_ok: int = 0
    rejected_first: int = 0
    rescued: int = 0
    attempts: int = 0
    seconds: float = 0.0
    timeouts: int = 0


@dataclass
class RunFigures:
    name: str
    wall: float = 0.0
    calls: int = 0
    completion: int = 0
    prompt: int = 0
    marked: list[str] = field(default_factory=list)
    timed_out: list[str] = field(default_factory=list)
    speed: float | None = None
    #: section title -> the first problem of each rejected attempt, in order
    reasons: dict[str, list[str]] = field(default_factory=dict)


def draft_once(name: str, endpoint, settings, options, brief_path, stats) -> RunFigures:  # type: ignore[no-untyped-def]
    brief = load_brief(brief_path)
    template = load_template("tech-spec")
    client = ChatClient(endpoint, settings, None)
    figures = RunFigures(name)
    retried: dict[str, list[str]] = defaultdict(list)

    def on_event(event: SectionEvent) -> None:
        if event.kind is EventKind.RETRY:
            retried[event.key].extend(event.problems[:1])

    started = time.perf_counter()
    result = asyncio.run(Drafter(client, brief, template, options, on_event).draft())
    figures.wall = time.perf_counter() - started
    figures.calls = result.usage.calls
    figures.completion = result.usage.completion_tokens
    figures.prompt = result.usage.prompt_tokens
    figures.speed = client.speed.tokens_per_second
    for section in result.sections.values():
        s = stats[(name, section.title)]
        s.runs += 1
        s.attempts += section.attempts
        s.seconds += section.seconds
        timed_out = any("did not answer" in p for p in retried[section.key] + section.problems)
        s.timeouts += int(timed_out)
        if section.status is ResultStatus.OK and section.attempts == 1:
            s.first_ok += 1
        else:
            s.rejected_first += 1
            s.rescued += int(section.status is ResultStatus.OK)
        rejected = retried[section.key] + (
            section.problems[:1] if section.status is not ResultStatus.OK else []
        )
        if rejected:
            figures.reasons[section.title] = rejected
        if section.status is not ResultStatus.OK:
            figures.marked.append(section.title)
            if section.problems and "did not answer" in section.problems[0]:
                figures.timed_out.append(section.title)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--brief", type=Path, default=ROOT / "examples" / "briefs" / "team-invitations.md")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--only", choices=("new", "today"), help="Run one of the two settings.")
    parser.add_argument("--today-first", action="store_true", help="Run today's policy first.")
    parser.add_argument(
        "--reasons", action="store_true", help="List why each rejected attempt was rejected, per run."
    )
    parser.add_argument("--model", help="A pulled catalogue model (default: the one a draft would use).")
    parser.add_argument("--model-path", type=Path, help="Any GGUF file, served by the embedded engine.")
    parser.add_argument(
        "--tier",
        choices=[tier.name for tier in TIERS],
        help="Draft 'new' with this size tier's policy instead of the one the model's size picks.",
    )
    args = parser.parse_args()

    settings = ModelSettings(
        model=args.model,
        model_path=args.model_path,
        slots=args.parallel,
        use_cache=False,
        timeout=args.timeout,
    )
    chosen = tier_named(args.tier).policy if args.tier else None
    runs = {
        "new": DraftOptions(parallel=args.parallel, probe=True, policy=chosen),
        "today": DraftOptions(parallel=args.parallel, policy=CLASSIC, fit_to_speed=False),
    }
    order = ["today", "new"] if args.today_first else ["new", "today"]
    order = [args.only] if args.only else order
    stats: dict[tuple[str, str], SectionStats] = defaultdict(SectionStats)
    done: list[RunFigures] = []
    with open_endpoint(settings) as endpoint:
        size = endpoint.model_size
        forced = f", drafted with tier {args.tier}" if args.tier else ""
        print(
            f"model {endpoint.model} ({size.label()}, from {size.source}: tier {tier_for(size.params).name}"
            f"{forced}) loaded in {endpoint.load_seconds:.1f} s",
            flush=True,
        )
        for name in order:
            print(f"drafting with {name} ...", flush=True)
            figures = draft_once(name, endpoint, settings, runs[name], args.brief, stats)
            done.append(figures)
            speed = f"{figures.speed:.1f} tok/s" if figures.speed else "unknown"
            print(
                f"{name}: wall {figures.wall:.0f} s, {figures.calls} calls, {figures.prompt} prompt + "
                f"{figures.completion} completion tokens, engine {speed}; marked {len(figures.marked)} "
                f"({', '.join(figures.marked) or '-'}); "
                f"lost to a timeout: {', '.join(figures.timed_out) or '-'}",
                flush=True,
            )
    print()
    print(
        f"{'run':<6} {'section':<28}{'1st pass':>9}{'re-ask ok':>10}"
        f"{'attempts':>9}{'seconds':>9}{'timeouts':>9}"
    )
    for (name, title), s in sorted(stats.items()):
        rescue = f"{s.rescued}/{s.rejected_first}" if s.rejected_first else "-"
        print(
            f"{name:<6} {title[:27]:<28}{s.first_ok}/{s.runs:<7}{rescue:>10}{s.attempts:>9}"
            f"{s.seconds:>9.0f}{s.timeouts:>9}"
        )
    if args.reasons:
        for figures in done:
            print()
            print(f"why attempts were rejected ({figures.name}):")
            for title, problems in sorted(figures.reasons.items()):
                for attempt, problem in enumerate(problems, start=1):
                    print(f"  {title[:27]:<28} #{attempt} {problem[:160]}")
    if len(done) == 2:
        new, today = (done[0], done[1]) if done[0].name == "new" else (done[1], done[0])
        print()
        print(f"new/today wall: {new.wall / today.wall:.2f}   target <= 0.33")
        print(f"marked: new {len(new.marked)}, today {len(today.marked)}   target new <= today")
        print(f"sections lost to a timeout (new): {len(new.timed_out)}   target 0")


if __name__ == "__main__":
    main()
