"""Benchmark: every answer check over the labelled corpus of section answers.

Runs the schema, quality, prompt-leak, grounding and language checks on every answer of
tests/data/answers/ (good answers a careful engineer would accept, degenerate ones mined from the small
model's cassettes or built in the shapes small models produce) and of the German, Spanish and Chinese
corpora (tests/data/answers-de/, answers-es/, answers-zh/: good answers, answers that reword the
template's instructions, loop or say nothing specific), each judged in its language, and prints per
corpus and per check the good answers it rejects and the degenerate answers it catches, the overall
figures against the goals, the degenerate kinds, and a summary line per language. ``--show`` lists every
false reject and every miss with its reasons; ``--compare BEFORE.json`` (an earlier ``--json``) prints
each language's figures before and after.
Run: ``python bench/checks.py [--show] [--json] [--language en|de|es|zh] [--compare BEFORE.json]``; it
exits 1 when a goal is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from helpers.answers import (  # noqa: E402
    CORPORA,
    MAX_GOOD_REJECTED,
    MAX_GOOD_REJECTED_PER_CHECK,
    MIN_DEGENERATE_CAUGHT,
    Report,
    evaluate,
)


def _share(count: int, total: int) -> str:
    return f"{count:>4} {count / max(1, total):>6.1%}"


def print_report(report: Report, *, show: bool) -> None:
    good, bad = len(report.good), len(report.degenerate)
    print(f"corpus: {len(report.verdicts)} answers ({good} good, {bad} degenerate)")
    print(f"{'check':<16} {'good rejected':>13} {'degenerate caught':>18}")
    for check, (rejected, caught) in report.per_check().items():
        print(f"{check:<16} {_share(rejected, good):>13} {_share(caught, bad):>18}")
    rejected, caught = len(report.false_rejects), bad - len(report.misses)
    print(f"{'overall':<16} {_share(rejected, good):>13} {_share(caught, bad):>18}")
    print(
        f"goals: good rejected <= {MAX_GOOD_REJECTED:.0%} overall and <= {MAX_GOOD_REJECTED_PER_CHECK:.0%} "
        f"per check; degenerate caught >= {MIN_DEGENERATE_CAUGHT:.0%}"
    )
    print(f"\n{'degenerate kind':<16} {'answers':>7} {'caught':>13}  caught by")
    for kind, (total, found, by) in report.per_kind().items():
        checks = ", ".join(f"{check} {n}" for check, n in by.most_common())
        print(f"{kind:<16} {total:>7} {_share(found, total):>13}  {checks}")
    failed = report.failed_goals()
    print("\n" + ("goals met" if not failed else "goals missed: " + "; ".join(failed)))
    if show:
        print(f"\nfalse rejects ({len(report.false_rejects)}):")
        for verdict in report.false_rejects:
            print(f"- {verdict.case.name}")
            for reason in verdict.reasons():
                print(f"    {reason}")
        print(f"\nmisses ({len(report.misses)}):")
        for verdict in report.misses:
            note = f" - {verdict.case.note}" if verdict.case.note else ""
            print(f"- {verdict.case.name}{note}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", action="store_true", help="list every false reject and miss with reasons")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--language", choices=sorted(CORPORA), help="one corpus only (default: every one)")
    parser.add_argument("--compare", type=Path, help="figures of an earlier --json run, shown beside these")
    args = parser.parse_args()
    before = json.loads(args.compare.read_text(encoding="utf-8")) if args.compare else {}
    failed = False
    figures: dict[str, dict[str, Any]] = {}
    for language in [args.language] if args.language else list(CORPORA):
        started = time.perf_counter()
        report = evaluate(language=language)
        elapsed = time.perf_counter() - started
        failed = failed or bool(report.failed_goals())
        figures[language] = _figures(report, elapsed)
        if not args.json:
            print(f"== {language}: {CORPORA[language].relative_to(ROOT)}")
            print_report(report, show=args.show)
            print(f"time: {elapsed:.1f} s\n")
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print_summary(figures, before)
    return 1 if failed else 0


def print_summary(figures: dict[str, dict[str, Any]], before: dict[str, dict[str, Any]]) -> None:
    """One line per language: its corpus, the good answers rejected and the degenerate ones caught
    (with the figures of ``before``, an earlier ``--json``, where it has the language)."""
    columns = ("good", "degenerate", "good rejected", "degenerate caught")
    print(f"{'language':<9} {columns[0]:>5} {columns[1]:>10} {columns[2]:>22} {columns[3]:>24}  goals")
    for language, now in figures.items():
        was = before.get(language)
        rejected = _change(was and was["good_rejected_share"], now["good_rejected_share"])
        caught = _change(was and was["degenerate_caught_share"], now["degenerate_caught_share"])
        goals = "met" if not now["failed_goals"] else "missed"
        print(f"{language:<9} {now['good']:>5} {now['degenerate']:>10} {rejected:>22} {caught:>24}  {goals}")


def _change(before: float | None, after: float) -> str:
    return f"{after:.1%}" if before is None else f"{before:.1%} -> {after:.1%}"


def _figures(report: Report, elapsed: float) -> dict[str, Any]:
    return {
        "good": len(report.good),
        "degenerate": len(report.degenerate),
        "checks": {
            c: {"good_rejected": r, "degenerate_caught": d} for c, (r, d) in report.per_check().items()
        },
        "good_rejected_share": round(report.good_rejected_share(), 4),
        "degenerate_caught_share": round(report.degenerate_caught_share(), 4),
        "kinds": {k: {"answers": t, "caught": f} for k, (t, f, _) in report.per_kind().items()},
        "failed_goals": report.failed_goals(),
        "seconds": round(elapsed, 2),
    }


if __name__ == "__main__":
    raise SystemExit(main())
