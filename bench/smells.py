"""Benchmark: requirement-smell detection against a labelled corpus, per language.

Reads JSON Lines files ({"text", "smells": [labels]}, [] for a clean requirement): by default every
corpus of tests/data/smells/, ``requirements.jsonl`` (English) and ``requirements.<code>.jsonl`` (German
``de``, Spanish ``es``), each judged by its language's rules. Prints precision and recall per smell rule
(label level) and overall (requirement level: a smelly requirement counts as detected when any rule
fires), for English also the word list lint used before the smell rules (``vague-wording``), for
comparison, and the time per requirement.
Run: ``python bench/smells.py [corpus.jsonl] [--language CODE] [--json] [--misses]``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agent.specdoc.smell_lexicons import detect_in, judged_rules  # noqa: E402
from agent.specdoc.smells import SMELLS  # noqa: E402

CORPORA = ROOT / "tests/data/smells"

# The vague-wording word list lint had before the smell rules (kept here only for the comparison).
_OLD_VAGUE = re.compile(
    r"\b(fast|faster|quick(ly)?|slow|robust|scalable|user[- ]friendly|secure(ly)?|efficient(ly)?|performant|"
    r"reliabl[ey]|intuitive|easy|easily|simple|seamless(ly)?|flexible|responsive|lightweight|"
    r"high[- ]performance|highly available|minimal|optimal|optimi[sz]ed|sufficient|adequate|appropriate|"
    r"reasonable|as needed|as soon as possible|asap|real[- ]time|instant(ly)?|modern|best practices?)\b",
    re.IGNORECASE,
)


def old_vague_wording(text: str) -> bool:
    return not re.search(r"\d", text) and bool(_OLD_VAGUE.search(text))


def _ratio(num: int, den: int) -> float:
    return num / den if den else 1.0


def evaluate(rows: list[dict[str, object]], language: str = "en") -> dict[str, object]:
    judged = judged_rules(language)
    per_rule = {rule: {"tp": 0, "fp": 0, "fn": 0} for rule in SMELLS if rule in judged}
    overall = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    old = {"tp": 0, "fp": 0, "fn": 0, "tn": 0}
    misses: list[str] = []
    start = time.perf_counter()
    for row in rows:
        text = str(row["text"])
        labels = {f"smell-{label}" for label in row["smells"]}  # type: ignore[attr-defined]
        fired = {smell.rule for smell in detect_in(text, language)}
        for rule, counts in per_rule.items():
            if rule in fired and rule in labels:
                counts["tp"] += 1
            elif rule in fired:
                counts["fp"] += 1
            elif rule in labels:
                counts["fn"] += 1
        for counts, hit in ((overall, bool(fired)), (old, old_vague_wording(text))):
            key = ("tp" if hit else "fn") if labels else ("fp" if hit else "tn")
            counts[key] += 1
        if fired != labels:
            misses.append(f"labels {sorted(labels)} fired {sorted(fired)}: {text}")
    elapsed = time.perf_counter() - start

    def figures(counts: dict[str, int]) -> dict[str, float | int]:
        return {
            **counts,
            "precision": round(_ratio(counts["tp"], counts["tp"] + counts["fp"]), 3),
            "recall": round(_ratio(counts["tp"], counts["tp"] + counts["fn"]), 3),
        }

    return {
        "language": language,
        "requirements": len(rows),
        "smelly": sum(1 for row in rows if row["smells"]),
        "rules": {rule: figures(counts) for rule, counts in per_rule.items()},
        "overall": figures(overall),
        "old_vague_wording": figures(old),
        "us_per_requirement": round(elapsed / max(len(rows), 1) * 1e6, 1),
        "misses": misses,
    }


def corpus_language(path: Path) -> str:
    """``requirements.de.jsonl`` -> ``de``; ``requirements.jsonl`` -> ``en``."""
    parts = path.name.split(".")
    return parts[-2] if len(parts) == 3 else "en"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", help="one corpus (default: every corpus of tests/data/smells)")
    parser.add_argument("--language", help="the corpus's language (default: from its name)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--misses", action="store_true", help="list requirements where rules and labels differ"
    )
    args = parser.parse_args()
    corpora = (
        [Path(args.corpus)]
        if args.corpus
        else sorted(CORPORA.glob("requirements*.jsonl"), key=_english_first)
    )
    results = []
    for corpus in corpora:
        rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
        results.append((corpus, evaluate(rows, args.language or corpus_language(corpus))))
    if args.json:
        shown = [r if args.misses else {k: v for k, v in r.items() if k != "misses"} for _, r in results]
        print(json.dumps(shown[0] if args.corpus else shown, indent=2))
        return 0
    for index, (corpus, result) in enumerate(results):
        if index:
            print()
        _print(corpus, result, misses=args.misses)
    return 0


def _english_first(path: Path) -> tuple[int, str]:
    return (0 if corpus_language(path) == "en" else 1, path.name)


def _print(corpus: Path, result: dict[str, object], *, misses: bool) -> None:
    english = result["language"] == "en"
    language = "" if english else f", {result['language']}"
    print(f"corpus: {corpus} ({result['requirements']} requirements, {result['smelly']} smelly{language})")
    print(f"{'rule':<24} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>10} {'recall':>8}")
    rules: dict[str, dict[str, float]] = result["rules"]  # type: ignore[assignment]
    for rule, f in rules.items():
        print(
            f"{rule:<24} {f['tp']:>4} {f['fp']:>4} {f['fn']:>4} {f['precision']:>10.2f} {f['recall']:>8.2f}"
        )
    for name in ("overall", "old_vague_wording") if english else ("overall",):
        f = result[name]  # type: ignore[assignment]
        label = "overall (requirement)" if name == "overall" else "old vague-wording"
        print(
            f"{label:<24} {f['tp']:>4} {f['fp']:>4} {f['fn']:>4} {f['precision']:>10.2f} {f['recall']:>8.2f}"
        )
    print(f"time: {result['us_per_requirement']} us per requirement")
    if misses:
        print("\n".join(result["misses"]))  # type: ignore[arg-type]


if __name__ == "__main__":
    raise SystemExit(main())
